import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { Webhook } from 'standardwebhooks';
import {
  adminOrganisationsCreate,
  eventsPublish,
  eventTypesRegister,
  portalSessionsCreate,
  skyhookApi,
  subscriptionsCreate,
} from '@skyhook/api-client';
import { findFreeLoopbackPort } from '@skyhook/local-infrastructure';
import { startService as startInProcess } from '@skyhook/service-runtime';
import {
  createTestDatabase,
  pollUntil,
  type ServiceProcess,
  startService,
  startWebhookReceiver,
  TEST_CA_CERT_PATH,
  type TestDatabase,
  testKafkaBrokers,
  type WebhookReceiver,
} from '@skyhook/testing';
import { PORTAL_SERVICE } from './portal-service';

/** Debian's chromium (installed by .ci/run); CHROMIUM_PATH points elsewhere. */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** When set (e.g. docs/portal), the main pages are saved there as PNG. */
const SCREENSHOTS = process.env['PORTAL_SCREENSHOT_DIR'];

/**
 * A partner, given only a portal link, in a real browser: the whole product behind the portal (api,
 * fan-out, dispatcher and history as processes, real Kafka and PostgreSQL; the portal in this
 * process) and an HTTPS receiver. Adds an endpoint, sends a test event and sees it delivered (signed with the
 * secret the page showed once), makes the receiver fail and sees the failed attempt with its
 * response body, resends and sees it delivered; a second organisation's session sees none of it;
 * a forged post and a used link are refused.
 */
