import { Client } from 'pg';
import { type InboundEvent } from '@skyhook/contracts';
import { topicNameOf } from '@skyhook/messaging';
import { pollUntil, readTopic } from '@skyhook/testing';
import { type ApiTestApp, createOrganisation, startApiTestApp } from '../test/api-test-app';
import { PublishClaimsRetention } from './publish-claims-retention';
import { publishAnswerResponseSchema } from './publish-event.schema';

describe('POST /v1/events against real Kafka and Postgres', () => {
  let api: ApiTestApp;
  let apiKey: string;
  let organisationId: string;
  let inbound: Awaited<ReturnType<typeof readTopic>>;

  beforeAll(async () => {
    api = await startApiTestApp();
    ({ apiKey, organisationId } = await createOrganisation(api));
    inbound = await readTopic(api.config.kafka.brokers, topicNameOf(api.config.kafka, 'inboundEvents'));
  });

  afterAll(async () => {
    await inbound.stop();
    await api.close();
  });

  const publish = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await api.request({ method: 'POST', url: '/v1/events', key: apiKey, body, headers });
    // Every answer that is not a refusal is held to the documented response schema.
    if (response.status < 300) publishAnswerResponseSchema.parse(response.body);
    return response;
  };

  const onTopic = (id: string): InboundEvent[] =>
    inbound.records
      .map((record) => JSON.parse(record.value) as InboundEvent)
      .filter((event) => event.id === id);

  it('publishes a valid event to the inbound topic, keyed by organisation', async () => {
    const response = await publish({
      id: 'evt-a1',
      type: 'booking.created',
      scope: { centerId: 'c1' },
      data: { bookingId: 'b1' },
    });
    expect(response.status).toBe(202);
    expect(response.body).toEqual({ id: 'evt-a1', status: 'accepted' });
    await pollUntil(() => onTopic('evt-a1').length === 1, { description: 'event on the inbound topic' });
    expect(onTopic('evt-a1')[0]).toMatchObject({
      organisationId,
      type: 'booking.created',
      scope: { centerId: 'c1' },
    });
    expect(inbound.records.find((record) => record.value.includes('evt-a1'))?.key).toBe(organisationId);
  });

  it('answers the same for the same Idempotency-Key and body, with one event only', async () => {
    const body = { type: 'booking.cancelled', data: { bookingId: 'b2' } };
    const first = await publish(body, { 'idempotency-key': 'key-1' });
    const again = await publish(body, { 'idempotency-key': 'key-1' });
    expect(first.status).toBe(202);
    expect(again).toMatchObject({ status: 202, body: first.body });
    const id = first.body['id'] as string;
    await pollUntil(() => onTopic(id).length === 1, { description: 'event on the topic' });
    await publish({ id: 'evt-marker-1', type: 'booking.created', data: {} });
    await pollUntil(() => onTopic('evt-marker-1').length === 1, {
      description: 'a later event on the topic',
    });
    expect(onTopic(id)).toHaveLength(1);
  });

  it.each([
    [
      'an integer past 2^53',
      '{"id":"evt-big","type":"booking.created","data":{"seats":18446744073709551617}}',
      'data.seats',
    ],
    ['a number out of range', '{"id":"evt-inf","type":"booking.created","data":{"n":[1,1e400]}}', 'data.n.1'],
  ])('answers 400 naming the place of %s, and publishes nothing', async (_what, text, path) => {
    const refused = await api.request({ method: 'POST', url: '/v1/events', key: apiKey, rawBody: text });
    expect(refused.status).toBe(400);
    expect(refused.body['error']).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [expect.objectContaining({ path })],
    });
    await publish({ id: 'evt-marker-numbers', type: 'booking.created', data: {} });
    await pollUntil(() => onTopic('evt-marker-numbers').length >= 1, {
      description: 'a later event on the topic',
    });
    expect(onTopic('evt-big')).toHaveLength(0);
    expect(onTopic('evt-inf')).toHaveLength(0);
  });

  it('answers 400 to a body that is not valid UTF-8, and to a __proto__ key, saying which', async () => {
    const invalidUtf8 = Buffer.concat([
      Buffer.from('{"id":"evt-latin1","type":"booking.created","data":{"name":"'),
      Buffer.from([0xe9, 0x74, 0xe9]), // "été" in Latin-1: not UTF-8
      Buffer.from('"}}'),
    ]);
    const notUtf8 = await api.request({
      method: 'POST',
      url: '/v1/events',
      key: apiKey,
      rawBody: invalidUtf8,
    });
    expect(notUtf8.status).toBe(400);
    expect(notUtf8.body['error']).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('UTF-8') as string,
    });
    const proto = await api.request({
      method: 'POST',
      url: '/v1/events',
      key: apiKey,
      rawBody: '{"id":"evt-proto","type":"booking.created","data":{"__proto__":{"admin":true}}}',
    });
    expect(proto.status).toBe(400);
    expect(proto.body['error']).toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('__proto__') as string,
    });
    await publish({ id: 'evt-marker-bytes', type: 'booking.created', data: {} });
    await pollUntil(() => onTopic('evt-marker-bytes').length >= 1, {
      description: 'a later event on the topic',
    });
    expect(onTopic('evt-latin1')).toHaveLength(0);
    expect(onTopic('evt-proto')).toHaveLength(0);
  });

  it('answers 422 to an Idempotency-Key reused with another body', async () => {
    await publish({ type: 'booking.created', data: { n: 1 } }, { 'idempotency-key': 'key-2' });
    const reused = await publish({ type: 'booking.created', data: { n: 2 } }, { 'idempotency-key': 'key-2' });
    expect(reused.status).toBe(422);
    expect((reused.body['error'] as { code: string }).code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('treats a second publish of the same event id and body as a no-op, and refuses the id with another body', async () => {
    const first = { id: 'evt-dup', type: 'booking.created', data: { seats: 2 } };
    expect((await publish(first)).status).toBe(202);
    const second = await publish(first);
    expect(second).toMatchObject({ status: 200, body: { id: 'evt-dup', status: 'duplicate' } });
    const reused = await publish({ ...first, data: { seats: 3 } });
    expect(reused.status).toBe(409);
    expect(reused.body['error']).toMatchObject({ code: 'EVENT_ID_REUSED', details: { eventId: 'evt-dup' } });
    await publish({ id: 'evt-marker-2', type: 'booking.created', data: {} });
    await pollUntil(() => onTopic('evt-marker-2').length === 1, {
      description: 'a later event on the topic',
    });
    // Only the first body was ever published.
    expect(onTopic('evt-dup')).toHaveLength(1);
    expect(onTopic('evt-dup')[0]).toMatchObject({ data: { seats: 2 } });
  });

  it.each([
    ['no type', { data: {} }, 400],
    ['no data', { type: 'booking.created' }, 400],
    [
      'an organisationId in the body',
      { type: 'booking.created', data: {}, organisationId: 'org_other' },
      400,
    ],
    ['a malformed occurredAt', { type: 'booking.created', data: {}, occurredAt: 'yesterday' }, 400],
    ['an event type outside the catalogue', { type: 'invoice.paid', data: {} }, 422],
    ['data over the size limit', { type: 'booking.created', data: { blob: 'x'.repeat(300 * 1024) } }, 413],
  ])('answers %s with %i and publishes nothing', async (_, body, status) => {
    const before = inbound.records.length;
    const response = await publish(body);
    expect(response.status).toBe(status);
    expect(inbound.records.length).toBe(before);
  });

  it('claims concurrent publishes together yet answers each as if they had come one after another', async () => {
    const event = (n: number, data: Record<string, unknown> = { n }) => ({
      id: `evt-conc-${n}`,
      type: 'booking.created',
      data,
    });
    const requests = [
      // 30 distinct events, each sent twice at once with the same key (a retry racing its first try)...
      ...Array.from({ length: 30 }, (_, n) => [
        publish(event(n), { 'idempotency-key': `conc-key-${n}` }),
        publish(event(n), { 'idempotency-key': `conc-key-${n}` }),
      ]).flat(),
      // ...an id sent at once with two bodies, and a key sent at once with two bodies.
      publish(event(100, { body: 'one' })),
      publish(event(100, { body: 'two' })),
      publish({ type: 'booking.created', data: { body: 'one' } }, { 'idempotency-key': 'conc-key-shared' }),
      publish({ type: 'booking.created', data: { body: 'two' } }, { 'idempotency-key': 'conc-key-shared' }),
    ];
    const answers = await Promise.all(requests);

    for (let n = 0; n < 30; n += 1) {
      const pair = answers.slice(2 * n, 2 * n + 2);
      // The same request twice answers the same: the first answer again.
      expect(pair.map((answer) => [answer.status, answer.body])).toEqual([
        [202, { id: `evt-conc-${n}`, status: 'accepted' }],
        [202, { id: `evt-conc-${n}`, status: 'accepted' }],
      ]);
    }
    const [idOne, idTwo, keyOne, keyTwo] = answers.slice(60).map((answer) => answer.status);
    expect([idOne, idTwo].sort()).toEqual([202, 409]);
    expect([keyOne, keyTwo].sort()).toEqual([202, 422]);

    await publish({ id: 'evt-conc-marker', type: 'booking.created', data: {} });
    await pollUntil(() => onTopic('evt-conc-marker').length === 1, {
      description: 'a later event on the topic',
    });
    for (let n = 0; n < 30; n += 1) expect(onTopic(`evt-conc-${n}`).length).toBeGreaterThanOrEqual(1);
    // Every copy of an id on the topic is the same body (a pending claim is produced as stored).
    for (let n = 0; n < 30; n += 1) {
      expect(
        new Set(inbound.records.filter((r) => r.value.includes(`"evt-conc-${n}"`)).map((r) => r.value)).size,
      ).toBe(1);
    }
    expect(onTopic('evt-conc-100')).toHaveLength(1);
  });

  it('fails only the publish whose row the database refuses, not the others claimed in the same transaction', async () => {
    const database = new Client({ connectionString: api.database.url });
    await database.connect();
    // A row the database will not take, as an unforeseen refusal of one request's data would be.
    await database.query(
      `ALTER TABLE published_events ADD CONSTRAINT test_refuses_poison CHECK (event_id <> 'evt-poison')`,
    );
    try {
      // The first two start at once; the rest wait and are claimed together, the poison among them.
      const ids = Array.from({ length: 30 }, (_, n) => (n === 15 ? 'evt-poison' : `evt-beside-poison-${n}`));
      const answers = await Promise.all(ids.map((id) => publish({ id, type: 'booking.created', data: {} })));
      expect(answers.map((answer) => answer.status)).toEqual(
        ids.map((id) => (id === 'evt-poison' ? 500 : 202)),
      );
      await pollUntil(() => ids.filter((id) => id !== 'evt-poison').every((id) => onTopic(id).length === 1), {
        description: 'every other event on the topic',
      });
      expect(onTopic('evt-poison')).toHaveLength(0);
    } finally {
      await database.query('ALTER TABLE published_events DROP CONSTRAINT test_refuses_poison');
      await database.end();
    }
  });

  it('answers 401 without a key and 400 to a malformed Idempotency-Key', async () => {
    expect(
      (await api.request({ method: 'POST', url: '/v1/events', body: { type: 'booking.created', data: {} } }))
        .status,
    ).toBe(401);
    expect(
      (await publish({ type: 'booking.created', data: {} }, { 'idempotency-key': 'has space' })).status,
    ).toBe(400);
  });

  it('answers 400 naming the path to data that holds U+0000 or an unpaired surrogate, and publishes nothing', async () => {
    const response = await publish({
      id: 'evt-nul',
      type: 'booking.created',
      data: { passengers: [{ name: 'A\u0000B' }] },
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: {
        details: [{ path: 'data.passengers.0.name', message: expect.stringContaining('U+0000') as unknown }],
      },
    });
    // As JSON text on the wire, the way a client sends it.
    const surrogate = await api.request({
      method: 'POST',
      url: '/v1/events',
      key: apiKey,
      rawBody: '{"id":"evt-surrogate","type":"booking.created","data":{"note":"\\ud800"}}',
    });
    expect(surrogate.status).toBe(400);
    expect(surrogate.body).toMatchObject({ error: { details: [{ path: 'data.note' }] } });
    // The text "\u0000" is not the character.
    expect(
      (await publish({ id: 'evt-nul-text', type: 'booking.created', data: { note: 'a\\u0000b' } })).status,
    ).toBe(202);
    await pollUntil(() => onTopic('evt-nul-text').length === 1, {
      description: 'the clean event on the topic',
    });
    expect(onTopic('evt-nul')).toEqual([]);
    expect(onTopic('evt-surrogate')).toEqual([]);
    expect(onTopic('evt-surrogate')).toEqual([]);
  });

  it('answers 400 to data nested deeper than 64 levels (100,000 answered a 500), and publishes nothing', async () => {
    const depth = 100_000;
    const response = await api.request({
      method: 'POST',
      url: '/v1/events',
      key: apiKey,
      rawBody: `{"id":"evt-deep","type":"booking.created","data":{"a":${'['.repeat(depth)}1${']'.repeat(depth)}}}`,
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: [{ message: 'nested deeper than 64 levels' }] },
    });
    expect(onTopic('evt-deep')).toEqual([]);
  });
});

