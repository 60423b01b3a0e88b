import { randomBytes } from 'node:crypto';
import { type Registry } from 'prom-client';
import {
  encodeMessage,
  MESSAGE_HEADERS,
  schemaHeaderOf,
  type SubscriptionCommand,
  subscriptionCommandContract,
  type SubscriptionEvent,
  subscriptionEventSchema,
} from '@skyhook/contracts';
import { ContractProducer, createKafkaClient, topicNameOf } from '@skyhook/messaging';
import { METRICS_REGISTRY } from '@skyhook/observability';
import { pollUntil, readTopic, testLogger } from '@skyhook/testing';
import { type ApiTestApp, createOrganisation, startApiTestApp } from '../test/api-test-app';

const RECEIVER = 'http://127.0.0.1:9/hooks/skyhook';
const DAY = 24 * 60 * 60 * 1000;

type Outcome = 'applied' | 'no_op' | 'rejected';

describe('subscription commands (the dispatcher circuit breaker) against real Kafka and Postgres', () => {
  let api: ApiTestApp;
  let apiKey: string;
  let organisationId: string;
  /** Stands in for the dispatcher: its own client, producing like any other service. */
  let dispatcher: ContractProducer;
  let subscriptionLog: Awaited<ReturnType<typeof readTopic>>;
  let registry: Registry;

  beforeAll(async () => {
    api = await startApiTestApp();
    ({ apiKey, organisationId } = await createOrganisation(api));
    dispatcher = new ContractProducer(createKafkaClient(api.config.kafka, testLogger()), api.config.kafka);
    await dispatcher.connect();
    subscriptionLog = await readTopic(
      api.config.kafka.brokers,
      topicNameOf(api.config.kafka, 'subscriptionEvents'),
    );
    registry = api.app.get<Registry>(METRICS_REGISTRY);
  });

  afterAll(async () => {
    await subscriptionLog.stop();
    await dispatcher.disconnect();
    await api.close();
  });

  async function createSubscription(key = apiKey): Promise<string> {
    const created = await api.request({
      method: 'POST',
      url: '/v1/subscriptions',
      key,
      body: { url: RECEIVER, eventTypes: ['booking.*'] },
    });
    expect(created.status).toBe(201);
    return created.body['id'] as string;
  }

  function read(id: string, key = apiKey) {
    return api.request({ method: 'GET', url: `/v1/subscriptions/${id}`, key });
  }

  function disableCommand(
    subscriptionId: string,
    overrides: Partial<SubscriptionCommand> = {},
  ): SubscriptionCommand {
    return {
      type: 'DisableSubscription',
      subscriptionId,
      organisationId,
      reason: 'circuit-breaker',
      detail: '5 consecutive failed attempts; last: HTTP 503 after 1204 ms',
      issuedAt: api.clock.now().toISOString(),
      ...overrides,
    };
  }

  function eventsOnLog(subscriptionId: string): SubscriptionEvent[] {
    return subscriptionLog.records
      .map((record) => subscriptionEventSchema.parse(JSON.parse(record.value)))
      .filter((event) => event.subscriptionId === subscriptionId);
  }

  async function counted(outcome: Outcome, type = 'DisableSubscription'): Promise<number> {
    const metric = registry.getSingleMetric('skyhook_api_subscription_commands_total');
    const values = metric === undefined ? [] : (await metric.get()).values;
    return (
      values.find((value) => value.labels['type'] === type && value.labels['outcome'] === outcome)?.value ?? 0
    );
  }

  /** Waits until the consumer has counted `more` further commands with that outcome. */
  async function untilCounted(
    outcome: Outcome,
    baseline: number,
    more: number,
    type?: string,
  ): Promise<void> {
    await pollUntil(async () => (await counted(outcome, type)) >= baseline + more, {
      description: `${more} more ${type ?? 'DisableSubscription'} command(s) counted ${outcome}`,
    });
  }

  describe('one subscription through disable, a duplicate, and re-enable', () => {
    const detail = '5 consecutive failed attempts; last: HTTP 503 after 1204 ms';
    let id: string;
    let command: SubscriptionCommand;
    let appliedBefore: number;

    beforeAll(async () => {
      id = await createSubscription();
      command = disableCommand(id, { detail });
      appliedBefore = await counted('applied');
    });

    it('disables the subscription with the circuit-breaker reason and its detail, as the next version', async () => {
      await dispatcher.send(subscriptionCommandContract, 'subscriptionCommands', [command]);

      const disabled = await pollUntil(
        async () => {
          const response = await read(id);
          return response.body['status'] === 'disabled' ? response : undefined;
        },
        { description: 'subscription disabled by the command' },
      );
      expect(disabled.status).toBe(200);
      expect(disabled.headers['etag']).toBe('"2"');
      expect(disabled.body).toMatchObject({
        status: 'disabled',
        disabledReason: 'circuit-breaker',
        disabledDetail: detail,
        version: 2,
      });

      const events = await pollUntil(
        () => {
          const seen = eventsOnLog(id);
          return seen.length >= 2 ? seen : undefined;
        },
        { description: 'SubscriptionDisabled on the subscription log' },
      );
      expect(events.map((event) => [event.version, event.type])).toEqual([
        [1, 'SubscriptionCreated'],
        [2, 'SubscriptionDisabled'],
      ]);
      expect(events[1]).toMatchObject({
        type: 'SubscriptionDisabled',
        subscriptionId: id,
        organisationId,
        reason: 'circuit-breaker',
        detail,
      });
      // The row is committed just before the handler counts the command.
      await untilCounted('applied', appliedBefore, 1);
      expect(await counted('applied')).toBe(appliedBefore + 1);
    });

    it('changes nothing on a repeated command: no second event, version and detail unchanged', async () => {
      const noOps = await counted('no_op');
      // The same command again (a redelivery), then a later trip of the same breaker.
      await dispatcher.send(subscriptionCommandContract, 'subscriptionCommands', [
        command,
        disableCommand(id, { detail: 'a later trip of the same breaker' }),
      ]);
      await untilCounted('no_op', noOps, 2);

      const read2 = await read(id);
      expect(read2.body).toMatchObject({ status: 'disabled', version: 2, disabledDetail: detail });
      // The command path publishes its events before the handler returns; give the log a moment anyway.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(eventsOnLog(id).map((event) => event.version)).toEqual([1, 2]);
      expect(await counted('applied')).toBe(appliedBefore + 1);
    });

    it('is re-enabled by its partner afterwards, the reason cleared', async () => {
      api.clock.advance(60_000);
      const enabled = await api.request({
        method: 'POST',
        url: `/v1/subscriptions/${id}/enable`,
        key: apiKey,
      });
      expect(enabled.status).toBe(200);
      expect(enabled.body).toMatchObject({
        status: 'active',
        disabledReason: null,
        disabledDetail: null,
        version: 3,
      });
      const events = await pollUntil(
        () => {
          const seen = eventsOnLog(id);
          return seen.length >= 3 ? seen : undefined;
        },
        { description: 'SubscriptionEnabled on the subscription log' },
      );
      expect(events.map((event) => [event.version, event.type])).toEqual([
        [1, 'SubscriptionCreated'],
        [2, 'SubscriptionDisabled'],
        [3, 'SubscriptionEnabled'],
      ]);
    });

    it('ignores the first trip command when it arrives again after the re-enable', async () => {
      const noOpsBefore = await counted('no_op');
      await dispatcher.send(subscriptionCommandContract, 'subscriptionCommands', [command]);
      await untilCounted('no_op', noOpsBefore, 1);
      const response = await read(id);
      expect(response.body).toMatchObject({ status: 'active', version: 3 });
      expect(eventsOnLog(id)).toHaveLength(3);
    });
  });

  it('skips malformed, unknown-subscription and wrong-organisation commands without holding back a valid one behind them', async () => {
    const id = await createSubscription();
    const stranger = await createOrganisation(api);
    const strangersOwn = await createSubscription(stranger.apiKey);
    const unknownId = `sub_${randomBytes(16).toString('hex')}`;
    const rejected = await counted('rejected');
    const malformed = await counted('rejected', 'unknown');
    const applied = await counted('applied');

    // All on one partition, in this order: the valid command is queued behind the other three.
    const encoded = [
      disableCommand(unknownId),
      // Another organisation naming this subscription, and this organisation naming the stranger's.
      disableCommand(id, { organisationId: stranger.organisationId, detail: 'forged' }),
      disableCommand(strangersOwn, { detail: 'forged' }),
    ].map((command) => encodeMessage(subscriptionCommandContract, command));
    const valid = encodeMessage(subscriptionCommandContract, disableCommand(id, { detail: 'breaker' }));
    await dispatcher.sendRaw('subscriptionCommands', [
      {
        key: id,
        value: JSON.stringify({ type: 'DisableSubscription', subscriptionId: id }),
        headers: { [MESSAGE_HEADERS.schema]: schemaHeaderOf(subscriptionCommandContract) },
        partition: 0,
      },
      { key: id, value: 'not json', partition: 0 },
      ...encoded.map((message) => ({ ...message, partition: 0 })),
      { ...valid, partition: 0 },
    ]);

    await pollUntil(async () => (await read(id)).body['status'] === 'disabled', {
      description: 'the valid command applied',
    });
    expect((await read(id)).body).toMatchObject({
      status: 'disabled',
      disabledReason: 'circuit-breaker',
      disabledDetail: 'breaker',
      version: 2,
    });
    // Counted after the row is committed; the three skipped ones were counted before it.
    await untilCounted('applied', applied, 1);
    expect(await counted('applied')).toBe(applied + 1);
    expect(await counted('rejected')).toBe(rejected + 3);
    expect(await counted('rejected', 'unknown')).toBe(malformed + 2);

    expect((await read(strangersOwn, stranger.apiKey)).body).toMatchObject({ status: 'active', version: 1 });
    expect((await read(unknownId)).status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(eventsOnLog(strangersOwn).map((event) => event.type)).toEqual(['SubscriptionCreated']);
    expect(eventsOnLog(unknownId)).toEqual([]);
  });

  it('has nothing to do for a subscription disabled by its partner, revoked, deleted or expired', async () => {
    const expiring = await createOrganisation(api, { subscriptionLifetimeDays: 30, renewalWindowDays: 5 });
    const partnerDisabled = await createSubscription();
    const revoked = await createSubscription();
    const deleted = await createSubscription();
    const expired = await createSubscription(expiring.apiKey);
    for (const [id, action] of [
      [partnerDisabled, 'disable'],
      [revoked, 'revoke'],
    ] as const) {
      const response = await api.request({
        method: 'POST',
        url: `/v1/subscriptions/${id}/${action}`,
        key: apiKey,
      });
      expect(response.status).toBe(200);
    }
    expect(
      (await api.request({ method: 'DELETE', url: `/v1/subscriptions/${deleted}`, key: apiKey })).status,
    ).toBe(204);
    api.clock.advance(31 * DAY);
    await pollUntil(async () => (await read(expired, expiring.apiKey)).body['status'] === 'expired', {
      description: 'the scheduler expired the subscription',
    });

    const noOps = await counted('no_op');
    const rejected = await counted('rejected');
    await dispatcher.send(subscriptionCommandContract, 'subscriptionCommands', [
      disableCommand(partnerDisabled),
      disableCommand(revoked),
      disableCommand(deleted),
      disableCommand(expired, { organisationId: expiring.organisationId }),
    ]);
    await untilCounted('no_op', noOps, 4);
    expect(await counted('rejected')).toBe(rejected);

    expect((await read(partnerDisabled)).body).toMatchObject({
      status: 'disabled',
      disabledReason: 'partner',
      disabledDetail: null,
      version: 2,
    });
    expect((await read(revoked)).body).toMatchObject({ status: 'revoked', version: 2 });
    expect((await read(deleted)).status).toBe(404);
    expect((await read(expired, expiring.apiKey)).body).toMatchObject({ status: 'expired', version: 2 });
  });
});