describe('the partner portal in a browser', () => {
  let database: TestDatabase;
  let apiUrl: string;
  const adminToken = randomBytes(24).toString('hex');
  let receiver: WebhookReceiver;
  let services: ServiceProcess[] = [];
  let portal: NestFastifyApplication;
  let portalUrl: string;
  let browser: Browser;

  beforeAll(async () => {
    database = await createTestDatabase('portal');
    receiver = await startWebhookReceiver();
    const environment = {
      KAFKA_BROKERS: testKafkaBrokers(),
      KAFKA_TOPIC_PREFIX: `portal-${randomBytes(4).toString('hex')}.`,
      LOG_LEVEL: 'warn',
      DATABASE_URL: database.url,
      SECRETS_MASTER_KEY: randomBytes(32).toString('base64'),
    };
    const apiProcess = await startService('api', {
      ...environment,
      SKYHOOK_ADMIN_TOKEN: adminToken,
      SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
    });
    apiUrl = apiProcess.baseUrl;
    services = [apiProcess];
    services.push(
      ...(await Promise.all([
        startService('fanout', environment),
        startService('dispatcher', {
          ...environment,
          SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
          NODE_EXTRA_CA_CERTS: TEST_CA_CERT_PATH,
        }),
        startService('history', environment),
      ])),
    );
    portal = await startInProcess(PORTAL_SERVICE, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      SKYHOOK_API_URL: apiUrl,
      PORTAL_BRAND_NAME: 'Skyhook',
    });
    portalUrl = (await portal.getUrl()).replace('[::1]', '127.0.0.1');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await portal?.close();
    await Promise.all(services.map((service) => service.stop()));
    await receiver?.close();
    await database?.drop();
  });

  /** An organisation made through the admin API, with a catalogue; its API key. */
  async function createOrganisation(name: string, lifetimeDays?: number): Promise<string> {
    const admin = skyhookApi({ baseUrl: apiUrl, credential: adminToken });
    const { data } = await adminOrganisationsCreate({
      client: admin,
      throwOnError: true,
      body: {
        name,
        ...(lifetimeDays === undefined
          ? {}
          : { subscriptionLifetimeDays: lifetimeDays, renewalWindowDays: 5 }),
      },
    });
    await eventTypesRegister({
      client: skyhookApi({ baseUrl: apiUrl, credential: data.apiKey }),
      throwOnError: true,
      body: {
        eventTypes: [
          {
            name: 'booking.created',
            description: 'A booking was made.',
            example: { bookingId: 'bk_1', seats: 2 },
          },
          { name: 'booking.cancelled', description: 'A booking was cancelled.' },
        ],
      },
    });
    return data.apiKey;
  }

  /** The link as the api mints it, pointed at this test's portal. */
  async function portalLink(apiKey: string): Promise<string> {
    const { data } = await portalSessionsCreate({
      client: skyhookApi({ baseUrl: apiUrl, credential: apiKey }),
      throwOnError: true,
      body: {},
    });
    const token = new URL(data.url).searchParams.get('token') ?? '';
    return `${portalUrl}/enter?token=${encodeURIComponent(token)}`;
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    if (SCREENSHOTS === undefined) return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  /**
   * Reloads until `selector` matches at least `count` elements (history projects deliveries
   * within a second or so): a status badge, not a word that a form's label may also hold.
   */
  async function reloadUntil(page: Page, selector: string, description: string, count = 1): Promise<void> {
    await pollUntil(
      async () => {
        await page.reload();
        return (await page.locator(selector).count()) >= count;
      },
      { timeoutMs: 45_000, intervalMs: 500, description },
    );
  }

  it('lets a partner add an endpoint, see deliveries succeed and fail, and resend, all in the browser', async () => {
    const first = await createOrganisation('Blue Sky Flight School');
    const second = await createOrganisation('Other Aviation');
    const link = await portalLink(first);
    const context = await browser.newContext();
    const page = await context.newPage();

    // The link opens a session and lands on the subscriptions page.
    await page.goto(link);
    expect(new URL(page.url()).pathname).toBe('/subscriptions');
    await expect(page.textContent('header')).resolves.toContain('Blue Sky Flight School');

    // Add an endpoint with the event-type picker; the secret is shown once.
    await page.fill('#url', receiver.url('/portal-hook'));
    await page.fill('#description', 'Bookings for the ops system');
    await page.check('input[name=eventTypes][value="booking.created"]');
    await screenshot(page, 'subscriptions');
    await page.click('text=Add endpoint');
    const secret = ((await page.textContent('#signing-secret')) ?? '').trim();
    expect(secret).toMatch(/^whsec_/);
    const subscriptionUrl = page.url();
    const subscriptionId = /sub_[0-9a-f]+/.exec((await page.textContent('main')) ?? '')?.[0] ?? '';
    expect(subscriptionId).not.toBe('');
    await page.goto(`${portalUrl}/subscriptions/${subscriptionId}`);

    // A test event arrives, signed with that secret, and the page shows it delivered.
    await page.click('text=Send a test event');
    await expect(page.textContent('.notice')).resolves.toMatch(
      /Test event evt_\w+ \(booking\.created\) sent/,
    );
    const [arrived] = await receiver.waitForCount('/portal-hook', 1, 30_000);
    const verified = new Webhook(secret).verify(arrived!.rawBody.toString('utf8'), arrived!.headers) as {
      type: string;
    };
    expect(verified.type).toBe('booking.created');
    await reloadUntil(page, 'td .status-delivered', 'the test delivery shown as delivered');
    await screenshot(page, 'subscription');

    // The receiver fails: the failed attempt shows its status and response body.
    receiver.setBehaviour(() => ({ status: 500, body: 'ops system down for maintenance' }));
    await page.click('text=Send a test event');
    await receiver.waitForCount('/portal-hook', 2, 30_000);
    await reloadUntil(page, 'td .status-retrying, td .status-failed', 'the failing delivery shown');
    const failingId = await page
      .locator('tr', { has: page.locator('.status-retrying, .status-failed') })
      .first()
      .locator('a')
      .first()
      .textContent();
    await page.goto(`${portalUrl}/deliveries/${failingId ?? ''}`);
    await expect(page.textContent('.response-status')).resolves.toContain('500');
    await expect(page.textContent('.response-body')).resolves.toContain('ops system down for maintenance');
    await screenshot(page, 'delivery-failed');

    // Fixed: resend, and the delivery is delivered.
    receiver.setBehaviour(() => ({ status: 200 }));
    await page.click('text=Resend');
    await expect(page.textContent('.notice')).resolves.toMatch(/Resent as attempt \d+/);
    await reloadUntil(page, 'dd .status-delivered', 'the resent delivery shown as delivered');
    await page.goto(`${portalUrl}/deliveries`);
    await screenshot(page, 'deliveries');

    // A forged post (no form token) is refused, and changed nothing.
    const forged = await page.request.post(
      `${subscriptionUrl.replace(/\/subscriptions.*$/, '')}/subscriptions/${subscriptionId}/disable`,
      {
        form: {},
        maxRedirects: 0,
      },
    );
    expect(forged.status()).toBe(403);
    await page.goto(`${portalUrl}/subscriptions/${subscriptionId}`);
    await expect(page.locator('dd .status-active').count()).resolves.toBe(1);
    // Neither ordered nor rate-limited, and the page says so.
    await expect(page.textContent('main')).resolves.toMatch(
      /Order\s*none: deliveries may arrive in any order/,
    );
    await expect(page.textContent('main')).resolves.toMatch(/Rate limit\s*none/);

    // The link was for one session only.
    const reopened = await (await browser.newContext()).newPage();
    await reopened.goto(link);
    await expect(reopened.textContent('h1')).resolves.toBe('This link cannot be opened');

    // Another organisation's session sees none of it.
    const other = await (await browser.newContext()).newPage();
    await other.goto(await portalLink(second));
    await expect(other.textContent('main')).resolves.toContain('No subscriptions yet');
    const hidden = await other.goto(`${portalUrl}/subscriptions/${subscriptionId}`);
    expect(hidden?.status()).toBe(404);
    const hiddenDelivery = await other.goto(`${portalUrl}/deliveries/${failingId ?? ''}`);
    expect(hiddenDelivery?.status()).toBe(404);
    await other.goto(`${portalUrl}/deliveries`);
    await expect(other.textContent('main')).resolves.toContain('No deliveries yet');
  }, 240_000);

  it('shows an ordered, rate-limited endpoint and lets the partner skip a delivery that holds its key', async () => {
    const apiKey = await createOrganisation('Ordered Aviation');
    const client = skyhookApi({ baseUrl: apiUrl, credential: apiKey });
    receiver.setBehaviour((request) =>
      request.path === '/held' ? { status: 503, body: 'not today' } : { status: 200 },
    );
    try {
      const { data: subscription } = await subscriptionsCreate({
        client,
        throwOnError: true,
        body: {
          url: receiver.url('/held'),
          eventTypes: ['booking.created'],
          ordering: { key: '/data/bookingId', afterFinalFailure: 'hold' },
          rateLimit: { perSecond: 10 },
          // One attempt only: the delivery fails for good at once, and holds its key.
          policy: { retry: { delaysMs: [], retryOn: 'any-non-2xx', honourRetryAfter: false } },
        },
      });
      await eventsPublish({
        client,
        throwOnError: true,
        body: { type: 'booking.created', data: { bookingId: 'bk_held', seats: 1 } },
      });
      const page = await (await browser.newContext()).newPage();
      await page.goto(await portalLink(apiKey));
      await page.goto(`${portalUrl}/subscriptions/${subscription.id}`);
      await expect(page.textContent('main')).resolves.toMatch(
        /Order\s*per \/data\/bookingId; after a final failure:\s*hold the key/,
      );
      await expect(page.textContent('main')).resolves.toMatch(/Rate limit\s*10 requests a second/);

      await page.goto(`${portalUrl}/deliveries`);
      await reloadUntil(page, 'td .status-failed', 'the held delivery shown as failed');
      await page
        .locator('tr', { has: page.locator('.status-failed') })
        .first()
        .locator('a')
        .first()
        .click();
      await page.click('form[action$="/skip"] button[type=submit]');
      await expect(page.textContent('.notice')).resolves.toContain('Skipped: key "bk_held" goes on');
    } finally {
      receiver.setBehaviour(() => ({ status: 200 }));
    }
  }, 120_000);

  it('manages an endpoint: edit, a typed test event, rotation with its steps, a replay with progress, revocation', async () => {
    const apiKey = await createOrganisation('Manage Aviation', 30);
    const page = await (await browser.newContext()).newPage();
    await page.goto(await portalLink(apiKey));
    await page.fill('#url', receiver.url('/managed'));
    await page.check('input[name=eventTypes][value="*"]');
    await page.click('text=Add endpoint');
    const firstSecret = ((await page.textContent('#signing-secret')) ?? '').trim();
    const subscriptionId = /sub_[0-9a-f]+/.exec((await page.textContent('main')) ?? '')?.[0] ?? '';
    await page.goto(`${portalUrl}/subscriptions/${subscriptionId}`);

    // Its subscriptions live 30 days: the renewal window is shown, and renewing before it says so.
    const opensAt = new Date(Date.now() + 25 * 86_400_000).toISOString().slice(0, 10);
    await expect(page.textContent('#renewal-window')).resolves.toContain(`opens ${opensAt}`);
    await page.click('form[action$="/renew"] button[type=submit]');
    await expect(page.textContent('.notice')).resolves.toContain(`renewal opens at ${opensAt}`);

    await page.fill('#edit-description', 'Edited in the portal');
    await page.click('form[action$="/edit"] button[type=submit]');
    await expect(page.textContent('.notice')).resolves.toContain('Saved.');
    await expect(page.textContent('main')).resolves.toContain('Edited in the portal');

    // Order and pace: a key that is not a JSON Pointer is refused with the api's reason; a valid
    // one and a rate limit are saved and shown; emptied, both are removed.
    await page.fill('#pace-ordering-key', 'bookingId');
    await page.click('form[action$="/pace"] button[type=submit]');
    await expect(page.textContent('.notice-error')).resolves.toMatch(/JSON Pointer/i);
    await page.fill('#pace-ordering-key', '/data/bookingId');
    await page.check('input[name=afterFinalFailure][value=hold]');
    await page.fill('#pace-rate-limit', '25');
    await page.click('form[action$="/pace"] button[type=submit]');
    await expect(page.textContent('.notice')).resolves.toContain('Order and pace saved.');
    await expect(page.textContent('main')).resolves.toMatch(
      /Order\s*per \/data\/bookingId; after a final failure:\s*hold the key/,
    );
    await expect(page.textContent('main')).resolves.toMatch(/Rate limit\s*25 requests a second/);
    await page.fill('#pace-ordering-key', '');
    await page.fill('#pace-rate-limit', '');
    await page.click('form[action$="/pace"] button[type=submit]');
    await expect(page.textContent('main')).resolves.toMatch(/Order\s*none/);
    await expect(page.textContent('main')).resolves.toMatch(/Rate limit\s*none/);

    // A test event of a catalogue type carries that type.
    await page.selectOption('#test-type', 'booking.created');
    await page.click('text=Send a test event');
    await expect(page.textContent('.notice')).resolves.toMatch(/\(booking\.created\) sent/);
    const [typed] = await receiver.waitForCount('/managed', 1, 30_000);
    expect(
      (new Webhook(firstSecret).verify(typed!.rawBody.toString('utf8'), typed!.headers) as { type: string })
        .type,
    ).toBe('booking.created');

    // "Verify your endpoint": receiver code for the scheme, and the debugger on a real request.
    await page.click('text=Verify your endpoint');
    await expect(page.textContent('#receiver-code')).resolves.toContain("from 'standardwebhooks'");
    const pastedHeaders = Object.entries(typed!.headers)
      .map(([name, value]) => `${name}: ${value}`)
      .join('\n');
    await page.fill('#debug-secret', firstSecret);
    await page.fill('#debug-headers', pastedHeaders);
    await page.fill('#debug-body', typed!.rawBody.toString('utf8'));
    await page.click('form[action$="/verify"] button[type=submit]');
    await expect(page.textContent('#debugger-result h3')).resolves.toBe('Verified: this request is genuine');
    await screenshot(page, 'verify');
    await page.fill('#debug-secret', firstSecret);
    await page.fill('#debug-body', typed!.rawBody.toString('utf8').replace('bk_1', 'bk_9'));
    await page.click('form[action$="/verify"] button[type=submit]');
    await expect(page.textContent('#debugger-result h3')).resolves.toBe('Not verified');
    await expect(page.textContent('#debugger-result .check-failed')).resolves.toContain('signature');
    await page.goto(`${portalUrl}/subscriptions/${subscriptionId}`);

    // Rotation: the new secret once, the steps for this profile, and deliveries signed with it.
    await page.click('form[action$="/rotate"] button[type=submit]');
    const secondSecret = ((await page.textContent('#signing-secret')) ?? '').trim();
    expect(secondSecret).toMatch(/^whsec_/);
    expect(secondSecret).not.toBe(firstSecret);
    await expect(page.textContent('main')).resolves.toContain(
      'Deliveries now carry a signature with each secret',
    );
    await screenshot(page, 'rotation');
    await page.goto(`${portalUrl}/subscriptions/${subscriptionId}`);
    await page.click('text=Send a test event');
    const afterRotation = (await receiver.waitForCount('/managed', 2, 30_000))[1]!;
    for (const secret of [firstSecret, secondSecret]) {
      expect(() =>
        new Webhook(secret).verify(afterRotation.rawBody.toString('utf8'), afterRotation.headers),
      ).not.toThrow();
    }
    await reloadUntil(page, 'td .status-delivered', 'both test deliveries shown delivered', 2);

    // A replay of today's delivered deliveries, followed to the end.
    await page.fill('#replay-since', `${new Date().toISOString().slice(0, 10)}T00:00:00Z`);
    await page.uncheck('input[name=statuses][value=failed]');
    await page.check('input[name=statuses][value=delivered]');
    await page.click('form[action$="/replay"] button[type=submit]');
    expect(new URL(page.url()).pathname).toMatch(/\/replays\/rpl_/);
    await pollUntil(
      async () => {
        await page.reload();
        return ((await page.textContent('main')) ?? '').includes('completed');
      },
      { timeoutMs: 45_000, intervalMs: 500, description: 'the replay completed' },
    );
    expect(((await page.textContent('main')) ?? '').replace(/\s+/g, ' ')).toContain(
      '2 of 2 deliveries resent',
    );
    await receiver.waitForCount('/managed', 4, 30_000);

    // A disabled endpoint is named on every page until it is enabled again.
    await page.goto(`${portalUrl}/subscriptions/${subscriptionId}`);
    await page.click('form[action$="/disable"] button[type=submit]');
    // (The list the banner reads is the read model, which follows the change within moments.)
    await page.goto(`${portalUrl}/deliveries`);
    await reloadUntil(page, '#disabled-banner', 'the banner naming the disabled endpoint');
    await expect(page.textContent('#disabled-banner')).resolves.toContain(receiver.url('/managed'));
    // The partner notification of it (and of the replay before) is in the recent-notifications banner.
    await expect(page.textContent('#notifications-banner')).resolves.toContain(
      `${receiver.url('/managed')} was disabled (partner)`,
    );
    await expect(page.textContent('#notifications-banner')).resolves.toMatch(/replay rpl_\w+ finished/);
    await screenshot(page, 'notifications');
    await page.goto(`${portalUrl}/subscriptions/${subscriptionId}`);
    await page.click('form[action$="/enable"] button[type=submit]');
    await pollUntil(
      async () => {
        await page.reload();
        return (await page.locator('#disabled-banner').count()) === 0;
      },
      { timeoutMs: 30_000, intervalMs: 250, description: 'the banner gone once enabled' },
    );

    // Revocation asks for a confirmation, and is final.
    await page.goto(`${portalUrl}/subscriptions/${subscriptionId}`);
    await page.check('input[name=confirm]');
    await page.click('form[action$="/revoke"] button[type=submit]');
    await expect(page.textContent('.notice')).resolves.toContain('Endpoint revoked.');
    await expect(page.locator('dd .status-revoked').count()).resolves.toBe(1);
    await expect(page.locator('text=Send a test event').count()).resolves.toBe(0);
  }, 180_000);

  it('has no WCAG 2 A/AA violations axe-core can find on any page', async () => {
    const apiKey = await createOrganisation('Accessible Aviation');
    // The pages' CSP forbids script: the checker is let in for this test only.
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    const axe = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    const violationsOf = async (path: string): Promise<string[]> => {
      await page.goto(`${portalUrl}${path}`);
      await page.addScriptTag({ content: axe });
      const found = await page.evaluate(async () => {
        interface AxeResults {
          passes: unknown[];
          violations: { id: string; nodes: { target: string[] }[] }[];
        }
        const checker = (globalThis as unknown as { axe: { run(options: object): Promise<AxeResults> } }).axe;
        const results = await checker.run({
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        });
        return {
          passes: results.passes.length,
          violations: results.violations.map(
            (violation) =>
              `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`,
          ),
        };
      });
      // The checker did check something: a page it could not read would pass with nothing found.
      expect(found.passes).toBeGreaterThan(5);
      return found.violations.map((violation) => `${path} ${violation}`);
    };
    const signIn = await violationsOf('/login');
    await page.goto(await portalLink(apiKey));
    await page.fill('#url', receiver.url('/accessible'));
    await page.check('input[name=eventTypes][value="*"]');
    await page.click('text=Add endpoint');
    const subscriptionId = /sub_[0-9a-f]+/.exec((await page.textContent('main')) ?? '')?.[0] ?? '';
    await page.goto(`${portalUrl}/subscriptions/${subscriptionId}`);
    await page.click('text=Send a test event');
    await reloadUntil(page, 'td .status-delivered', 'the test delivery shown');
    const deliveryId = (await page.locator('td a').first().textContent()) ?? '';
    const violations = [
      ...signIn,
      ...(await violationsOf('/subscriptions')),
      ...(await violationsOf(`/subscriptions/${subscriptionId}`)),
      ...(await violationsOf(`/subscriptions/${subscriptionId}/verify`)),
      ...(await violationsOf('/deliveries')),
      ...(await violationsOf(`/deliveries/${deliveryId}`)),
      ...(await violationsOf('/event-types')),
    ];
    expect(violations).toEqual([]);
  }, 120_000);

  it('answers hostile links, cookies and keys with the page that says so, never an error', async () => {
    const get = (path: string, cookie?: string) =>
      fetch(`${portalUrl}${path}`, { redirect: 'manual', headers: cookie === undefined ? {} : { cookie } });
    for (const token of ['%0d%0aX-Injected:%201', 'spl_short', `sps_${'a'.repeat(43)}`, '']) {
      const answer = await get(`/enter?token=${token}`);
      expect({ token, status: answer.status }).toEqual({ token, status: 401 });
      expect(await answer.text()).toContain('This link cannot be opened');
    }
    const twice = await get('/enter?token=a&token=b');
    expect(twice.status).toBe(401);
    for (const cookie of [
      'skyhook_portal=%0d%0aX',
      `skyhook_portal=spl_${'a'.repeat(43)}`,
      `skyhook_portal=sps_${'a'.repeat(43)}`,
    ]) {
      const answer = await get('/subscriptions', cookie);
      expect({ cookie, status: answer.status }).toEqual({ cookie, status: 303 });
      expect(answer.headers.get('location')).toMatch(/^\/login/);
    }
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${portalUrl}/login`);
    await page.fill('#apiKey', 'sk_with space and ünïcode');
    await page.click('button[type=submit]');
    await expect(page.textContent('[role=alert]')).resolves.toContain('That API key was not accepted');
  });

  it('sends a visitor without a session to sign in, and signs in with an API key', async () => {
    const apiKey = await createOrganisation('Key Aviation');
    const page = await (await browser.newContext()).newPage();
    await page.goto(`${portalUrl}/deliveries`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#apiKey', 'sk_wrong');
    await page.click('button[type=submit]');
    await expect(page.textContent('[role=alert]')).resolves.toContain('That API key was not accepted');
    await page.fill('#apiKey', apiKey);
    await page.click('button[type=submit]');
    expect(new URL(page.url()).pathname).toBe('/subscriptions');
    await expect(page.textContent('header')).resolves.toContain('Key Aviation');
    await page.click('text=Sign out');
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.goto(`${portalUrl}/subscriptions`);
    expect(new URL(page.url()).pathname).toBe('/login');
  }, 60_000);
  it("embeds in a partner's page when PORTAL_FRAME_ANCESTORS names it, and refuses to be framed otherwise", async () => {
    // The partner's product: another site (localhost, not 127.0.0.1) framing the portal.
    const partnerPort = await findFreeLoopbackPort();
    const framed = await startInProcess(PORTAL_SERVICE, {
      PORT: '0',
      LOG_LEVEL: 'warn',
      SKYHOOK_API_URL: apiUrl,
      PORTAL_FRAME_ANCESTORS: `http://localhost:${partnerPort}`,
      PORTAL_BRAND_NAME: 'Partner Ops',
    });
    const framedUrl = (await framed.getUrl()).replace('[::1]', '127.0.0.1');
    let frameSource = '';
    const contexts: BrowserContext[] = [];
    const track = (context: BrowserContext): BrowserContext => {
      contexts.push(context);
      return context;
    };
    const partner = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(
        `<!doctype html><html lang="en"><title>Partner</title><iframe title="webhooks" src="${frameSource}" width="1000" height="700"></iframe></html>`,
      );
    });
    await new Promise<void>((resolve) => partner.listen(partnerPort, '127.0.0.1', resolve));
    try {
      const apiKey = await createOrganisation('Framed Aviation');
      const page = await track(await browser.newContext()).newPage();

      frameSource = (await portalLink(apiKey)).replace(portalUrl, framedUrl);
      await page.goto(`http://localhost:${partnerPort}/`);
      const frame = page.frameLocator('iframe');
      // The session cookie (SameSite=None) reaches the portal inside the frame: pages load signed in.
      await expect(frame.locator('header').textContent()).resolves.toContain('Framed Aviation');
      await expect(frame.locator('h1').textContent()).resolves.toBe('Subscriptions');

      // The default portal (frame-ancestors 'none') is not shown inside another site's page.
      frameSource = await portalLink(apiKey);
      const blocked = await track(await browser.newContext()).newPage();
      await blocked.goto(`http://localhost:${partnerPort}/`);
      await blocked.waitForLoadState('load');
      // Chromium replaces a refused frame with its error page: no frame holds a portal page.
      expect(blocked.frames().filter((candidate) => candidate.url().startsWith(portalUrl))).toEqual([]);
      const policy = (await fetch(`${portalUrl}/login`)).headers.get('content-security-policy') ?? '';
      expect(policy).toContain("frame-ancestors 'none'");
    } finally {
      // The browser's keep-alive connections would hold the servers' close open.
      await Promise.all(contexts.map((context) => context.close()));
      partner.closeAllConnections();
      await new Promise((resolve) => partner.close(resolve));
      await framed.close();
    }
  }, 60_000);

  // Last: it stops the api.
  it('says the service is unavailable, with Retry-After, while the api is down', async () => {
    const link = await portalLink(await createOrganisation('Outage Aviation'));
    const entered = await fetch(link, { redirect: 'manual' });
    const cookie = (entered.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect((await fetch(`${portalUrl}/subscriptions`, { headers: { cookie } })).status).toBe(200);
    await services[0]!.stop();
    const answer = await fetch(`${portalUrl}/subscriptions`, { headers: { cookie } });
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('5');
    expect(await answer.text()).toContain('Temporarily unavailable');
    expect((await fetch(`${portalUrl}/health/ready`)).status).toBe(503);
  });
});
