import { type ApiTestApp, createOrganisation, startApiTestApp, TEST_ADMIN_TOKEN } from '../test/api-test-app';

const RECEIVER = 'http://127.0.0.1:9/hooks/skyhook';
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe("operators' subscription and replay endpoints against real Kafka and Postgres", () => {
  let api: ApiTestApp;
  let first: { organisationId: string; apiKey: string };
  let second: { organisationId: string; apiKey: string };

  beforeAll(async () => {
    api = await startApiTestApp();
    first = await createOrganisation(api);
    second = await createOrganisation(api);
  });

  afterAll(async () => {
    await api.close();
  });

  async function disabledSubscription(apiKey: string): Promise<string> {
    const created = await api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key: apiKey,
      body: { url: RECEIVER, eventTypes: ['booking.*'] },
    });
    expect(created.status).toBe(201);
    const id = created.body['id'] as string;
    const disabled = await api.request({
      method: 'POST',
      url: `/v1/subscriptions/${id}/disable`,
      key: apiKey,
    });
    expect(disabled.status).toBe(200);
    return id;
  }

  it('lists disabled subscriptions of every organisation, or of one, with reason and owner', async () => {
    const ofFirst = await disabledSubscription(first.apiKey);
    const ofSecond = await disabledSubscription(second.apiKey);

    const all = await api.request({
      method: 'GET',
      url: '/admin/v1/subscriptions?status=disabled',
      headers: admin,
    });
    expect(all.status).toBe(200);
    const listed = all.body['data'] as { id: string; organisationId: string; disabledReason: string }[];
    expect(listed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: ofFirst,
          organisationId: first.organisationId,
          disabledReason: 'partner',
        }),
        expect.objectContaining({ id: ofSecond, organisationId: second.organisationId }),
      ]),
    );

    const narrowed = await api.request({
      method: 'GET',
      url: `/admin/v1/subscriptions?status=disabled&organisationId=${second.organisationId}&limit=1`,
      headers: admin,
    });
    expect((narrowed.body['data'] as { id: string }[]).map(({ id }) => id)).toEqual([ofSecond]);
  });

  it("enables a subscription in its organisation's name: the partner sees it active at the next version", async () => {
    const id = await disabledSubscription(first.apiKey);
    const enabled = await api.request({
      method: 'POST',
      url: `/admin/v1/subscriptions/${id}/enable`,
      headers: admin,
    });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({
      id,
      organisationId: first.organisationId,
      status: 'active',
      version: 3,
    });

    const seen = await api.request({ method: 'GET', url: `/v1/subscriptions/${id}`, key: first.apiKey });
    expect(seen.body).toMatchObject({ status: 'active', version: 3, disabledReason: null });

    const stale = await api.request({
      method: 'POST',
      url: `/admin/v1/subscriptions/${id}/enable`,
      headers: { ...admin, 'if-match': '"2"' },
    });
    expect(stale.status).toBe(409);
  });

  it('answers 404 for a subscription nobody has and 401 without the admin token', async () => {
    const unknown = await api.request({
      method: 'POST',
      url: '/admin/v1/subscriptions/sub_unknown/enable',
      headers: admin,
    });
    expect(unknown.status).toBe(404);
    const anonymous = await api.request({ method: 'GET', url: '/admin/v1/subscriptions?status=disabled' });
    expect(anonymous.status).toBe(401);
    const withPartnerKey = await api.request({
      method: 'GET',
      url: '/admin/v1/subscriptions',
      key: first.apiKey,
    });
    expect(withPartnerKey.status).toBe(401);
  });

  it("starts and follows a replay in the organisation's name, and only for its own subscriptions", async () => {
    const id = await disabledSubscription(first.apiKey);
    await api.request({ method: 'POST', url: `/admin/v1/subscriptions/${id}/enable`, headers: admin });
    const window = { since: '2025-12-31T00:00:00.000Z', until: '2026-01-01T00:00:00.000Z' };

    const started = await api.request({
      method: 'POST',
      url: `/admin/v1/organisations/${first.organisationId}/subscriptions/${id}/replay`,
      headers: admin,
      body: { ...window, statuses: ['failed'] },
    });
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ subscriptionId: id, ...window, statuses: ['failed'], matched: 0 });
    const jobId = started.body['id'] as string;
    expect(started.headers['location']).toBe(
      `/admin/v1/organisations/${first.organisationId}/subscriptions/${id}/replays/${jobId}`,
    );

    const followed = await api.request({
      method: 'GET',
      url: `/admin/v1/organisations/${first.organisationId}/subscriptions/${id}/replays/${jobId}`,
      headers: admin,
    });
    expect(followed.body).toMatchObject({ id: jobId, subscriptionId: id });
    const partnerView = await api.request({
      method: 'GET',
      url: `/v1/subscriptions/${id}/replays/${jobId}`,
      key: first.apiKey,
    });
    expect(partnerView.status).toBe(200);

    const elsewhere = await api.request({
      method: 'POST',
      url: `/admin/v1/organisations/${second.organisationId}/subscriptions/${id}/replay`,
      headers: admin,
      body: window,
    });
    expect(elsewhere.status).toBe(404);
    const noOrganisation = await api.request({
      method: 'POST',
      url: `/admin/v1/organisations/org_missing/subscriptions/${id}/replay`,
      headers: admin,
      body: window,
    });
    expect(noOrganisation.status).toBe(404);
  });
});
