import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import {
  adminOrganisationsCreate,
  adminOrganisationsCreateApiKey,
  adminOrganisationsList,
  eventsPublish,
  eventTypesRegister,
  portalSessionsCreate,
  skyhookApi,
  subscriptionsCreate,
  subscriptionsEnable,
  subscriptionsList,
} from '@skyhook/api-client';

export const DEMO_ORGANISATION_NAME = 'Skyhook demo';

export interface DemoOptions {
  readonly apiUrl: string;
  readonly adminToken: string;
  /** Where the demo receiver listens (loopback); its subscription points here. */
  readonly receiverPort: number;
  /** One event is published this often. */
  readonly publishEveryMs?: number;
  readonly log: (line: string) => void;
}

export interface RunningDemo {
  readonly organisationId: string;
  readonly receiverUrl: string;
  /** A fresh portal link for the demo organisation (each opens once). */
  portalLink(): Promise<string>;
  stop(): Promise<void>;
}

/** Every fourth booking fails, so retries (and a resend) show in the portal within a minute. */
const FAILING_EVERY = 4;
/** Where the demo's notification endpoint points; those are always answered 200. */
const NOTIFICATIONS_PATH = '/notifications';

/**
 * `npm start`'s first minute: a demo organisation (made once, found by name afterwards), a
 * loopback receiver that answers most webhooks 200 and every fourth 503, a subscription to it,
 * and a booking event published every few seconds, so a newcomer sees deliveries succeed, fail,
 * retry and resend in the portal without writing a line. Everything goes through the api's own
 * routes, with the generated client.
 */
export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const receiver = await startDemoReceiver(options.receiverPort);
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks`;
  try {
    const admin = skyhookApi({ baseUrl: options.apiUrl, credential: options.adminToken });
    const { data: organisations } = await adminOrganisationsList({ client: admin, throwOnError: true });
    const existing = organisations.data.find((organisation) => organisation.name === DEMO_ORGANISATION_NAME);
    const organisationId =
      existing?.id ??
      (
        await adminOrganisationsCreate({
          client: admin,
          throwOnError: true,
          body: { name: DEMO_ORGANISATION_NAME, profile: 'standard-webhooks' },
        })
      ).data.organisation.id;
    // Keys are shown once: each start issues the demo its own.
    const { data: key } = await adminOrganisationsCreateApiKey({
      client: admin,
      throwOnError: true,
      path: { id: organisationId },
      body: { label: 'npm start demo' },
    });
    const client = skyhookApi({ baseUrl: options.apiUrl, credential: key.apiKey });
    await eventTypesRegister({
      client,
      throwOnError: true,
      body: {
        eventTypes: [
          {
            name: 'booking.created',
            description: 'A training booking was made.',
            example: exampleBooking(1),
          },
          {
            name: 'booking.cancelled',
            description: 'A training booking was cancelled.',
            example: exampleBooking(2),
          },
        ],
      },
    });
    const { data: subscriptions } = await subscriptionsList({
      client,
      throwOnError: true,
      query: { limit: 100 },
    });
    // The demo receiver takes the bookings, and (on another path) Skyhook's own notifications
    // about the demo's endpoints: disable one in the portal and both show.
    const notificationsUrl = receiverUrl.replace(/\/webhooks$/, NOTIFICATIONS_PATH);
    for (const wanted of [
      { url: receiverUrl, eventTypes: ['*'], description: 'The demo receiver npm start runs' },
      {
        url: notificationsUrl,
        eventTypes: ['skyhook.*'],
        description: "Skyhook's notifications about the demo's endpoints",
      },
    ]) {
      const subscription = subscriptions.data.find((candidate) => candidate.url === wanted.url);
      if (subscription === undefined) {
        await subscriptionsCreate({ client, throwOnError: true, body: wanted });
      } else if (subscription.status === 'disabled') {
        await subscriptionsEnable({ client, throwOnError: true, path: { id: subscription.id } });
      }
    }

    let published = 0;
    const publisher = setInterval(() => {
      published += 1;
      eventsPublish({
        client,
        throwOnError: true,
        body: {
          type: published % 3 === 0 ? 'booking.cancelled' : 'booking.created',
          data: exampleBooking(published),
        },
      }).catch((error: unknown) => options.log(`demo: a publish failed: ${String(error)}`));
    }, options.publishEveryMs ?? 5_000);

    return {
      organisationId,
      receiverUrl,
      portalLink: async () => {
        const { data } = await portalSessionsCreate({ client, throwOnError: true, body: {} });
        return data.url;
      },
      stop: async () => {
        clearInterval(publisher);
        await closeServer(receiver);
      },
    };
  } catch (error) {
    await closeServer(receiver);
    throw error;
  }
}

function exampleBooking(n: number): Record<string, unknown> {
  return {
    bookingId: `bk_demo_${n}`,
    aircraft: n % 2 === 0 ? 'G-SKYH' : 'G-HOOK',
    instructor: 'A. Pilot',
    startsAt: new Date(Date.now() + 86_400_000).toISOString(),
  };
}

function startDemoReceiver(port: number): Promise<Server> {
  let requests = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const notification = request.url === NOTIFICATIONS_PATH;
      if (!notification) requests += 1;
      if (!notification && requests % FAILING_EVERY === 0) {
        response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '5' });
        response.end('{"error":"demo receiver: simulated outage, try again shortly"}');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"received":true}');
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
