import {
  adminOrganisationsCreate,
  eventsPublish,
  eventTypesRegister,
  SkyhookApiError,
  skyhookApi,
  subscriptionsCreate,
  subscriptionsGet,
  subscriptionsList,
  subscriptionsUpdate,
} from '@skyhook/api-client';
import { type ApiTestApp, startApiTestApp, TEST_ADMIN_TOKEN } from '../test/api-test-app';

/**
 * The generated client (libs/api-client) against the api listening on loopback: real HTTP, real
 * Kafka and PostgreSQL. What a partner's code or the portal does through it must work, and what the
 * api refuses must arrive as a SkyhookApiError that names the refusal.
 */
describe('the generated client against a running api', () => {
  let api: ApiTestApp;
  let baseUrl: string;

  beforeAll(async () => {
    api = await startApiTestApp({ systemClock: true });
    await api.app.listen(0, '127.0.0.1');
    baseUrl = await api.app.getUrl();
  });

  afterAll(async () => {
    await api.close();
  });

  async function newOrganisation(name: string): Promise<string> {
    const admin = skyhookApi({ baseUrl, credential: TEST_ADMIN_TOKEN });
    const { data } = await adminOrganisationsCreate({ client: admin, throwOnError: true, body: { name } });
    return data.apiKey;
  }

  it('creates, reads, lists and edits a subscription, and publishes an event, with the types the api documents', async () => {
    const client = skyhookApi({ baseUrl, credential: await newOrganisation('Client Test Aviation') });
    await eventTypesRegister({
      client,
      throwOnError: true,
      body: { eventTypes: [{ name: 'booking.created' }] },
    });
    const { data: created } = await subscriptionsCreate({
      client,
      throwOnError: true,
      body: { url: 'http://127.0.0.1:9/hooks', eventTypes: ['booking.created'], description: 'first' },
    });
    expect(created.id).toMatch(/^sub_/);
    expect(created.signingSecret).toMatch(/^whsec_/);

    const { data: read } = await subscriptionsGet({ client, throwOnError: true, path: { id: created.id } });
    expect(read).toMatchObject({ id: created.id, url: 'http://127.0.0.1:9/hooks', status: 'active' });

    const { data: page } = await subscriptionsList({ client, throwOnError: true, query: { limit: 10 } });
    expect(page.data.map((subscription) => subscription.id)).toEqual([created.id]);

    const { data: edited } = await subscriptionsUpdate({
      client,
      throwOnError: true,
      path: { id: created.id },
      headers: { 'If-Match': `"${read.version}"` },
      body: { description: 'edited' },
    });
    expect(edited).toMatchObject({ description: 'edited', version: read.version + 1 });

    const { data: published } = await eventsPublish({
      client,
      throwOnError: true,
      body: { type: 'booking.created', data: { bookingId: 'bk_1' } },
    });
    expect(published.id).toMatch(/^evt_/);
  });

  it("refuses another organisation's subscription as not found, a stale version as a conflict, and a wrong key", async () => {
    const owner = skyhookApi({ baseUrl, credential: await newOrganisation('Owner Aviation') });
    const other = skyhookApi({ baseUrl, credential: await newOrganisation('Other Aviation') });
    await eventTypesRegister({
      client: owner,
      throwOnError: true,
      body: { eventTypes: [{ name: 'booking.created' }] },
    });
    const { data: created } = await subscriptionsCreate({
      client: owner,
      throwOnError: true,
      body: { url: 'http://127.0.0.1:9/owner', eventTypes: ['*'] },
    });

    const hidden = await subscriptionsGet({
      client: other,
      throwOnError: true,
      path: { id: created.id },
    }).catch((error: unknown) => error);
    expect(hidden).toBeInstanceOf(SkyhookApiError);
    expect(hidden).toMatchObject({
      status: 404,
      code: 'SUBSCRIPTION_NOT_FOUND',
      path: `/v1/subscriptions/${created.id}`,
    });

    const stale = await subscriptionsUpdate({
      client: owner,
      throwOnError: true,
      path: { id: created.id },
      headers: { 'If-Match': '"99"' },
      body: { description: 'late' },
    }).catch((error: unknown) => error);
    expect(stale).toMatchObject({ status: 409 });

    const stranger = skyhookApi({ baseUrl, credential: 'sk_not_a_key' });
    await expect(subscriptionsList({ client: stranger, throwOnError: true })).rejects.toMatchObject({
      status: 401,
      code: 'UNAUTHENTICATED',
    });
  });
});
