import pino from 'pino';
import { Registry } from 'prom-client';
import { type DataSource } from 'typeorm';
import { type SubscriptionCommand } from '@skyhook/contracts';
import { type ConsumedRecord } from '@skyhook/messaging';
import { SubscriptionError, SubscriptionErrorCode, type SubscriptionState } from '@skyhook/subscriptions';
import { createApiMetrics } from '../api-metrics';
import { SubscriptionCommandsConsumer } from './subscription-commands.consumer';
import { type SubscriptionCommands } from '@skyhook/subscription-commands';
import { type SubscriptionReadModelRepository } from './subscription-read-model.repository';

const COMMAND: SubscriptionCommand = {
  type: 'DisableSubscription',
  subscriptionId: 'sub_1',
  organisationId: 'org_1',
  reason: 'circuit-breaker',
  detail: '5 consecutive failures',
  issuedAt: '2026-01-01T00:00:00.000Z',
};

function recordOf(value: SubscriptionCommand): ConsumedRecord<SubscriptionCommand> {
  return {
    topicKey: 'subscriptionCommands',
    partition: 0,
    offset: '0',
    key: value.subscriptionId,
    value,
    timestamp: 0,
    headers: {},
    traceId: 't',
  };
}

/** The decision of what to retry and what to skip, with the command path and the read model stubbed. */
function consumerWith(options: {
  disable: () => Promise<{ subscription: SubscriptionState; applied: boolean }>;
  stored?: () => Promise<Partial<SubscriptionState> | undefined>;
}) {
  const registry = new Registry();
  const commands = {
    disableByCircuitBreaker: { execute: options.disable },
  } as unknown as SubscriptionCommands;
  const readModel = {
    findAnyById: options.stored ?? (() => Promise.resolve(undefined)),
  } as unknown as SubscriptionReadModelRepository;
  const dataSource = { manager: {} } as unknown as DataSource;
  const consumer = new SubscriptionCommandsConsumer(
    commands,
    readModel,
    dataSource,
    createApiMetrics(registry),
    pino({ level: 'silent' }),
  );
  const outcomes = async (): Promise<Record<string, number>> => {
    const metric = registry.getSingleMetric('skyhook_api_subscription_commands_total');
    const values = metric === undefined ? [] : (await metric.get()).values;
    return Object.fromEntries(values.map((value) => [String(value.labels['outcome']), value.value]));
  };
  return { consumer, outcomes };
}

const refusal = (code: SubscriptionErrorCode) => () =>
  Promise.reject(new SubscriptionError(code, 'refused', { status: 'revoked' }));

describe('SubscriptionCommandsConsumer', () => {
  it('throws what is not the aggregate refusing (e.g. the database down), so the record is retried', async () => {
    const outage = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    const { consumer, outcomes } = consumerWith({ disable: () => Promise.reject(outage) });
    await expect(consumer.handle(recordOf(COMMAND))).rejects.toBe(outage);
    expect(await outcomes()).toEqual({});
  });

  it('throws when the database fails while telling a missing subscription apart', async () => {
    const outage = new Error('terminating connection due to administrator command');
    const { consumer } = consumerWith({
      disable: refusal(SubscriptionErrorCode.NotFound),
      stored: () => Promise.reject(outage),
    });
    await expect(consumer.handle(recordOf(COMMAND))).rejects.toBe(outage);
  });

  it('retries when the subscription turns out to be live and the organisation’s after all', async () => {
    const { consumer } = consumerWith({
      disable: refusal(SubscriptionErrorCode.NotFound),
      stored: () => Promise.resolve({ organisationId: 'org_1', deleted: false }),
    });
    await expect(consumer.handle(recordOf(COMMAND))).rejects.toBeInstanceOf(SubscriptionError);
  });

  it.each([
    [
      'revoked or expired (invalid transition)',
      refusal(SubscriptionErrorCode.InvalidTransition),
      undefined,
      'no_op',
    ],
    [
      'deleted',
      refusal(SubscriptionErrorCode.NotFound),
      () => Promise.resolve({ organisationId: 'org_1', deleted: true }),
      'no_op',
    ],
    ['unknown', refusal(SubscriptionErrorCode.NotFound), () => Promise.resolve(undefined), 'rejected'],
    [
      "another organisation's",
      refusal(SubscriptionErrorCode.NotFound),
      () => Promise.resolve({ organisationId: 'org_2', deleted: false }),
      'rejected',
    ],
    ['refused in an unforeseen way', refusal(SubscriptionErrorCode.TooManySecrets), undefined, 'rejected'],
  ] as const)('skips a command for a subscription that is %s', async (_, disable, stored, outcome) => {
    const { consumer, outcomes } = consumerWith({ disable, stored });
    await expect(consumer.handle(recordOf(COMMAND))).resolves.toBeUndefined();
    expect(await outcomes()).toEqual({ [outcome]: 1 });
  });
});
