import { DataSource } from 'typeorm';
import { type ApiTestApp, createOrganisation, startApiTestApp, TEST_ADMIN_TOKEN } from '../test/api-test-app';

const ADMIN = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

/** Portal links and sessions against real PostgreSQL and Kafka (ADR 0029). */
describe('portal sessions', () => {
  let api: ApiTestApp;

  beforeAll(async () => {
    api = await startApiTestApp({ systemClock: true });
  });

  afterAll(async () => {
    await api.close();
  });

  async function mintLink(apiKey: string, body: Record<string, unknown> = {}): Promise<string> {
    const minted = await api.request({ method: 'POST', url: '/v1/portal-sessions', key: apiKey, body });
    expect(minted.status).toBe(201);
    const url = new URL(minted.body['url'] as string);
    expect(`${url.origin}${url.pathname}`).toBe('http://127.0.0.1:3100/enter');
    return url.searchParams.get('token') ?? '';
  }

  const open = (linkToken: string) =>
    api.request({ method: 'POST', url: '/v1/portal-sessions/open', key: linkToken });

  it("opens a link once into a session that acts for the link's organisation, and ends it", async () => {
    const { apiKey, organisationId } = await createOrganisation(api);
    const created = await api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key: apiKey,
      body: { url: 'http://127.0.0.1:9/portal', eventTypes: ['booking.created'] },
    });
    expect(created.status).toBe(201);

    const linkToken = await mintLink(apiKey);
    expect(linkToken).toMatch(/^spl_/);
    const opened = await open(linkToken);
    expect(opened.status).toBe(201);
    expect(opened.body).toMatchObject({ organisation: { id: organisationId, name: 'Test Aviation' } });
    const sessionToken = opened.body['sessionToken'] as string;
    expect(sessionToken).toMatch(/^sps_/);

    const listed = await api.request({ method: 'GET', url: '/v1/subscriptions', key: sessionToken });
    expect(listed.status).toBe(200);
    expect((listed.body['data'] as { id: string }[]).map(({ id }) => id)).toEqual([created.body['id']]);
    const current = await api.request({
      method: 'GET',
      url: '/v1/portal-sessions/current',
      key: sessionToken,
    });
    expect(current.body).toMatchObject({ id: opened.body['id'], organisation: { id: organisationId } });

    const again = await open(linkToken);
    expect(again.status).toBe(401);
    expect(again.body).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });

    const ended = await api.request({
      method: 'DELETE',
      url: '/v1/portal-sessions/current',
      key: sessionToken,
    });
    expect(ended.status).toBe(204);
    const afterEnd = await api.request({ method: 'GET', url: '/v1/subscriptions', key: sessionToken });
    expect(afterEnd.status).toBe(401);
  });

  it('refuses an expired link, a session minting links, an API key ending a session, and a link token used as a key', async () => {
    const { apiKey } = await createOrganisation(api);
    const expiring = await mintLink(apiKey, { linkLifetimeMinutes: 1 });
    await api.app
      .get(DataSource)
      .query(
        `UPDATE portal_sessions SET link_expires_at = now() - interval '1 second' WHERE opened_at IS NULL`,
      );
    expect((await open(expiring)).status).toBe(401);

    const sessionToken = (await open(await mintLink(apiKey))).body['sessionToken'] as string;
    const minted = await api.request({
      method: 'POST',
      url: '/v1/portal-sessions',
      key: sessionToken,
      body: {},
    });
    expect(minted.status).toBe(403);
    expect(minted.body).toMatchObject({ error: { code: 'FORBIDDEN' } });

    const endByKey = await api.request({ method: 'DELETE', url: '/v1/portal-sessions/current', key: apiKey });
    expect(endByKey.status).toBe(403);

    // Publishing and changing the catalogue are the organisation's systems' work, not a portal's.
    const event = { type: 'booking.created', data: { bookingId: 'bk_1' } };
    for (const [url, body] of [
      ['/v1/events', event],
      ['/v1/events/batch', { events: [event] }],
      ['/v1/event-types', { eventTypes: [{ name: 'booking.moved' }] }],
    ] as const) {
      const refused = await api.request({ method: 'POST', url, key: sessionToken, body });
      expect({
        url,
        status: refused.status,
        code: (refused.body['error'] as { code?: string } | undefined)?.code,
      }).toEqual({
        url,
        status: 403,
        code: 'FORBIDDEN',
      });
    }
    expect((await api.request({ method: 'GET', url: '/v1/event-types', key: sessionToken })).status).toBe(
      200,
    );
    expect((await api.request({ method: 'POST', url: '/v1/events', key: apiKey, body: event })).status).toBe(
      202,
    );

    const linkAsKey = await api.request({
      method: 'GET',
      url: '/v1/subscriptions',
      key: await mintLink(apiKey),
    });
    expect(linkAsKey.status).toBe(401);
    expect((await open('spl_not-a-token')).status).toBe(401);
    expect((await open(apiKey)).status).toBe(401);
  });

  it("gives one session for a link opened twice at once, and another organisation's session sees nothing of it", async () => {
    const first = await createOrganisation(api);
    const second = await createOrganisation(api, { name: 'Other Aviation' });
    const subscription = await api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key: first.apiKey,
      body: { url: 'http://127.0.0.1:9/first', eventTypes: ['*'] },
    });
    const link = await mintLink(first.apiKey);
    const both = await Promise.all([open(link), open(link)]);
    expect(both.map(({ status }) => status).sort()).toEqual([201, 401]);

    const otherSession = (await open(await mintLink(second.apiKey))).body['sessionToken'] as string;
    const hidden = await api.request({
      method: 'GET',
      url: `/v1/subscriptions/${subscription.body['id'] as string}`,
      key: otherSession,
    });
    expect(hidden.status).toBe(404);
    const listed = await api.request({ method: 'GET', url: '/v1/subscriptions', key: otherSession });
    expect(listed.body['data']).toEqual([]);
  });

  it('lets an operator mint a link for an organisation, and says when there is no such organisation', async () => {
    const { organisationId } = await createOrganisation(api);
    const minted = await api.request({
      method: 'POST',
      url: `/admin/v1/organisations/${organisationId}/portal-sessions`,
      headers: ADMIN,
      body: { linkLifetimeMinutes: 60 },
    });
    expect(minted.status).toBe(201);
    const token = new URL(minted.body['url'] as string).searchParams.get('token') ?? '';
    const opened = await open(token);
    expect(opened.body).toMatchObject({ organisation: { id: organisationId } });
    const expiresIn = Date.parse(minted.body['linkExpiresAt'] as string) - Date.now();
    expect(expiresIn).toBeGreaterThan(55 * 60_000);
    expect(expiresIn).toBeLessThanOrEqual(60 * 60_000);

    const unknown = await api.request({
      method: 'POST',
      url: '/admin/v1/organisations/org_unknown/portal-sessions',
      headers: ADMIN,
      body: {},
    });
    expect(unknown.status).toBe(404);
    const tooLong = await api.request({
      method: 'POST',
      url: `/admin/v1/organisations/${organisationId}/portal-sessions`,
      headers: ADMIN,
      body: { linkLifetimeMinutes: 100_000 },
    });
    expect(tooLong.status).toBe(400);
  });
});
