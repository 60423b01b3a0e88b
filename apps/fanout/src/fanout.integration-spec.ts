import { Kafka, logLevel } from 'kafkajs';
import {
  deliveryIdOf,
  type DeliveryRequest,
  type InboundEvent,
  inboundEventContract,
  organisationSnapshotContract,
  type SubscriptionEvent,
  subscriptionEventContract,
} from '@skyhook/contracts';
import {
  ContractProducer,
  kafkaEnvironmentSchema,
  kafkaSettingsFrom,
  type KafkaSettings,
  provisionTopics,
  topicNameOf,
} from '@skyhook/messaging';
import { DEAD_LETTER_HEADERS } from '@skyhook/messaging';
import { runWithTraceId } from '@skyhook/observability';
import {
  pollUntil,
  readTopic,
  type ServiceProcess,
  spawnService,
  startService,
  testKafkaEnvironment,
} from '@skyhook/testing';

const at = '2026-06-01T10:00:00.000Z';

interface Harness {
  readonly environment: Record<string, string>;
  readonly settings: KafkaSettings;
  readonly producer: ContractProducer;
  readonly versions: Map<string, number>;
}

async function harness(): Promise<Harness> {
  const environment = { ...testKafkaEnvironment(), LOG_LEVEL: 'warn' };
  const settings = kafkaSettingsFrom(kafkaEnvironmentSchema.parse(environment), 'fanout-test');
  const kafka = new Kafka({
    clientId: 'fanout-test',
    brokers: [...settings.brokers],
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  await provisionTopics(admin, settings, [
    'inboundEvents',
    'inboundEventsDeadLetter',
    'subscriptionEvents',
    'organisationSnapshots',
    'deliveryRequests',
    'deliveryRequestsDeadLetter',
  ]);
  await admin.disconnect();
  const producer = new ContractProducer(kafka, settings);
  await producer.connect();
  return { environment, settings, producer, versions: new Map() };
}

async function organisation(h: Harness, organisationId: string, eventTypes: string[]): Promise<void> {
  await h.producer.send(organisationSnapshotContract, 'organisationSnapshots', [
    { organisationId, eventTypes, profile: 'standard-webhooks', defaultPolicy: {}, updatedAt: at },
  ]);
}

async function subscriptionEvent(
  h: Harness,
  subscriptionId: string,
  change: Record<string, unknown> & { type: SubscriptionEvent['type'] },
  organisationId = 'org_a',
): Promise<void> {
  const version = (h.versions.get(subscriptionId) ?? 0) + 1;
  h.versions.set(subscriptionId, version);
  await h.producer.send(subscriptionEventContract, 'subscriptionEvents', [
    { subscriptionId, organisationId, version, occurredAt: at, ...change } as SubscriptionEvent,
  ]);
}

function created(eventTypes: string[], scopeFilter: Record<string, string> = {}) {
  return {
    type: 'SubscriptionCreated' as const,
    fields: { url: 'https://93.184.216.34/hook', description: '', eventTypes, scopeFilter, policy: {} },
    secrets: [{ id: 'sec_1', encrypted: 'v1.x', hint: 'whsec_…abcd', createdAt: at, retiresAt: null }],
    expiresAt: null,
  };
}

function inboundEvent(
  id: string,
  type: string,
  scope: Record<string, string> = {},
  organisationId = 'org_a',
): InboundEvent {
  return { id, type, organisationId, scope, occurredAt: at, data: { id } };
}

async function waitReady(service: ServiceProcess): Promise<void> {
  await pollUntil(async () => (await fetch(`${service.baseUrl}/health/ready`)).status === 200, {
    timeoutMs: 30_000,
    description: 'fanout ready',
  });
}

function requestsIn(records: { value: string }[]): DeliveryRequest[] {
  return records.map((record) => JSON.parse(record.value) as DeliveryRequest);
}

describe('fanout service against a real broker', () => {
  it('matches exact, wildcard, prefix and scope filters, follows the lifecycle, and dead-letters bad records', async () => {
    const h = await harness();
    await organisation(h, 'org_a', [
      'booking.created',
      'booking.cancelled',
      'mel.deferral.expiring',
      'FLIGHT_TIME_UPDATE',
    ]);
    await subscriptionEvent(h, 'sub_exact', created(['booking.created']));
    await subscriptionEvent(h, 'sub_star', created(['*']));
    await subscriptionEvent(h, 'sub_prefix', created(['mel.*']));
    await subscriptionEvent(h, 'sub_scoped', created(['*'], { centerId: 'c1' }));
    await subscriptionEvent(h, 'sub_other_org', created(['*']), 'org_b');

    const fanout = await startService('fanout', h.environment);
    const requests = await readTopic(h.settings.brokers, topicNameOf(h.settings, 'deliveryRequests'));
    const deadLetters = await readTopic(
      h.settings.brokers,
      topicNameOf(h.settings, 'inboundEventsDeadLetter'),
    );
    try {
      await waitReady(fanout);
      const pairsOf = (eventId: string) =>
        requestsIn(requests.records)
          .filter((request) => request.event.id === eventId)
          .map((request) => request.subscriptionId)
          .sort();
      const publishAndCollect = async (
        event: InboundEvent,
        marker: string,
        expected: string[],
      ): Promise<string[]> => {
        await h.producer.send(inboundEventContract, 'inboundEvents', [event]);
        await pollUntil(
          () =>
            pairsOf(event.id).length >= expected.length &&
            (expected.length > 0 || pairsOf(marker).length > 0),
          {
            description: `requests for ${event.id}`,
          },
        );
        return pairsOf(event.id);
      };

      expect(
        await publishAndCollect(inboundEvent('e1', 'booking.created'), '', ['sub_exact', 'sub_star']),
      ).toEqual(['sub_exact', 'sub_star']);
      expect(
        await publishAndCollect(inboundEvent('e2', 'mel.deferral.expiring', { centerId: 'c1' }), '', [
          'sub_prefix',
          'sub_scoped',
          'sub_star',
        ]),
      ).toEqual(['sub_prefix', 'sub_scoped', 'sub_star']);
      const e1 = requestsIn(requests.records).find(
        (request) => request.event.id === 'e1' && request.subscriptionId === 'sub_exact',
      );
      expect(e1?.deliveryId).toBe(deliveryIdOf('org_a', 'e1', 'sub_exact'));

      // Lifecycle changes while events flow: disabled and expired stop matching, re-enabled resumes.
      await subscriptionEvent(h, 'sub_star', {
        type: 'SubscriptionDisabled',
        reason: 'partner',
        detail: null,
      });
      await subscriptionEvent(h, 'sub_exact', { type: 'SubscriptionExpired' });
      await subscriptionEvent(h, 'sub_late', created(['booking.created']));
      await pollUntil(
        async () => {
          await h.producer.send(inboundEventContract, 'inboundEvents', [
            inboundEvent(`probe-${Date.now()}`, 'booking.created'),
          ]);
          return requestsIn(requests.records).some((request) => request.subscriptionId === 'sub_late');
        },
        { intervalMs: 300, description: 'the new subscription matching' },
      );
      const e3 = await publishAndCollect(inboundEvent('e3', 'booking.created'), '', ['sub_late']);
      expect(e3).toEqual(['sub_late']);
      await subscriptionEvent(h, 'sub_star', { type: 'SubscriptionEnabled' });
      await pollUntil(
        async () => {
          const id = `probe-enabled-${Date.now()}`;
          await h.producer.send(inboundEventContract, 'inboundEvents', [
            inboundEvent(id, 'booking.cancelled'),
          ]);
          return requestsIn(requests.records).some(
            (request) =>
              request.subscriptionId === 'sub_star' && request.event.id.startsWith('probe-enabled'),
          );
        },
        { intervalMs: 300, description: 're-enabled subscription matching again' },
      );

      // Bad records go to the dead-letter topic with the reason; the partition keeps flowing.
      await h.producer.sendRaw('inboundEvents', [{ key: 'org_a', value: '{"id": "broken' }]);
      await h.producer.send(inboundEventContract, 'inboundEvents', [
        inboundEvent('e-unknown', 'invoice.paid'),
      ]);
      await h.producer.send(inboundEventContract, 'inboundEvents', [
        inboundEvent('e-after', 'booking.created'),
      ]);
      await pollUntil(() => deadLetters.records.length >= 2 && pairsOf('e-after').length > 0, {
        description: 'dead letters and the next event',
      });
      expect(deadLetters.records.map((record) => record.headers[DEAD_LETTER_HEADERS.code]).sort()).toEqual([
        'MALFORMED_JSON',
        'UNKNOWN_EVENT_TYPE',
      ]);
      expect(
        deadLetters.records.find((record) => record.headers[DEAD_LETTER_HEADERS.code] === 'MALFORMED_JSON')
          ?.value,
      ).toBe('{"id": "broken');

      const metrics = await (await fetch(`${fanout.baseUrl}/metrics`)).text();
      expect(metrics).toMatch(/skyhook_fanout_index_subscriptions\{service="fanout"\} 6/);
      expect(metrics).toMatch(/skyhook_fanout_events_total\{outcome="matched",service="fanout"\} \d+/);
      expect(metrics).toContain('skyhook_fanout_matches_per_event_bucket');
    } finally {
      await requests.stop();
      await deadLetters.stop();
      expect(await fanout.stop()).toBe(0);
      await h.producer.disconnect();
    }
  });

  it("sends each delivery request in its own event's trace, also when one call handles events of several traces", async () => {
    const h = await harness();
    await organisation(h, 'org_a', ['booking.created']);
    for (const id of ['sub_1', 'sub_2']) await subscriptionEvent(h, id, created(['booking.created']));
    // Published before fan-out starts, both wait on one partition and are handled in one call.
    for (const [eventId, traceId] of [
      ['evt_one', 'trace-one'],
      ['evt_two', 'trace-two'],
    ] as const) {
      await runWithTraceId(traceId, () =>
        h.producer.send(inboundEventContract, 'inboundEvents', [inboundEvent(eventId, 'booking.created')]),
      );
    }
    const requests = await readTopic(h.settings.brokers, topicNameOf(h.settings, 'deliveryRequests'));
    const fanout = await startService('fanout', h.environment);
    try {
      await pollUntil(() => requests.records.length >= 4, { description: 'four delivery requests' });
      const traces = requests.records
        .map((record) => {
          const request = JSON.parse(record.value) as DeliveryRequest;
          return `${request.event.id}/${request.subscriptionId} ${record.headers['skyhook-trace-id']}`;
        })
        .sort();
      expect(traces).toEqual([
        'evt_one/sub_1 trace-one',
        'evt_one/sub_2 trace-one',
        'evt_two/sub_1 trace-two',
        'evt_two/sub_2 trace-two',
      ]);
    } finally {
      await requests.stop();
      expect(await fanout.stop()).toBe(0);
      await h.producer.disconnect();
    }
  });

  it('survives kill -9 mid-stream: every (event, subscription) pair is requested, always with the same id', async () => {
    const h = await harness();
    await organisation(h, 'org_a', ['booking.created']);
    const subscriptions = ['sub_1', 'sub_2', 'sub_3'];
    for (const id of subscriptions) await subscriptionEvent(h, id, created(['booking.created']));
    const events = Array.from({ length: 3_000 }, (_, i) => inboundEvent(`evt_${i}`, 'booking.created'));
    for (let start = 0; start < events.length; start += 500) {
      await h.producer.send(inboundEventContract, 'inboundEvents', events.slice(start, start + 500));
    }
    const requests = await readTopic(h.settings.brokers, topicNameOf(h.settings, 'deliveryRequests'));
    try {
      // Events were waiting before fan-out started: its index must be complete before it matches any.
      const first = spawnService('fanout', { ...h.environment, PORT: '0' });
      await pollUntil(() => requests.records.length > 300, {
        intervalMs: 10,
        timeoutMs: 60_000,
        description: 'fan-out under way',
      });
      first.child.kill('SIGKILL');
      await first.exited;
      const atKill = requests.records.length;

      const second = spawnService('fanout', { ...h.environment, PORT: '0' });
      try {
        const expectedPairs = events.length * subscriptions.length;
        await pollUntil(
          () =>
            new Set(requestsIn(requests.records).map((r) => `${r.event.id}/${r.subscriptionId}`)).size ===
            expectedPairs,
          {
            timeoutMs: 90_000,
            description: 'every pair requested',
          },
        );
      } finally {
        await second.stop();
      }
      expect(atKill).toBeLessThan(events.length * subscriptions.length);
      const idsByPair = new Map<string, Set<string>>();
      for (const request of requestsIn(requests.records)) {
        const pair = `${request.event.id}/${request.subscriptionId}`;
        idsByPair.set(pair, (idsByPair.get(pair) ?? new Set()).add(request.deliveryId));
      }
      expect([...idsByPair.values()].every((ids) => ids.size === 1)).toBe(true);
      expect(idsByPair.get('evt_7/sub_2')).toEqual(new Set([deliveryIdOf('org_a', 'evt_7', 'sub_2')]));
    } finally {
      await requests.stop();
      await h.producer.disconnect();
    }
  });

  it('fans 256 KiB events out to one subscription, more than a broker message per partition at once, in requests its topic accepts', async () => {
    const h = await harness();
    await organisation(h, 'org_a', ['booking.created']);
    await subscriptionEvent(h, 'sub_big', created(['*']));
    const blob = 'x'.repeat(256 * 1_024 - 12);
    const events = Array.from({ length: 40 }, (_, i) => ({
      ...inboundEvent(`evt_big_${i}`, 'booking.created'),
      data: { blob },
    }));
    // Waiting before fan-out starts, the 10 MiB come in fetches of several MiB: one handler call
    // holds far more than one record batch of the requests topic may, all for one partition.
    for (let start = 0; start < events.length; start += 3) {
      await h.producer.send(inboundEventContract, 'inboundEvents', events.slice(start, start + 3));
    }
    // Data an api would never accept, produced straight to the topic: `1e20` takes 4 bytes as
    // published and 21 once read and written again, so its delivery request outgrows the topic.
    const expanding = `{"id":"evt_expanding","type":"booking.created","organisationId":"org_a","scope":{},"occurredAt":"${at}","data":{"n":[${Array.from({ length: 60_000 }, () => '1e20').join(',')}]}}`;
    await h.producer.sendRaw('inboundEvents', [{ key: 'org_a', value: expanding }]);
    const after = inboundEvent('evt_after_expanding', 'booking.created');
    await h.producer.send(inboundEventContract, 'inboundEvents', [after]);

    const requests = await readTopic(h.settings.brokers, topicNameOf(h.settings, 'deliveryRequests'));
    const deadLetters = await readTopic(
      h.settings.brokers,
      topicNameOf(h.settings, 'deliveryRequestsDeadLetter'),
    );
    const fanout = await startService('fanout', h.environment);
    try {
      await waitReady(fanout);
      await pollUntil(
        () =>
          requestsIn(requests.records).some((request) => request.event.id === after.id) &&
          deadLetters.records.length === 1,
        {
          timeoutMs: 90_000,
          intervalMs: 250,
          description: 'every large event fanned out, one dead-lettered',
        },
      );
      const big = requestsIn(requests.records).filter((request) => request.event.id.startsWith('evt_big_'));
      // In the order published (one partition, so the topic's order is the subscription's).
      expect([...new Set(big.map((request) => request.event.id))]).toEqual(events.map((event) => event.id));
      expect(big.every((request) => request.event.data['blob'] === blob)).toBe(true);
      expect(new Set(requests.records.map((record) => record.partition)).size).toBe(1);

      const [letter] = deadLetters.records;
      expect(letter?.headers).toMatchObject({
        [DEAD_LETTER_HEADERS.code]: 'RECORD_TOO_LARGE',
        [DEAD_LETTER_HEADERS.sourceTopic]: 'inboundEvents',
        [DEAD_LETTER_HEADERS.targetTopic]: 'deliveryRequests',
      });
      expect(letter?.headers[DEAD_LETTER_HEADERS.reason]).toMatch(/^the delivery request is \d+ bytes/);
      expect((JSON.parse(letter?.value ?? '{}') as DeliveryRequest).event.id).toBe('evt_expanding');
      expect(requestsIn(requests.records).some((request) => request.event.id === 'evt_expanding')).toBe(
        false,
      );
    } finally {
      await requests.stop();
      await deadLetters.stop();
      expect(await fanout.stop()).toBe(0);
      await h.producer.disconnect();
    }
  }, 180_000);
});
