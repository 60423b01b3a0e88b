import { Kafka, logLevel } from 'kafkajs';
import { Client } from 'pg';
import { type SubscriptionEvent, subscriptionEventSchema } from '@skyhook/contracts';
import { topicNameOf } from '@skyhook/messaging';
import { pollUntil } from '@skyhook/testing';
import { pageSchemaOf } from '../http/page-response';
import { type ApiTestApp, createOrganisation, startApiTestApp, TEST_ADMIN_TOKEN } from '../test/api-test-app';
import {
  adminSubscriptionResponseSchema,
  createdSubscriptionResponseSchema,
  rotatedSubscriptionResponseSchema,
  subscriptionResponseSchema,
} from './subscription.response';
import { eventTypeCatalogueResponseSchema } from '../event-types/event-types.schemas';
import {
  issuedApiKeyResponseSchema,
  organisationsResponseSchema,
} from '../organisations/admin-organisations.schemas';

const RECEIVER = 'http://127.0.0.1:9/hooks/skyhook';
const DAY = 24 * 60 * 60 * 1000;

describe('subscriptions REST API against real Kafka and Postgres', () => {
  let api: ApiTestApp;
  let apiKey: string;

  beforeAll(async () => {
    api = await startApiTestApp();
    ({ apiKey } = await createOrganisation(api));
  });

  afterAll(async () => {
    await api.close();
  });

  async function createSubscription(body: Record<string, unknown> = {}, key = apiKey) {
    return api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key,
      body: { url: RECEIVER, eventTypes: ['booking.*'], ...body },
    });
  }

  async function subscriptionEventsOnTopic(
    subscriptionId: string,
    count: number,
  ): Promise<SubscriptionEvent[]> {
    const kafka = new Kafka({
      clientId: 'reader',
      brokers: [...api.config.kafka.brokers],
      logLevel: logLevel.NOTHING,
    });
    const consumer = kafka.consumer({
      groupId: `${api.config.kafka.topicPrefix}reader-${subscriptionId}`,
      maxWaitTimeInMs: 200,
    });
    const events: SubscriptionEvent[] = [];
    await consumer.connect();
    await consumer.subscribe({
      topic: topicNameOf(api.config.kafka, 'subscriptionEvents'),
      fromBeginning: true,
    });
    await consumer.run({
      eachMessage: ({ message }) => {
        const event = subscriptionEventSchema.parse(JSON.parse(message.value?.toString() ?? 'null'));
        if (event.subscriptionId === subscriptionId) events.push(event);
        return Promise.resolve();
      },
    });
    try {
      await pollUntil(() => events.length >= count, {
        description: `${count} events of ${subscriptionId} on the topic`,
      });
    } finally {
      await consumer.disconnect();
    }
    return events;
  }

  it('serves its OpenAPI document and a browsable reference at /docs without a key', async () => {
    const docs = await api.request({ method: 'GET', url: '/docs/openapi.json' });
    expect(docs.status).toBe(200);
    expect(docs.body['openapi']).toBe('3.1.0');
    expect(Object.keys(docs.body['paths'] as object)).toContain('/v1/subscriptions/{id}/renewals');

    const page = await api.app.inject({ method: 'GET', url: '/docs' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    const scripts = [...page.body.matchAll(/(?:src|href)="(\/docs\/assets\/[^"]+)"/g)].map(
      (match) => match[1],
    );
    expect(scripts).toEqual(
      expect.arrayContaining(['/docs/assets/swagger-ui-bundle.js', '/docs/assets/swagger-initializer.js']),
    );
    for (const url of scripts) {
      const asset = await api.app.inject({ method: 'GET', url: url ?? '' });
      expect({ url, status: asset.statusCode }).toEqual({ url, status: 200 });
      expect(asset.rawPayload.length).toBeGreaterThan(0);
    }
    const initializer = await api.app.inject({ method: 'GET', url: '/docs/assets/swagger-initializer.js' });
    expect(initializer.body).toContain("url: '/docs/openapi.json'");

    // Only the UI's own files are served: no path reaches anything else on disk.
    for (const url of [
      '/docs/assets/package.json',
      '/docs/assets/..%2F..%2Fpackage.json',
      '/docs/assets/index.html',
    ]) {
      expect((await api.app.inject({ method: 'GET', url })).statusCode).toBe(404);
    }
  });

  it('answers what its documented response schemas say', async () => {
    const created = await createSubscription({ policy: { timeoutMs: 5000 } });
    expect(created.status).toBe(201);
    expect(createdSubscriptionResponseSchema.safeParse(created.body).error?.issues ?? []).toEqual([]);
    const id = created.body['id'] as string;
    const read = await api.request({ method: 'GET', url: `/v1/subscriptions/${id}`, key: apiKey });
    expect(subscriptionResponseSchema.safeParse(read.body).error?.issues ?? []).toEqual([]);
    const page = await api.request({ method: 'GET', url: '/v1/subscriptions?limit=2', key: apiKey });
    expect(pageSchemaOf(subscriptionResponseSchema).safeParse(page.body).error?.issues ?? []).toEqual([]);
    const rotated = await api.request({
      method: 'POST',
      url: `/v1/subscriptions/${id}/secret-rotations`,
      key: apiKey,
      body: { activation: 'manual' },
    });
    expect(rotated.status).toBe(200);
    expect(rotatedSubscriptionResponseSchema.safeParse(rotated.body).error?.issues ?? []).toEqual([]);
    const listed = await api.request({
      method: 'GET',
      url: '/admin/v1/subscriptions?limit=2',
      headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
    });
    expect(pageSchemaOf(adminSubscriptionResponseSchema).safeParse(listed.body).error?.issues ?? []).toEqual(
      [],
    );
    const catalogue = await api.request({ method: 'GET', url: '/v1/event-types', key: apiKey });
    expect(eventTypeCatalogueResponseSchema.safeParse(catalogue.body).error?.issues ?? []).toEqual([]);
    const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
    const organisations = await api.request({
      method: 'GET',
      url: '/admin/v1/organisations',
      headers: admin,
    });
    expect(organisationsResponseSchema.safeParse(organisations.body).error?.issues ?? []).toEqual([]);
    const [organisation] = organisations.body['data'] as { id: string }[];
    const issued = await api.request({
      method: 'POST',
      url: `/admin/v1/organisations/${organisation?.id ?? ''}/api-keys`,
      headers: admin,
      body: { label: 'schema check' },
    });
    expect(issuedApiKeyResponseSchema.safeParse(issued.body).error?.issues ?? []).toEqual([]);
    // The schemas are strict: a field the mapper added without documenting it would fail above.
    expect(subscriptionResponseSchema.safeParse({ ...read.body, undocumented: true }).success).toBe(false);
  });

  describe('authentication', () => {
    it.each([
      ['no Authorization header', undefined],
      ['a malformed key', 'not-a-key'],
      ['a well-formed but unknown key', 'sk_AAAAAAAAAAAA_0000000000000000000000000000000000000000000'],
    ])('answers 401 to %s', async (_, key) => {
      const response = await api.request({ method: 'GET', url: '/v1/subscriptions', key });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        error: { code: 'UNAUTHENTICATED', message: expect.any(String) as string, details: {} },
      });
    });

    it('answers 401 to a revoked key and accepts a new one', async () => {
      const { organisationId } = await createOrganisation(api);
      const issued = await api.request({
        method: 'POST',
        url: `/admin/v1/organisations/${organisationId}/api-keys`,
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        body: { label: 'rotation' },
      });
      expect(issued.status).toBe(201);
      const key = issued.body['apiKey'] as string;
      expect((await api.request({ method: 'GET', url: '/v1/subscriptions', key })).status).toBe(200);
      const revoked = await api.request({
        method: 'DELETE',
        url: `/admin/v1/organisations/${organisationId}/api-keys/${String(issued.body['id'])}`,
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
      });
      expect(revoked.status).toBe(204);
      expect((await api.request({ method: 'GET', url: '/v1/subscriptions', key })).status).toBe(401);
    });

    it('keeps the admin API behind the admin token', async () => {
      expect((await api.request({ method: 'GET', url: '/admin/v1/organisations' })).status).toBe(401);
      expect((await api.request({ method: 'GET', url: '/admin/v1/organisations', key: apiKey })).status).toBe(
        401,
      );
    });
  });

  describe('create, read, list', () => {
    it('returns the signing secret once, then only a hint', async () => {
      const created = await createSubscription({ description: 'prod', scopeFilter: { centerId: 'ctr-1' } });
      expect(created.status).toBe(201);
      expect(created.headers['etag']).toBe('"1"');
      const secret = created.body['signingSecret'] as string;
      expect(secret).toMatch(/^whsec_[A-Za-z0-9+/=]{40,}$/);
      expect(created.body).toMatchObject({
        url: RECEIVER,
        description: 'prod',
        eventTypes: ['booking.*'],
        scopeFilter: { centerId: 'ctr-1' },
        status: 'active',
        version: 1,
        expiresAt: null,
        secretHint: `whsec_…${secret.slice(-4)}`,
      });

      const read = await api.request({
        method: 'GET',
        url: `/v1/subscriptions/${String(created.body['id'])}`,
        key: apiKey,
      });
      expect(read.status).toBe(200);
      expect(read.body['signingSecret']).toBeUndefined();
      expect(JSON.stringify(read.body)).not.toContain(secret.slice(6, 20));
      expect(read.body['secretHint']).toBe(created.body['secretHint']);
    });

    it('stores the signing secret encrypted, never in clear', async () => {
      const created = await createSubscription();
      const secret = created.body['signingSecret'] as string;
      const client = new Client({ connectionString: api.database.url });
      await client.connect();
      try {
        const rows = await client.query<{ secrets: unknown }>(
          'SELECT secrets FROM subscriptions WHERE id = $1',
          [created.body['id']],
        );
        const stored = JSON.stringify(rows.rows[0]?.secrets);
        expect(stored).not.toContain(secret);
        expect(stored).not.toContain(secret.slice(6));
        const [stored0] = rows.rows[0]?.secrets as { id: string; encrypted: string }[];
        expect(
          api.config.secretCipher.decrypt(
            stored0?.encrypted ?? '',
            `${String(created.body['id'])}:${stored0?.id ?? ''}`,
          ),
        ).toBe(secret);
      } finally {
        await client.end();
      }
    });

    it('accepts a caller-supplied secret and refuses a weak one', async () => {
      const own = 'my-own-signing-secret-of-sufficient-length';
      const created = await createSubscription({ secret: own });
      expect(created.status).toBe(201);
      expect(created.body['signingSecret']).toBe(own);
      const weak = await createSubscription({ secret: 'short' });
      expect(weak.status).toBe(400);
      expect((weak.body['error'] as { message: string }).message).toMatch(/secret/i);
    });

    it('pages newest first with a cursor, every subscription exactly once', async () => {
      const other = await createOrganisation(api);
      const ids: string[] = [];
      for (let i = 0; i < 5; i += 1) {
        ids.push((await createSubscription({ description: `n${i}` }, other.apiKey)).body['id'] as string);
        api.clock.advance(1_000);
      }
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await api.request({
          method: 'GET',
          url: `/v1/subscriptions?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`,
          key: other.apiKey,
        });
        expect(page.status).toBe(200);
        seen.push(...(page.body['data'] as { id: string }[]).map((subscription) => subscription.id));
        cursor = page.body['nextCursor'] as string | null;
      } while (cursor !== null);
      expect(seen).toEqual([...ids].reverse());
      expect(
        (await api.request({ method: 'GET', url: '/v1/subscriptions?cursor=garbage', key: other.apiKey }))
          .status,
      ).toBe(400);
    });
  });

  describe('bad input', () => {
    it.each([
      ['no url', { eventTypes: ['*'] }],
      ['no event types', { url: RECEIVER }],
      ['an empty event type list', { url: RECEIVER, eventTypes: [] }],
      ['a malformed event type', { url: RECEIVER, eventTypes: ['booking created'] }],
      ['an unknown field', { url: RECEIVER, eventTypes: ['*'], tenant: 'other' }],
      ['a description of 501 characters', { url: RECEIVER, eventTypes: ['*'], description: 'x'.repeat(501) }],
      [
        'a scope value with a newline',
        { url: RECEIVER, eventTypes: ['*'], scopeFilter: { centerId: 'a\nb' } },
      ],
      ['a timeout above 30 s', { url: RECEIVER, eventTypes: ['*'], policy: { timeoutMs: 31_000 } }],
      [
        'a reserved signature header',
        {
          url: RECEIVER,
          eventTypes: ['*'],
          policy: { signature: { scheme: 'hmac-hex', header: 'Content-Type' } },
        },
      ],
    ])('answers 400 to %s', async (_, body) => {
      const response = await api.request({ method: 'POST', url: '/v1/subscriptions', key: apiKey, body });
      expect(response.status).toBe(400);
      expect((response.body['error'] as { message: string }).message.length).toBeGreaterThan(10);
    });

    const ssrfUrls = [
      'https://10.0.0.5/hook',
      'https://172.16.0.1/hook',
      'https://192.168.1.10/hook',
      'https://100.64.0.1/hook',
      'https://169.254.169.254/latest/meta-data/',
      'https://169.254.10.10/',
      'https://0.0.0.0/',
      'https://224.0.0.1/',
      'https://255.255.255.255/',
      'https://240.0.0.1/',
      'https://192.0.2.10/',
      'https://198.18.0.1/',
      'https://[fd00:ec2::254]/',
      'https://[fc00::1]/',
      'https://[fe80::1]/',
      'https://[ff02::1]/',
      'https://[::ffff:10.0.0.1]/',
      'https://[::ffff:a00:1]/',
      'https://[64:ff9b::a00:1]/',
      'https://[2002:a00:1::]/',
      'https://167772161/',
      'https://012.0.0.1/',
      'https://0x0a.0.0.1/',
      'https://0x0a000001/',
      'https://10.1/',
      'https://metadata.google.internal/computeMetadata/v1/',
      'https://intranet/',
      'https://printer.local/',
      'https://user:pass@93.184.216.34/',
      'ftp://93.184.216.34/',
      'http://93.184.216.34/hook',
      'https://93.184.216.34/hook#fragment',
      'https://93.184.216.34:0/',
      'javascript:alert(1)',
      'not a url',
    ];

    it.each(ssrfUrls)('refuses to register %s with 400', async (url) => {
      const response = await api.request({
        method: 'POST',
        url: '/v1/subscriptions',
        key: apiKey,
        body: { url, eventTypes: ['*'] },
      });
      expect(response.status).toBe(400);
      expect((response.body['error'] as { code: string }).code).toMatch(
        /^(INVALID_URL|SCHEME_NOT_ALLOWED|CREDENTIALS_NOT_ALLOWED|FRAGMENT_NOT_ALLOWED|PORT_NOT_ALLOWED|HOST_NOT_ALLOWED|ADDRESS_NOT_ALLOWED|RESOLUTION_FAILED|URL_TOO_LONG)$/,
      );
    });

    it('lists at least 25 distinct SSRF URLs', () => {
      expect(new Set(ssrfUrls).size).toBeGreaterThanOrEqual(25);
    });

    it('accepts a public https address', async () => {
      expect((await createSubscription({ url: 'https://93.184.216.34/hook' })).status).toBe(201);
    });

    it('answers 422 naming the event types missing from the catalogue', async () => {
      const response = await createSubscription({
        eventTypes: ['booking.created', 'invoice.paid', 'crew.*'],
      });
      expect(response.status).toBe(422);
      expect(response.body['error']).toMatchObject({
        code: 'SUBSCRIPTION_UNKNOWN_EVENT_TYPES',
        details: { unknownEventTypes: ['invoice.paid', 'crew.*'] },
      });
    });

    it('answers 415 to a body that is not JSON (plain text, a form), and creates nothing', async () => {
      const subscriptionRows = async (): Promise<number> => {
        const client = new Client({ connectionString: api.database.url });
        await client.connect();
        try {
          return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM subscriptions')).rows[0]!
            .n;
        } finally {
          await client.end();
        }
      };
      const subscriptionsBefore = await subscriptionRows();
      for (const [contentType, payload] of [
        ['text/plain', JSON.stringify({ url: RECEIVER, eventTypes: ['booking.created'] })],
        [
          'application/x-www-form-urlencoded',
          `url=${encodeURIComponent(RECEIVER)}&eventTypes=booking.created`,
        ],
      ] as const) {
        const refused = await api.request({
          method: 'POST',
          url: '/v1/subscriptions',
          key: apiKey,
          rawBody: payload,
          headers: { 'content-type': contentType },
        });
        expect(refused.status).toBe(415);
        const error = refused.body['error'] as { code: string; message: string; details?: unknown };
        expect(error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
        expect(error.message.length).toBeGreaterThan(10);
        expect(error).toHaveProperty('details');
      }
      expect(await subscriptionRows()).toBe(subscriptionsBefore);
    });

    it('answers 400 to malformed JSON and 413 to an oversized body', async () => {
      const malformed = await api.request({
        method: 'POST',
        url: '/v1/subscriptions',
        key: apiKey,
        rawBody: '{"url": ',
      });
      expect(malformed.status).toBe(400);
      expect((malformed.body['error'] as { code: string }).code).toBe('MALFORMED_JSON');
      const huge = await api.request({
        method: 'POST',
        url: '/v1/subscriptions',
        key: apiKey,
        rawBody: JSON.stringify({
          url: RECEIVER,
          eventTypes: ['*'],
          description: 'x'.repeat(2 * 1024 * 1024),
        }),
      });
      expect(huge.status).toBe(413);
      expect((huge.body['error'] as { code: string }).code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('answers 400 naming the field to a string PostgreSQL cannot store, and creates nothing', async () => {
      const before = await api.request({ method: 'GET', url: '/v1/subscriptions?limit=100', key: apiKey });
      for (const [description, rawBody] of [
        ['U+0000', JSON.stringify({ url: RECEIVER, eventTypes: ['*'], description: 'a\u0000b' })],
        ['an unpaired surrogate', `{"url":"${RECEIVER}","eventTypes":["*"],"description":"a\\udc00b"}`],
      ] as const) {
        const refused = await api.request({ method: 'POST', url: '/v1/subscriptions', key: apiKey, rawBody });
        expect({ description, status: refused.status, body: refused.body }).toMatchObject({
          description,
          status: 400,
          body: { error: { code: 'VALIDATION_FAILED', details: [{ path: 'description' }] } },
        });
      }
      const after = await api.request({ method: 'GET', url: '/v1/subscriptions?limit=100', key: apiKey });
      expect(after.body['data']).toEqual(before.body['data']);
    });
  });

  describe('tenancy', () => {
    it("answers 404 for another organisation's subscription, whatever the verb", async () => {
      const id = (await createSubscription()).body['id'] as string;
      const stranger = await createOrganisation(api);
      for (const [method, url, body] of [
        ['GET', `/v1/subscriptions/${id}`, undefined],
        ['PATCH', `/v1/subscriptions/${id}`, { description: 'mine now' }],
        ['DELETE', `/v1/subscriptions/${id}`, undefined],
        ['POST', `/v1/subscriptions/${id}/disable`, undefined],
        ['POST', `/v1/subscriptions/${id}/secret-rotations`, {}],
        ['POST', `/v1/subscriptions/${id}/renewals`, undefined],
      ] as const) {
        const response = await api.request({ method, url, key: stranger.apiKey, body });
        expect([method, url, response.status]).toEqual([method, url, 404]);
      }
      expect(
        (await api.request({ method: 'GET', url: `/v1/subscriptions/${id}`, key: apiKey })).body[
          'description'
        ],
      ).toBe('');
    });
  });

  describe('lifecycle commands', () => {
    it('updates, disables, re-enables, revokes, deletes, each an event with the next version', async () => {
      const id = (await createSubscription()).body['id'] as string;
      const path = `/v1/subscriptions/${id}`;
      const updated = await api.request({
        method: 'PATCH',
        url: path,
        key: apiKey,
        body: {
          url: 'http://127.0.0.1:9/v2',
          eventTypes: ['booking.created', 'FLIGHT_TIME_UPDATE'],
          status: 'disabled',
        },
      });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        url: 'http://127.0.0.1:9/v2',
        status: 'disabled',
        disabledReason: 'partner',
        version: 3,
      });
      expect((await api.request({ method: 'POST', url: `${path}/enable`, key: apiKey })).body['status']).toBe(
        'active',
      );
      expect((await api.request({ method: 'POST', url: `${path}/revoke`, key: apiKey })).body['status']).toBe(
        'revoked',
      );
      const enableRevoked = await api.request({ method: 'POST', url: `${path}/enable`, key: apiKey });
      expect(enableRevoked.status).toBe(409);
      expect((enableRevoked.body['error'] as { code: string }).code).toBe('SUBSCRIPTION_INVALID_TRANSITION');
      expect((await api.request({ method: 'DELETE', url: path, key: apiKey })).status).toBe(204);
      expect((await api.request({ method: 'GET', url: path, key: apiKey })).status).toBe(404);

      const events = await subscriptionEventsOnTopic(id, 6);
      expect(events.map((event) => [event.version, event.type])).toEqual([
        [1, 'SubscriptionCreated'],
        [2, 'SubscriptionUpdated'],
        [3, 'SubscriptionDisabled'],
        [4, 'SubscriptionEnabled'],
        [5, 'SubscriptionRevoked'],
        [6, 'SubscriptionDeleted'],
      ]);
    });

    it('answers 409 to a command conditioned on a stale version, losing nothing', async () => {
      const id = (await createSubscription()).body['id'] as string;
      const path = `/v1/subscriptions/${id}`;
      const first = await api.request({
        method: 'PATCH',
        url: path,
        key: apiKey,
        headers: { 'if-match': '"1"' },
        body: { description: 'a' },
      });
      expect(first.status).toBe(200);
      const stale = await api.request({
        method: 'PATCH',
        url: path,
        key: apiKey,
        headers: { 'if-match': '"1"' },
        body: { description: 'b' },
      });
      expect(stale.status).toBe(409);
      expect(stale.body['error']).toMatchObject({
        code: 'SUBSCRIPTION_VERSION_CONFLICT',
        details: { currentVersion: 2 },
      });
      expect((await api.request({ method: 'GET', url: path, key: apiKey })).body['description']).toBe('a');
    });

    it('serialises concurrent commands on one subscription: every change lands, versions never collide', async () => {
      const id = (await createSubscription()).body['id'] as string;
      const responses = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          api.request({
            method: 'PATCH',
            url: `/v1/subscriptions/${id}`,
            key: apiKey,
            body: { description: `writer ${i}` },
          }),
        ),
      );
      expect(responses.map((response) => response.status)).toEqual(Array(8).fill(200));
      const versions = responses.map((response) => response.body['version'] as number).sort((a, b) => a - b);
      expect(versions).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
      const events = await subscriptionEventsOnTopic(id, 9);
      expect(events.map((event) => event.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('rotates the secret: a new one returned once, the old one keeps signing during the grace period', async () => {
      const created = await createSubscription();
      const rotated = await api.request({
        method: 'POST',
        url: `/v1/subscriptions/${String(created.body['id'])}/secret-rotations`,
        key: apiKey,
        body: { graceSeconds: 3600 },
      });
      expect(rotated.status).toBe(200);
      expect(rotated.body['signingSecret']).toMatch(/^whsec_/);
      expect(rotated.body['signingSecret']).not.toBe(created.body['signingSecret']);
      expect(rotated.body).toMatchObject({ secretsSigning: 2, version: 2 });
      expect((rotated.body['secrets'] as { phase: string }[]).map((secret) => secret.phase)).toEqual([
        'current',
        'retiring',
      ]);
    });

    it('keeps a manually activated secret pending until its activation call, which is idempotent', async () => {
      const created = await createSubscription();
      const path = `/v1/subscriptions/${String(created.body['id'])}`;
      const rotated = await api.request({
        method: 'POST',
        url: `${path}/secret-rotations`,
        key: apiKey,
        body: { activation: 'manual', graceSeconds: 600 },
      });
      expect(rotated.status).toBe(200);
      const secretId = rotated.body['secretId'] as string;
      // The old secret still signs alone; the new one is listed as pending.
      expect(rotated.body).toMatchObject({
        secretHint: created.body['secretHint'] as string,
        secretsSigning: 1,
      });
      expect(rotated.body['secrets']).toEqual([
        expect.objectContaining({ id: secretId, phase: 'pending', activatesAt: null }),
        expect.objectContaining({ phase: 'current', retiresAt: null }),
      ]);

      const activated = await api.request({
        method: 'POST',
        url: `${path}/secrets/${secretId}/activation`,
        key: apiKey,
      });
      expect(activated.status).toBe(200);
      const now = api.clock.now().getTime();
      expect(activated.body['secrets']).toEqual([
        expect.objectContaining({ id: secretId, phase: 'current', activatesAt: new Date(now).toISOString() }),
        expect.objectContaining({ phase: 'retiring', retiresAt: new Date(now + 600_000).toISOString() }),
      ]);
      expect(activated.body).toMatchObject({ secretsSigning: 2, version: 3 });
      const again = await api.request({
        method: 'POST',
        url: `${path}/secrets/${secretId}/activation`,
        key: apiKey,
      });
      expect(again.body).toMatchObject({ version: 3 });

      const retired = (activated.body['secrets'] as { id: string }[])[1]!.id;
      const refused = await api.request({
        method: 'POST',
        url: `${path}/secrets/${retired}/activation`,
        key: apiKey,
      });
      expect(refused.status).toBe(409);
      expect(refused.body['error']).toMatchObject({ code: 'SUBSCRIPTION_INVALID_SECRET_ACTIVATION' });
      // A careless body is refused whole, and changes nothing.
      for (const body of [
        { graceSeconds: -1 },
        { graceSeconds: 'soon' },
        { activateAt: '2030-01-01T00:00:00Z' },
      ]) {
        const careless = await api.request({
          method: 'POST',
          url: `${path}/secrets/${secretId}/activation`,
          key: apiKey,
          body,
        });
        expect([body, careless.status]).toEqual([body, 400]);
      }
      expect((await api.request({ method: 'GET', url: path, key: apiKey })).body['version']).toBe(3);
      const unknown = await api.request({
        method: 'POST',
        url: `${path}/secrets/sec_nope/activation`,
        key: apiKey,
      });
      expect(unknown.status).toBe(404);
      // A second rotation keeps the first one's grace whole.
      const second = await api.request({
        method: 'POST',
        url: `${path}/secret-rotations`,
        key: apiKey,
        body: { graceSeconds: 60 },
      });
      expect(second.body['secrets']).toEqual([
        expect.objectContaining({ phase: 'current' }),
        expect.objectContaining({
          id: secretId,
          phase: 'retiring',
          retiresAt: new Date(now + 60_000).toISOString(),
        }),
        expect.objectContaining({
          id: retired,
          phase: 'retiring',
          retiresAt: new Date(now + 600_000).toISOString(),
        }),
      ]);
    });

    it('schedules an activation ahead of now only, and says so otherwise', async () => {
      const created = await createSubscription();
      const path = `/v1/subscriptions/${String(created.body['id'])}/secret-rotations`;
      const at = new Date(api.clock.now().getTime() + 3_600_000).toISOString();
      const scheduled = await api.request({
        method: 'POST',
        url: path,
        key: apiKey,
        body: { activation: 'scheduled', activateAt: at },
      });
      expect(scheduled.status).toBe(200);
      expect(scheduled.body['secrets']).toEqual([
        expect.objectContaining({ phase: 'pending', activatesAt: at }),
        expect.objectContaining({
          phase: 'current',
          retiresAt: new Date(Date.parse(at) + 86_400_000).toISOString(),
        }),
      ]);
      for (const body of [
        { activation: 'scheduled' },
        { activateAt: at },
        { activation: 'scheduled', activateAt: new Date(api.clock.now().getTime() - 1_000).toISOString() },
        { activation: 'sometime' },
      ]) {
        const refused = await api.request({ method: 'POST', url: path, key: apiKey, body });
        expect([body, refused.status, (refused.body['error'] as { code: string }).code]).toEqual([
          body,
          400,
          'VALIDATION_FAILED',
        ]);
      }
      // Nothing was stored by the refusals.
      const current = await api.request({
        method: 'GET',
        url: `/v1/subscriptions/${String(created.body['id'])}`,
        key: apiKey,
      });
      expect(current.body['version']).toBe(2);
    });
  });

  describe('delivery policy and test events', () => {
    it('shows the effective policy: defaults, then the organisation default, then the subscription override', async () => {
      const aviationAlley = await createOrganisation(
        api,
        {
          defaultPolicy: {
            signature: { scheme: 'hmac-hex', header: 'X-AviationAlley-Signature' },
            headers: { eventType: 'X-AviationAlley-Event', deliveryId: 'X-AviationAlley-Delivery' },
            timeoutMs: 5_000,
            retry: { delaysMs: [300_000, 1_800_000, 7_200_000, 28_800_000] },
          },
        },
        ['booking.created'],
      );
      const inherited = await createSubscription({ eventTypes: ['booking.created'] }, aviationAlley.apiKey);
      expect(inherited.status).toBe(201);
      expect(inherited.body['effectivePolicy']).toMatchObject({
        signature: { scheme: 'hmac-hex', header: 'X-AviationAlley-Signature' },
        timeoutMs: 5_000,
        retry: { delaysMs: [300_000, 1_800_000, 7_200_000, 28_800_000] },
      });
      const overridden = await createSubscription(
        { eventTypes: ['booking.created'], policy: { timeoutMs: 30_000 } },
        aviationAlley.apiKey,
      );
      expect(overridden.body).toMatchObject({
        policy: { timeoutMs: 30_000 },
        effectivePolicy: { timeoutMs: 30_000, signature: { scheme: 'hmac-hex' } },
      });
    });

    it('lets an operator change an organisation default policy; its subscriptions inherit it, strangers get 404', async () => {
      const operator = await createOrganisation(api, {}, ['booking.created']);
      const subscription = await createSubscription({ eventTypes: ['booking.created'] }, operator.apiKey);
      const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };
      const updated = await api.request({
        method: 'PATCH',
        url: `/admin/v1/organisations/${operator.organisationId}`,
        headers: admin,
        body: { defaultPolicy: { timeoutMs: 7_000 }, renewalWindowDays: 3 },
      });
      expect(updated.status).toBe(200);
      expect(updated.body).toMatchObject({
        defaultPolicy: { timeoutMs: 7_000 },
        renewalWindowDays: 3,
        name: 'Test Aviation',
      });
      const read = await api.request({
        method: 'GET',
        url: `/v1/subscriptions/${String(subscription.body['id'])}`,
        key: operator.apiKey,
      });
      expect(read.body['effectivePolicy']).toMatchObject({ timeoutMs: 7_000 });

      const missing = await api.request({
        method: 'PATCH',
        url: '/admin/v1/organisations/org_nope',
        headers: admin,
        body: { name: 'x' },
      });
      expect(missing.status).toBe(404);
      const invalid = await api.request({
        method: 'PATCH',
        url: `/admin/v1/organisations/${operator.organisationId}`,
        headers: admin,
        body: { defaultPolicy: { signature: { scheme: 'hmac-hex' } } },
      });
      expect(invalid.status).toBe(400);
      expect(
        (await api.request({ method: 'GET', url: '/admin/v1/organisations', headers: admin })).status,
      ).toBe(200);
    });

    it('rejects an organisation default policy that is not a valid policy', async () => {
      const response = await api.request({
        method: 'POST',
        url: '/admin/v1/organisations',
        headers: { authorization: `Bearer ${TEST_ADMIN_TOKEN}` },
        body: { name: 'Broken', defaultPolicy: { timeoutMs: 0 } },
      });
      expect(response.status).toBe(400);
    });

    it('sends a webhook.test event for one active subscription through the inbound topic', async () => {
      const id = (await createSubscription()).body['id'] as string;
      const sent = await api.request({ method: 'POST', url: `/v1/subscriptions/${id}/test`, key: apiKey });
      expect(sent.status).toBe(202);
      expect(sent.body['type']).toBe('webhook.test');

      const kafka = new Kafka({
        clientId: 'reader',
        brokers: [...api.config.kafka.brokers],
        logLevel: logLevel.NOTHING,
      });
      const consumer = kafka.consumer({
        groupId: `${api.config.kafka.topicPrefix}test-event-reader`,
        maxWaitTimeInMs: 200,
      });
      const seen: Record<string, unknown>[] = [];
      await consumer.connect();
      await consumer.subscribe({
        topic: topicNameOf(api.config.kafka, 'inboundEvents'),
        fromBeginning: true,
      });
      await consumer.run({
        eachMessage: ({ message }) => {
          seen.push(JSON.parse(message.value?.toString() ?? '{}') as Record<string, unknown>);
          return Promise.resolve();
        },
      });
      try {
        await pollUntil(() => seen.some((event) => event['id'] === sent.body['eventId']), {
          description: 'test event on the topic',
        });
      } finally {
        await consumer.disconnect();
      }
      expect(seen.find((event) => event['id'] === sent.body['eventId'])).toMatchObject({
        type: 'webhook.test',
        deliverTo: id,
      });

      await api.request({ method: 'POST', url: `/v1/subscriptions/${id}/disable`, key: apiKey });
      expect(
        (await api.request({ method: 'POST', url: `/v1/subscriptions/${id}/test`, key: apiKey })).status,
      ).toBe(409);
    });
  });

  describe('test events from the catalogue', () => {
    it('carries the example of the first catalogue type the subscription matches, or the type and data asked for', async () => {
      const org = await createOrganisation(api, {}, ['review.started']);
      const example = { review_id: 'rv_example', reference_id: 'LN-0001', status: 'completed' };
      const registered = await api.request({
        method: 'POST',
        url: '/v1/event-types',
        key: org.apiKey,
        body: {
          eventTypes: [
            { name: 'review.completed', example },
            { name: 'review.started' },
            { name: 'invoice.paid', example: { amount: 1 } },
          ],
        },
      });
      expect(registered.status).toBe(200);
      expect(registered.body['data']).toEqual(
        expect.arrayContaining([expect.objectContaining({ name: 'review.completed', example })]),
      );
      const created = await createSubscription({ eventTypes: ['review.*'] }, org.apiKey);
      const path = `/v1/subscriptions/${String(created.body['id'])}/test`;
      const test = (body?: unknown) => api.request({ method: 'POST', url: path, key: org.apiKey, body });

      // invoice.paid has an example too, but this subscription does not receive it.
      expect(await test()).toMatchObject({ status: 202, body: { type: 'review.completed', data: example } });
      const asked = { review_id: 'rv_2', status: 'failed' };
      expect(await test({ type: 'review.completed', data: asked })).toMatchObject({
        status: 202,
        body: { type: 'review.completed', data: asked },
      });
      expect((await test({ type: 'review.started' })).body['error']).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: [{ path: 'data' }],
      });
      expect((await test({ type: 'invoice.paid' })).body['error']).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: [{ path: 'type' }],
      });
      expect((await test({ type: 'crew.rostered' })).status).toBe(422);
      // Test data obeys the limit published data does (EVENT_MAX_DATA_BYTES): 413, nothing sent.
      const oversized = await test({ type: 'review.completed', data: { blob: 'x'.repeat(300_000) } });
      expect(oversized.status).toBe(413);
      expect(oversized.body['error']).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
      expect((await test({ data: asked })).status).toBe(400);

      // Registering the type again without an example keeps the one it has.
      await api.request({
        method: 'POST',
        url: '/v1/event-types',
        key: org.apiKey,
        body: { eventTypes: [{ name: 'review.completed', description: 'a review ended' }] },
      });
      expect(await test()).toMatchObject({ status: 202, body: { type: 'review.completed', data: example } });
    });
  });

  describe('delivery profiles', () => {
    const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

    it("an organisation on the fl3xx profile gets the profile's rules: one-month lifetimes, 5-day renewal window, operatorId required", async () => {
      const created = await api.request({
        method: 'POST',
        url: '/admin/v1/organisations',
        headers: admin,
        body: { name: 'FL3XX', profile: 'fl3xx' },
      });
      expect(created.status).toBe(201);
      expect(created.body['organisation']).toMatchObject({
        profile: 'fl3xx',
        subscriptionLifetimeDays: null,
        subscriptionLifetimeMonths: 1,
        renewalWindowDays: 5,
      });
      const key = created.body['apiKey'] as string;
      await api.request({
        method: 'POST',
        url: '/v1/event-types',
        key,
        body: { eventTypes: [{ name: 'FLIGHT_CREATE' }] },
      });

      api.clock.set('2026-01-31T10:00:00.000Z');
      const unscoped = await createSubscription({ eventTypes: ['FLIGHT_CREATE'] }, key);
      expect(unscoped.status).toBe(400);
      expect(unscoped.body['error']).toMatchObject({
        code: 'SCOPE_FILTER_REQUIRED',
        details: { field: 'scopeFilter.operatorId' },
      });
      const scoped = await createSubscription(
        { eventTypes: ['FLIGHT_CREATE'], scopeFilter: { operatorId: 'op_1' } },
        key,
      );
      expect(scoped.status).toBe(201);
      // One calendar month from January 31st ends on the last day of February.
      expect(scoped.body['expiresAt']).toBe('2026-02-28T10:00:00.000Z');
      expect(scoped.body['profile']).toBe('fl3xx');
      expect(scoped.body['effectivePolicy']).toMatchObject({ signature: { scheme: 'standard-webhooks' } });
      const unscoping = await api.request({
        method: 'PATCH',
        url: `/v1/subscriptions/${String(scoped.body['id'])}`,
        key,
        body: { scopeFilter: {} },
      });
      expect(unscoping.status).toBe(400);

      // FL3XX's documented PATCH sets the status to active or inactive: inactive is disabled here.
      const path = `/v1/subscriptions/${String(scoped.body['id'])}`;
      const inactive = await api.request({ method: 'PATCH', url: path, key, body: { status: 'inactive' } });
      expect(inactive.status).toBe(200);
      expect(inactive.body['status']).toBe('disabled');
      const active = await api.request({ method: 'PATCH', url: path, key, body: { status: 'active' } });
      expect(active.body['status']).toBe('active');
      api.clock.set(Date.now() + DAY);
    });

    it('refuses status "inactive" outside the fl3xx profile, naming the word to use', async () => {
      const created = await createSubscription();
      const refused = await api.request({
        method: 'PATCH',
        url: `/v1/subscriptions/${String(created.body['id'])}`,
        key: apiKey,
        body: { status: 'inactive' },
      });
      expect(refused.status).toBe(400);
      expect(refused.body['error']).toMatchObject({
        code: 'VALIDATION_FAILED',
        details: [{ path: 'status' }],
      });
      const unchanged = await api.request({
        method: 'GET',
        url: `/v1/subscriptions/${String(created.body['id'])}`,
        key: apiKey,
      });
      expect(unchanged.body['status']).toBe('active');
    });

    it('an organisation default and a subscription override change single knobs of the profile', async () => {
      const created = await api.request({
        method: 'POST',
        url: '/admin/v1/organisations',
        headers: admin,
        body: { name: 'AA', profile: 'aviationalley', defaultPolicy: { timeoutMs: 4_000 } },
      });
      const key = created.body['apiKey'] as string;
      await api.request({
        method: 'POST',
        url: '/v1/event-types',
        key,
        body: { eventTypes: [{ name: 'booking.created' }] },
      });
      const subscription = await createSubscription(
        {
          eventTypes: ['booking.created'],
          scopeFilter: { centerId: 'ctr_1' },
          policy: { retry: { delaysMs: [1_000] } },
        },
        key,
      );
      expect(subscription.status).toBe(201);
      expect(subscription.body['effectivePolicy']).toMatchObject({
        signature: { scheme: 'hmac-hex', header: 'X-AviationAlley-Signature' },
        headers: { eventType: 'X-AviationAlley-Event', deliveryId: 'X-AviationAlley-Delivery' },
        payload: { shape: 'template' },
        timeoutMs: 4_000,
        retry: { delaysMs: [1_000], retryOn: 'any-non-2xx' },
      });
    });

    it('refuses (409) an organisation change its saved subscriptions would not fit, and changes nothing', async () => {
      const created = await api.request({
        method: 'POST',
        url: '/admin/v1/organisations',
        headers: admin,
        body: { name: 'Switching' },
      });
      const organisationId = (created.body['organisation'] as { id: string }).id;
      const key = created.body['apiKey'] as string;
      await api.request({
        method: 'POST',
        url: '/v1/event-types',
        key,
        body: { eventTypes: [{ name: 'booking.created' }] },
      });
      const unscoped = await createSubscription({ eventTypes: ['booking.created'] }, key);
      const collides = await createSubscription(
        {
          eventTypes: ['booking.created'],
          scopeFilter: { centerId: 'ctr_1' },
          policy: { headers: { extra: { 'X-AviationAlley-Event': 'mine' } } },
        },
        key,
      );
      expect([unscoped.status, collides.status]).toEqual([201, 201]);

      const switched = await api.request({
        method: 'PATCH',
        url: `/admin/v1/organisations/${organisationId}`,
        headers: admin,
        body: { profile: 'aviationalley' },
      });
      expect(switched.status).toBe(409);
      // Both were created at the same (test clock) instant, so their order is the ids'.
      const error = switched.body['error'] as { code: string; details: { subscriptions: unknown[] } };
      expect(error.code).toBe('SUBSCRIPTIONS_DO_NOT_FIT');
      expect(error.details.subscriptions).toHaveLength(2);
      expect(error.details.subscriptions).toEqual(
        expect.arrayContaining([
          { id: unscoped.body['id'], problem: expect.stringContaining('scopeFilter.centerId') as unknown },
          { id: collides.body['id'], problem: expect.stringContaining('X-AviationAlley-Event') as unknown },
        ]),
      );
      const unchanged = await api.request({
        method: 'GET',
        url: `/v1/subscriptions/${String(collides.body['id'])}`,
        key,
      });
      expect(unchanged.body['profile']).toBe('standard-webhooks');
    });

    it('refuses an unknown profile, two lifetime units, a default that collides with the profile, and a bad template', async () => {
      const create = (body: Record<string, unknown>) =>
        api.request({
          method: 'POST',
          url: '/admin/v1/organisations',
          headers: admin,
          body: { name: 'x', ...body },
        });
      expect((await create({ profile: 'stripe' })).status).toBe(400);
      expect((await create({ subscriptionLifetimeDays: 30, subscriptionLifetimeMonths: 1 })).status).toBe(
        400,
      );
      const collision = await create({
        profile: 'aviationalley',
        defaultPolicy: { headers: { extra: { 'X-AviationAlley-Signature': 'x' } } },
      });
      expect(collision.status).toBe(400);
      const template = await createSubscription({
        policy: { payload: { shape: 'template', template: { id: { $ref: '/event/nope' } } } },
      });
      expect(template.status).toBe(400);
      expect(JSON.stringify(template.body)).toContain('payload.template.id.$ref');
    });
  });

  describe('expiry and renewal', () => {
    it('expires on time, renews only inside the window, and says when the window opens', async () => {
      const fl3xx = await createOrganisation(api, { subscriptionLifetimeDays: 30, renewalWindowDays: 5 }, [
        'FLIGHT_TIME_UPDATE',
      ]);
      api.clock.set('2026-03-01T00:00:00.000Z');
      const created = await api.request({
        method: 'POST',
        url: '/v1/subscriptions',
        key: fl3xx.apiKey,
        body: { url: RECEIVER, eventTypes: ['FLIGHT_TIME_UPDATE'] },
      });
      expect(created.body['expiresAt']).toBe('2026-03-31T00:00:00.000Z');
      // The window is shown before it opens, at the instant renewal then accepts.
      expect(created.body['renewalOpensAt']).toBe('2026-03-26T00:00:00.000Z');
      const path = `/v1/subscriptions/${String(created.body['id'])}`;

      api.clock.set(Date.parse('2026-03-26T00:00:00.000Z') - 1);
      const early = await api.request({ method: 'POST', url: `${path}/renewals`, key: fl3xx.apiKey });
      expect(early.status).toBe(409);
      expect(early.body['error']).toMatchObject({
        code: 'SUBSCRIPTION_RENEWAL_NOT_OPEN',
        details: { opensAt: '2026-03-26T00:00:00.000Z' },
      });

      api.clock.set('2026-03-26T00:00:00.000Z');
      const renewed = await api.request({ method: 'POST', url: `${path}/renewals`, key: fl3xx.apiKey });
      expect(renewed.status).toBe(200);
      expect(renewed.body['expiresAt']).toBe('2026-04-30T00:00:00.000Z');
      expect(renewed.body['renewalOpensAt']).toBe('2026-04-25T00:00:00.000Z');

      api.clock.set(Date.parse('2026-04-30T00:00:00.000Z') - 1);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect((await api.request({ method: 'GET', url: path, key: fl3xx.apiKey })).body['status']).toBe(
        'active',
      );

      api.clock.set('2026-04-30T00:00:00.000Z');
      await pollUntil(
        async () =>
          (await api.request({ method: 'GET', url: path, key: fl3xx.apiKey })).body['status'] === 'expired',
        { description: 'scheduler expired the subscription' },
      );
      const events = await subscriptionEventsOnTopic(created.body['id'] as string, 3);
      expect(events.map((event) => event.type)).toEqual([
        'SubscriptionCreated',
        'SubscriptionRenewed',
        'SubscriptionExpired',
      ]);
      expect((await api.request({ method: 'POST', url: `${path}/renewals`, key: fl3xx.apiKey })).status).toBe(
        409,
      );
      api.clock.set(Date.now() + DAY);
    });
  });
});
