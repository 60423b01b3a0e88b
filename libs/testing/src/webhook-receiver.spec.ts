import { rootCertificates } from 'node:tls';
import { Agent, request } from 'undici';
import { pollUntil } from './poll-until';
import { TEST_CA_CERT_PATH, testTlsCredentials } from './test-tls';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver';

describe('startWebhookReceiver', () => {
  let receiver: WebhookReceiver;
  let trustingTestCa: Agent;

  beforeEach(async () => {
    receiver = await startWebhookReceiver();
    trustingTestCa = new Agent({ connect: { ca: testTlsCredentials().ca } });
  });

  afterEach(async () => {
    await receiver.close();
    await trustingTestCa.destroy();
  });

  async function post(
    path: string,
    body: string | Buffer = '{}',
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ) {
    const response = await request(receiver.url(path), {
      dispatcher: trustingTestCa,
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
      signal,
    });
    return { status: response.statusCode, headers: response.headers, body: await response.body.text() };
  }

  it('serves HTTPS as localhost with a certificate of the test CA, and records the exact bytes', async () => {
    expect(TEST_CA_CERT_PATH).toMatch(/fixtures[/\\]tls[/\\]ca\.pem$/);
    expect(new URL(receiver.origin).hostname).toBe('localhost');
    expect(receiver.url('/hooks/a')).toBe(`${receiver.origin}/hooks/a`);
    receiver.setBehaviour(() => ({ status: 202, headers: { 'x-answer': 'yes' }, body: 'accepted' }));
    const bytes = Buffer.from([0x7b, 0x22, 0xc3, 0xa9, 0xff, 0x00, 0x0d, 0x0a, 0x22, 0x7d]);

    const response = await post('/hooks/a?attempt=1', bytes, { 'webhook-id': 'msg_1' });

    expect(response).toMatchObject({ status: 202, headers: { 'x-answer': 'yes' }, body: 'accepted' });
    expect(receiver.received).toHaveLength(1);
    const [webhook] = receiver.receivedOn('/hooks/a?attempt=1');
    expect(webhook?.method).toBe('POST');
    expect(webhook?.headers['webhook-id']).toBe('msg_1');
    expect(webhook?.headers['content-type']).toBe('application/json');
    expect(webhook?.rawBody.equals(bytes)).toBe(true);
    expect(webhook?.receivedAt).toBeLessThanOrEqual(Date.now());
  });

  it('is not trusted without the test CA', async () => {
    // Only the public roots (this ignores NODE_EXTRA_CA_CERTS, which might name the test CA).
    const publicRootsOnly = new Agent({ connect: { ca: [...rootCertificates] } });
    try {
      const error = await request(receiver.url('/hooks/a'), {
        dispatcher: publicRootsOnly,
        method: 'POST',
        body: '{}',
      }).then(
        () => undefined,
        (rejection: unknown) => rejection as NodeJS.ErrnoException,
      );
      expect(error?.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
      expect(receiver.received).toHaveLength(0);
    } finally {
      await publicRootsOnly.destroy();
    }
  });

  it('answers by path and by how many requests that path has had', async () => {
    receiver.setBehaviour((webhook, nth) =>
      webhook.path === '/flaky' && nth === 1 ? { status: 500, body: 'try again' } : { status: 200 },
    );

    expect((await post('/flaky')).status).toBe(500);
    expect((await post('/steady')).status).toBe(200);
    expect((await post('/flaky')).status).toBe(200);

    expect(receiver.receivedOn('/flaky')).toHaveLength(2);
    expect(receiver.receivedOn('/steady')).toHaveLength(1);
    expect(receiver.receivedOn('/never')).toEqual([]);
    expect(receiver.received.map((webhook) => webhook.path)).toEqual(['/flaky', '/steady', '/flaky']);
  });

  it('answers 500 with the reason when the behaviour throws', async () => {
    receiver.setBehaviour(() => {
      throw new Error('no answer configured');
    });

    const response = await post('/hooks/a');

    expect(response.status).toBe(500);
    expect(response.body).toBe('webhook receiver behaviour threw: no answer configured');
    expect(receiver.received[0]?.answer).toEqual({ status: 500, delaySeconds: 0 });
  });

  it('records the answer it gave and leaves a completed answer without a hang-up', async () => {
    receiver.setBehaviour((webhook) =>
      webhook.path === '/delayed' ? { status: 503, delayMs: 50 } : { status: 204 },
    );

    expect((await post('/delayed')).status).toBe(503);
    expect((await post('/at-once')).status).toBe(204);
    // The client sends this on the connection it kept alive, so it reaches the receiver only after the
    // earlier answers were out in full (and their 'close' events had passed).
    expect((await post('/after')).status).toBe(204);

    const [delayed, atOnce] = receiver.received;
    expect(delayed?.answer).toEqual({ status: 503, delaySeconds: 0.05 });
    expect(atOnce?.answer).toEqual({ status: 204, delaySeconds: 0 });
    expect(delayed?.clientClosedAt).toBeUndefined();
    expect(atOnce?.clientClosedAt).toBeUndefined();
  });

  it('records when the sender hangs up while the answer is delayed', async () => {
    receiver.setBehaviour(() => ({ status: 200, delayMs: 30_000 }));
    const senderTimeout = new AbortController();
    const abandoned = post('/slow', '{}', {}, senderTimeout.signal);
    const [webhook] = await receiver.waitForCount('/slow', 1);
    expect(webhook?.answer).toEqual({ status: 200, delaySeconds: 30 });
    expect(webhook?.clientClosedAt).toBeUndefined();

    senderTimeout.abort(new Error('the sender timed out'));

    await expect(abandoned).rejects.toThrow('the sender timed out');
    const closedAt = await pollUntil(() => webhook?.clientClosedAt, { description: 'the hang-up recorded' });
    expect(closedAt).toBeGreaterThanOrEqual(webhook!.receivedAt);
    expect(closedAt).toBeLessThanOrEqual(Date.now());
  });

  it('keeps answering other requests while one is stalled', async () => {
    receiver.setBehaviour((webhook) =>
      webhook.path === '/slow' ? { status: 200, delayMs: 30_000 } : { status: 204 },
    );
    const slow = post('/slow').catch((error: unknown) => error);
    await receiver.waitForCount('/slow', 1);

    const startedAt = Date.now();
    expect((await post('/fast')).status).toBe(204);
    expect(Date.now() - startedAt).toBeLessThan(1_000);

    await receiver.close();
    expect(await slow).toBeInstanceOf(Error);
  });

  it('waits for requests still to come', async () => {
    const waiting = receiver.waitForCount('/later', 2);
    await post('/later');
    await post('/elsewhere');
    await post('/later');

    expect((await waiting).map((webhook) => webhook.path)).toEqual(['/later', '/later']);
    expect(await receiver.waitForCount(undefined, 3)).toHaveLength(3);
  });

  it('says what did arrive when the wait times out', async () => {
    await post('/a');
    await post('/b');
    await post('/b');

    await expect(receiver.waitForCount('/a', 2, 100)).rejects.toThrow(
      'expected 2 request(s) on /a within 100 ms: 1 arrived on /a; all 3 received: POST /a ×1, POST /b ×2',
    );
  });

  it('closes at once while a request is stalled', async () => {
    receiver.setBehaviour(() => ({ status: 200, delayMs: 60_000 }));
    const stalled = post('/stalled').catch((error: unknown) => error);
    await receiver.waitForCount('/stalled', 1);
    const pendingWait = receiver.waitForCount('/stalled', 2, 60_000);

    const startedAt = Date.now();
    await receiver.close();
    expect(Date.now() - startedAt).toBeLessThan(1_000);

    expect(await stalled).toBeInstanceOf(Error);
    // The receiver dropped that connection, the sender did not hang up.
    expect(receiver.received[0]?.clientClosedAt).toBeUndefined();
    await expect(pendingWait).rejects.toThrow(
      'webhook receiver closed before expected 2 request(s) on /stalled',
    );
    await receiver.close(); // closing twice is harmless
  });

  it('serves plain HTTP when asked', async () => {
    const plain = await startWebhookReceiver({ tls: false, behaviour: () => ({ status: 201 }) });
    try {
      expect(plain.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const response = await request(plain.url('/plain'), {
        dispatcher: trustingTestCa,
        method: 'POST',
        body: 'x',
      });
      await response.body.dump();
      expect(response.statusCode).toBe(201);
      expect(plain.receivedOn('/plain')[0]?.rawBody.toString()).toBe('x');
    } finally {
      await plain.close();
    }
  });
});
