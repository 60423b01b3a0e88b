import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PublishedEventRecord, writeSeedCapture } from './seed-capture';
import { type ReceivedWebhook } from './webhook-receiver';

describe('writeSeedCapture', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'seed-capture-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('writes the format the seed verifier reads: base64 bodies and unix seconds', async () => {
    const published: PublishedEventRecord[] = [
      {
        id: 'evt_1',
        type: 'booking.created',
        scope: { centerId: 'ctr_1' },
        occurredAt: '2026-05-31T14:03:22.000Z',
        data: { bookingId: 'bk_1' },
      },
    ];
    // Not valid UTF-8 on purpose: the verifier checks signatures over the exact bytes.
    const body = Buffer.from([0x7b, 0xc3, 0xa9, 0xff, 0x00, 0x0d, 0x0a, 0x7d]);
    const answered: ReceivedWebhook = {
      method: 'POST',
      path: '/hooks/a?attempt=1',
      headers: { 'webhook-id': 'msg_1', 'content-type': 'application/json' },
      rawBody: body,
      receivedAt: 1_780_000_000_123,
      answer: { status: 500, delaySeconds: 0 },
    };
    const abandoned: ReceivedWebhook = {
      method: 'POST',
      path: '/hooks/a',
      headers: { 'webhook-id': 'msg_1' },
      rawBody: Buffer.alloc(0),
      receivedAt: 1_780_000_001_000,
      answer: { status: 200, delaySeconds: 30 },
      clientClosedAt: 1_780_000_011_500,
    };
    const unanswered: ReceivedWebhook = {
      method: 'GET',
      path: '/',
      headers: {},
      rawBody: Buffer.alloc(0),
      receivedAt: 1_780_000_002_000,
    };
    const file = join(directory, 'nested', 'capture.json');

    const before = Date.now() / 1000;
    await writeSeedCapture(file, {
      seed: 'retry-storm',
      secret: 'whsec_c2VjcmV0',
      timeScale: 3600,
      published,
      requests: [answered, abandoned, unanswered],
    });
    const after = Date.now() / 1000;

    const written = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(written)).toEqual([
      'seed',
      'secret',
      'timeScale',
      'capturedAt',
      'published',
      'requests',
    ]);
    expect(written).toMatchObject({ seed: 'retry-storm', secret: 'whsec_c2VjcmV0', timeScale: 3600 });
    expect(written['capturedAt']).toBeGreaterThanOrEqual(before);
    expect(written['capturedAt']).toBeLessThanOrEqual(after);
    expect(Number.isInteger(written['capturedAt'])).toBe(false);
    expect(written['published']).toEqual(published);

    const requests = written['requests'] as Record<string, unknown>[];
    expect(requests).toEqual([
      {
        method: 'POST',
        path: '/hooks/a?attempt=1',
        headers: { 'webhook-id': 'msg_1', 'content-type': 'application/json' },
        bodyBase64: body.toString('base64'),
        receivedAt: 1_780_000_000.123,
        answer: { status: 500, delaySeconds: 0 },
        clientClosedAt: null,
      },
      {
        method: 'POST',
        path: '/hooks/a',
        headers: { 'webhook-id': 'msg_1' },
        bodyBase64: '',
        receivedAt: 1_780_000_001,
        answer: { status: 200, delaySeconds: 30 },
        clientClosedAt: 1_780_000_011.5,
      },
      {
        method: 'GET',
        path: '/',
        headers: {},
        bodyBase64: '',
        receivedAt: 1_780_000_002,
        answer: null,
        clientClosedAt: null,
      },
    ]);
    expect(Buffer.from(requests[0]!['bodyBase64'] as string, 'base64').equals(body)).toBe(true);
  });
});