describe('publish claims past their retention', () => {
  let api: ApiTestApp;
  let apiKey: string;
  let organisationId: string;

  beforeAll(async () => {
    api = await startApiTestApp();
    ({ apiKey, organisationId } = await createOrganisation(api));
  });

  afterAll(async () => {
    await api.close();
  });

  it('are deleted, event ids and keys alike, and only those: within the retention a retry is still recognised', async () => {
    const publish = (body: unknown, key: string) =>
      api.request({
        method: 'POST',
        url: '/v1/events',
        key: apiKey,
        body,
        headers: { 'idempotency-key': key },
      });
    const old = { id: 'evt-old', type: 'booking.created', data: { n: 1 } };
    const recent = { id: 'evt-recent', type: 'booking.created', data: { n: 2 } };
    expect((await publish(old, 'key-old')).status).toBe(202);
    expect((await publish(recent, 'key-recent')).status).toBe(202);
    const client = new Client({ connectionString: api.database.url });
    await client.connect();
    try {
      // A day past the retention, by the api's clock.
      const pastRetention = new Date(
        api.clock.now().getTime() - (api.config.PUBLISH_CLAIMS_RETENTION_DAYS + 1) * 86_400_000,
      );
      await client.query(
        'UPDATE published_events SET created_at = $2 WHERE organisation_id = $1 AND event_id = $3',
        [organisationId, pastRetention, 'evt-old'],
      );
      await client.query(
        'UPDATE idempotency_keys SET created_at = $2 WHERE organisation_id = $1 AND key = $3',
        [organisationId, pastRetention, 'key-old'],
      );
      const pruned = await api.app.get(PublishClaimsRetention).prune();
      expect(pruned).toEqual({ publishedEvents: 1, idempotencyKeys: 1 });
      const left = await client.query<{ event_id: string }>(
        'SELECT event_id FROM published_events WHERE organisation_id = $1 ORDER BY event_id',
        [organisationId],
      );
      expect(left.rows.map((row) => row.event_id)).toEqual(['evt-recent']);
    } finally {
      await client.end();
    }
    // The recent one is still recognised; the pruned one publishes again, as a new event would.
    expect((await publish(recent, 'key-recent')).status).toBe(202);
    expect((await publish(recent, 'another-key')).body).toMatchObject({ status: 'duplicate' });
    expect((await publish(old, 'key-old')).body).toMatchObject({ status: 'accepted' });
    expect(await api.app.get(PublishClaimsRetention).prune()).toEqual({
      publishedEvents: 0,
      idempotencyKeys: 0,
    });
  });
});
