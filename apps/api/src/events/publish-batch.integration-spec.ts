import { type InboundEvent } from '@skyhook/contracts';
import { topicNameOf } from '@skyhook/messaging';
import { pollUntil, readTopic } from '@skyhook/testing';
import { type ApiTestApp, createOrganisation, startApiTestApp } from '../test/api-test-app';
import { MAX_EVENTS_PER_BATCH, publishBatchResponseSchema } from './publish-event.schema';

describe('POST /v1/events/batch against real Kafka and Postgres', () => {
  let api: ApiTestApp;
  let apiKey: string;
  let inbound: Awaited<ReturnType<typeof readTopic>>;

  beforeAll(async () => {
    api = await startApiTestApp();
    ({ apiKey } = await createOrganisation(api));
    inbound = await readTopic(api.config.kafka.brokers, topicNameOf(api.config.kafka, 'inboundEvents'));
  });

  afterAll(async () => {
    await inbound.stop();
    await api.close();
  });

  const publishBatch = async (events: unknown, headers: Record<string, string> = {}) => {
    const response = await api.request({
      method: 'POST',
      url: '/v1/events/batch',
      key: apiKey,
      body: { events },
      headers,
    });
    if (response.status < 300) publishBatchResponseSchema.parse(response.body);
    return response;
  };

  const onTopic = (id: string): InboundEvent[] =>
    inbound.records
      .map((record) => JSON.parse(record.value) as InboundEvent)
      .filter((event) => event.id === id);

  /** Publishes a marker after the batch and waits for it: anything the batch produced is on the topic by then. */
  const settle = async (marker: string): Promise<void> => {
    await api.request({
      method: 'POST',
      url: '/v1/events',
      key: apiKey,
      body: { id: marker, type: 'booking.created', data: {} },
    });
    await pollUntil(() => onTopic(marker).length === 1, { description: `${marker} on the inbound topic` });
  };

  it('publishes the valid events and refuses each bad one in its own result, at its index', async () => {
    const response = await publishBatch([
      { id: 'b1-ok-1', type: 'booking.created', data: { seat: '1A' } },
      { type: 'booking.created' },
      { id: 'b1-unknown', type: 'invoice.paid', data: {} },
      { id: 'b1-ok-2', type: 'booking.cancelled', scope: { centerId: 'c9' }, data: { seat: '1B' } },
      { id: 'b1-big', type: 'booking.created', data: { blob: 'x'.repeat(300 * 1024) } },
      { id: 'b1-ok-1', type: 'booking.created', data: { seat: '1A' } },
      { id: 'b1-ok-2', type: 'booking.cancelled', data: { seat: '9Z' } },
      'not an event',
    ]);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ accepted: 2, duplicates: 1, rejected: 5 });
    const results = response.body['results'] as { index: number; status: string; error?: { code: string } }[];
    expect(results.map((result) => [result.index, result.status, result.error?.code])).toEqual([
      [0, 'accepted', undefined],
      [1, 'rejected', 'VALIDATION_FAILED'],
      [2, 'rejected', 'UNKNOWN_EVENT_TYPE'],
      [3, 'accepted', undefined],
      [4, 'rejected', 'PAYLOAD_TOO_LARGE'],
      [5, 'duplicate', undefined],
      [6, 'rejected', 'EVENT_ID_REUSED'],
      [7, 'rejected', 'VALIDATION_FAILED'],
    ]);
    expect(results[1]).toMatchObject({ error: { message: expect.stringContaining('events[1]') as unknown } });

    await settle('b1-marker');
    expect(onTopic('b1-ok-1')).toHaveLength(1);
    expect(onTopic('b1-ok-2')).toEqual([
      expect.objectContaining({ scope: { centerId: 'c9' }, data: { seat: '1B' } }),
    ]);
    expect(onTopic('b1-unknown')).toHaveLength(0);
    expect(onTopic('b1-big')).toHaveLength(0);
  });

  it('refuses only the event holding what PostgreSQL cannot store, or nested too deep, and publishes the rest', async () => {
    let deep: Record<string, unknown> = { leaf: true };
    for (let level = 0; level < 70; level += 1) deep = { deeper: deep };
    const response = await publishBatch([
      { id: 'b6-nul', type: 'booking.created', data: { note: 'a\u0000b' } },
      { id: 'b6-ok', type: 'booking.created', data: { note: 'fine' } },
      { id: 'b6-deep', type: 'booking.created', data: deep },
    ]);
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({
      accepted: 1,
      rejected: 2,
      results: [
        { index: 0, id: 'b6-nul', status: 'rejected', error: { code: 'VALIDATION_FAILED' } },
        { index: 1, id: 'b6-ok', status: 'accepted' },
        { index: 2, id: 'b6-deep', status: 'rejected', error: { code: 'VALIDATION_FAILED' } },
      ],
    });
    await settle('b6-marker');
    expect(onTopic('b6-ok')).toHaveLength(1);
    expect(onTopic('b6-nul')).toHaveLength(0);
  });

  it('answers ids published before, by either route, as duplicates, and refuses one reused with another body', async () => {
    await api.request({
      method: 'POST',
      url: '/v1/events',
      key: apiKey,
      body: { id: 'b2-single', type: 'booking.created', data: { n: 1 } },
    });
    expect((await publishBatch([{ id: 'b2-batched', type: 'booking.created', data: { n: 2 } }])).status).toBe(
      200,
    );

    const again = await publishBatch([
      { id: 'b2-single', type: 'booking.created', data: { n: 1 } },
      { id: 'b2-batched', type: 'booking.created', data: { n: 2 } },
      { id: 'b2-single', type: 'booking.created', data: { n: 'changed' } },
    ]);
    expect(again.body).toMatchObject({
      accepted: 0,
      duplicates: 2,
      rejected: 1,
      results: [
        { index: 0, id: 'b2-single', status: 'duplicate' },
        { index: 1, id: 'b2-batched', status: 'duplicate' },
        { index: 2, id: 'b2-single', status: 'rejected', error: { code: 'EVENT_ID_REUSED' } },
      ],
    });
    await settle('b2-marker');
    expect(onTopic('b2-single')).toEqual([expect.objectContaining({ data: { n: 1 } })]);
    expect(onTopic('b2-batched')).toHaveLength(1);
  });

  it('answers a repeat of a batch with its Idempotency-Key as the first time, naming the same generated ids', async () => {
    const events = [
      { type: 'booking.created', data: { leg: 1 } },
      { type: 'booking.created', data: { leg: 2 } },
    ];
    const first = await publishBatch(events, { 'idempotency-key': 'batch-key-1' });
    const repeat = await publishBatch(events, { 'idempotency-key': 'batch-key-1' });
    expect(first.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    const ids = (first.body['results'] as { id: string }[]).map((result) => result.id);
    expect(new Set(ids).size).toBe(2);

    const reused = await publishBatch([{ type: 'booking.created', data: { leg: 3 } }], {
      'idempotency-key': 'batch-key-1',
    });
    expect(reused.status).toBe(422);
    expect((reused.body['error'] as { code: string }).code).toBe('IDEMPOTENCY_KEY_REUSED');

    await settle('b3-marker');
    for (const id of ids) expect(onTopic(id)).toHaveLength(1);
  });

  it.each([
    ['an empty list', []],
    ['more events than a batch takes', Array.from({ length: MAX_EVENTS_PER_BATCH + 1 }, () => ({}))],
    ['a list that is not one', { type: 'booking.created', data: {} }],
  ])('answers 400 to %s and publishes nothing', async (_, events) => {
    const before = inbound.records.length;
    const response = await publishBatch(events);
    expect(response.status).toBe(400);
    expect((response.body['error'] as { code: string }).code).toBe('VALIDATION_FAILED');
    await settle(`b4-marker-${before}-${Array.isArray(events) ? events.length : 'x'}`);
    expect(inbound.records.length).toBe(before + 1);
  });

  it('publishes a full batch, each event once, in the order given', async () => {
    const events = Array.from({ length: MAX_EVENTS_PER_BATCH }, (_, n) => ({
      id: `b5-${n}`,
      type: 'booking.created',
      data: { n },
    }));
    const response = await publishBatch(events);
    expect(response.body).toMatchObject({ accepted: MAX_EVENTS_PER_BATCH, duplicates: 0, rejected: 0 });
    await settle('b5-marker');
    const published = inbound.records
      .map((record) => (JSON.parse(record.value) as InboundEvent).id)
      .filter((id) => id.startsWith('b5-') && id !== 'b5-marker');
    expect(published).toEqual(events.map((event) => event.id));
  });

  it('answers 401 without a key', async () => {
    const response = await api.request({
      method: 'POST',
      url: '/v1/events/batch',
      body: { events: [{ type: 'booking.created', data: {} }] },
    });
    expect(response.status).toBe(401);
  });
});
