import { Controller, Inject, type INestApplicationContext } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { DataSource } from 'typeorm';
import { CONSUMER_GROUPS, type SubscriptionCommand, subscriptionCommandContract } from '@skyhook/contracts';
import { SubscriptionCommands } from '@skyhook/subscription-commands';
import {
  type ConsumedRecord,
  type KafkaConsumerServerOptions,
  type RejectedRecord,
} from '@skyhook/messaging';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { API_METRICS, type ApiMetrics } from '../api-metrics';
import { SubscriptionReadModelRepository } from './subscription-read-model.repository';

/**
 * Its own consumer group, never the read model's: that one is renamed to rebuild the read
 * model, and a new group reads its topics from the start, which here would re-run up to a
 * retention's worth of old commands (disabling endpoints partners have since re-enabled).
 * Keep this name stable for the same reason.
 */
export const SUBSCRIPTION_COMMANDS_GROUP = CONSUMER_GROUPS.subscriptionCommands.name;

export const SUBSCRIPTION_COMMANDS_ROUTE = {
  topicKey: 'subscriptionCommands',
  contract: subscriptionCommandContract,
} as const;

export type SubscriptionCommandOutcome = 'applied' | 'no_op' | 'rejected';

type DisableSubscription = Extract<SubscriptionCommand, { type: 'DisableSubscription' }>;

/**
 * Runs the commands other services ask of the subscription owner (today: the dispatcher's
 * circuit breaker disabling a failing endpoint) through the same command path as the REST API,
 * so they take the row lock and get the next version like any partner command.
 *
 * A command that cannot or need not be run (already done, subscription gone or not the
 * organisation's) is logged, counted and committed past: retrying it would only block every
 * later command on its partition. Anything else (the database unreachable, a failed query) is
 * thrown, so the record stays uncommitted and is retried until it goes through.
 */
@Controller()
export class SubscriptionCommandsConsumer {
  constructor(
    private readonly commands: SubscriptionCommands,
    private readonly readModel: SubscriptionReadModelRepository,
    private readonly dataSource: DataSource,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  @EventPattern('subscriptionCommands')
  async handle(@Payload() record: ConsumedRecord<SubscriptionCommand>): Promise<void> {
    const command = record.value;
    let outcome: SubscriptionCommandOutcome;
    switch (command.type) {
      case 'DisableSubscription':
        outcome = await this.disable(command);
        break;
    }
    this.metrics.subscriptionCommands.inc({ type: command.type, outcome });
  }

  /**
   * The consumer's `handleRejected` for records that break the command contract (not JSON, a
   * wrong shape, an unknown schema version). Only inbound events have a dead-letter topic; a
   * command is an internal message from a Skyhook service, so a malformed one is a bug to fix
   * at its producer, not input to re-drive: it is logged in full (commands carry no secrets) at
   * error level, counted as rejected, and skipped. The dispatcher sends the command again if
   * its breaker trips again.
   */
  skipMalformed(record: RejectedRecord): Promise<void> {
    this.metrics.subscriptionCommands.inc({ type: 'unknown', outcome: 'rejected' });
    this.logger.error(
      {
        partition: record.partition,
        offset: record.offset,
        key: record.key?.toString('utf8') ?? null,
        value: record.value?.toString('utf8').slice(0, 4_000) ?? null,
        code: record.violation.code,
        details: record.violation.details,
      },
      `malformed subscription command skipped: ${record.violation.message}`,
    );
    return Promise.resolve();
  }

  private async disable(command: DisableSubscription): Promise<SubscriptionCommandOutcome> {
    const { organisationId, subscriptionId, detail } = command;
    const context = { subscriptionId, organisationId, issuedAt: command.issuedAt };
    try {
      const { subscription, applied } = await this.commands.disableByCircuitBreaker.execute({
        organisationId,
        subscriptionId,
        detail,
        issuedAt: command.issuedAt,
      });
      if (applied) {
        this.logger.info(
          { ...context, version: subscription.version, detail },
          'circuit breaker disabled subscription',
        );
        return 'applied';
      }
      // Already disabled (by an earlier, repeated command or by its partner), or enabled again
      // since the command was issued (a stale command): the aggregate decides nothing, no event.
      this.logger.info(
        { ...context, status: subscription.status, disabledReason: subscription.disabledReason },
        subscription.status === 'active'
          ? 'subscription changed since the circuit-breaker command was issued; stale command ignored'
          : 'subscription already disabled; circuit-breaker command has nothing to do',
      );
      return 'no_op';
    } catch (error) {
      // Not the aggregate refusing (a database outage, a failed query): retry the record.
      if (!(error instanceof SubscriptionError)) throw error;
      if (error.code === SubscriptionErrorCode.NotFound) return this.classifyMissing(command, error);
      if (error.code === SubscriptionErrorCode.InvalidTransition) {
        // Revoked or expired: it receives nothing any more, so there is nothing to stop.
        this.logger.info(
          { ...context, status: error.details['status'] },
          'subscription is no longer deliverable; circuit-breaker command has nothing to do',
        );
        return 'no_op';
      }
      // No other refusal can come from disabling; if one ever does, it would refuse every retry
      // as well, so it is skipped rather than left to block the partition.
      this.logger.error({ ...context, err: error }, 'circuit-breaker command refused; skipped');
      return 'rejected';
    }
  }

  /** The command path saw no live subscription of that organisation: say which case it is. */
  private async classifyMissing(
    command: DisableSubscription,
    notFound: SubscriptionError,
  ): Promise<SubscriptionCommandOutcome> {
    const { organisationId, subscriptionId } = command;
    const context = { subscriptionId, organisationId, issuedAt: command.issuedAt };
    const stored = await this.readModel.findAnyById(this.dataSource.manager, subscriptionId);
    if (stored === undefined) {
      // The dispatcher only learns ids from the subscription log the api writes first, so
      // this is a producer bug, or a restored database whose projector has not caught up (then
      // the breaker trips again and sends a new command).
      this.logger.warn(context, 'circuit-breaker command for an unknown subscription; skipped');
      return 'rejected';
    }
    if (stored.organisationId !== organisationId) {
      // Never act across tenants: a command must name the subscription's own organisation.
      this.logger.warn(
        context,
        'circuit-breaker command names an organisation that does not own the subscription; skipped',
      );
      return 'rejected';
    }
    if (stored.deleted) {
      // Deleted while the breaker was tripping: nothing left to disable.
      this.logger.info(context, 'subscription is deleted; circuit-breaker command has nothing to do');
      return 'no_op';
    }
    // Live and the organisation's after all: the row appeared between the two reads (the
    // projector catching up after a restore); throwing retries the command, which now applies.
    throw notFound;
  }
}

/**
 * The command consumer's transport options, one definition for `main.ts` and the test harness.
 * A new group reads from the start of the topic, so commands produced before the api first
 * joined are not lost.
 */
export function subscriptionCommandsConsumerOptions(
  app: INestApplicationContext,
): KafkaConsumerServerOptions {
  const consumer = app.get(SubscriptionCommandsConsumer);
  return {
    group: SUBSCRIPTION_COMMANDS_GROUP,
    routes: [SUBSCRIPTION_COMMANDS_ROUTE],
    handleRejected: (record) => consumer.skipMalformed(record),
  };
}
