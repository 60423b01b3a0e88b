import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type Kafka, type PartitionAssigner, PartitionAssigners } from 'kafkajs';
import { type Registry } from 'prom-client';
import {
  CONSUMER_GROUPS,
  deliveryRequestContract,
  type DeliveryRequest,
  type DeliveryRetry,
  deliveryRetryContracts,
  deliveryRetryDecoder,
  orderedDeliveryContract,
  type OrderedDeliveryRecord,
  organisationSnapshotContract,
  type ParkedDelivery,
  parkedDeliveryContract,
  RETRY_TIERS,
  retryTierFor,
  subscriptionEventContract,
  type TopicKey,
} from '@skyhook/contracts';
import {
  type BatchingProducer,
  coLocatedAssigner,
  ConcurrentConsumer,
  type ConcurrentConsumerOptions,
  type FetchBatching,
  type ConsumedRecord,
  ConsumerLagMonitor,
  type ConsumerRoute,
  ContractProducer,
  KAFKA_CLIENT,
  KAFKA_SETTINGS,
  type KafkaSettings,
  MESSAGING_METRICS,
  type MessagingMetrics,
  type RecordOrigin,
  type RejectedRecord,
  deadLetterTo,
  deadLetterOfConsumed,
  sendToDeadLetter,
  sleepUnlessAborted,
  TopicFollower,
  partitionAlignment,
} from '@skyhook/messaging';
import {
  METRICS_REGISTRY,
  ReadinessRegistry,
  SERVICE_LOGGER,
  type ServiceLogger,
} from '@skyhook/observability';
import { type EndpointBreakers } from '@skyhook/delivery';
import { DISPATCHER_CONFIG, type DispatcherConfig } from './dispatcher.config';
import { type ConcurrencyGate, type QueueBounds } from './concurrency-gate';
import {
  CONCURRENCY_GATE,
  DELIVERY_PRODUCER,
  DeliveryDispatcher,
  type DispatchContext,
  ENDPOINT_BREAKERS,
  UndeliverableRequestError,
  WEBHOOK_HTTP_CLIENT,
} from './delivery-dispatcher';
import { DISPATCHER_METRICS, type DispatcherMetrics } from './dispatcher-metrics';
import { EndpointDirectory } from './endpoint-directory';
import { EVENT_LOOP_LOAD, type EventLoopLoad } from './event-loop-load';
import { OrderedDeliveries } from './ordered-deliveries';
import { type WebhookHttpClient } from './webhook-http-client';

/** A retry is sent when it is due within this much; sooner than that, waiting costs more than it saves. */
const DUE_TOLERANCE_MS = 5;
/** Graceful stop: in-flight attempts may take up to the longest timeout (30 s); Nest's deadline is 30 s. */
const DRAIN_TIMEOUT_MS = 25_000;
/**
 * Retries and parked deliveries are quiet topics most of the time: their idle consumers ask the
 * broker once a second instead of five times (a record that arrives is still fetched at once).
 */
const QUIET_TOPIC_FETCH_WAIT_MS = 1_000;

/**
 * Starts the dispatcher in the only safe order: the endpoint directory (subscriptions and
 * organisation defaults) is read to the end of the log first, then the request and retry
 * consumers join their groups. Stops in reverse: consumers drain (or hand back) their work,
 * then the followers, the HTTP pool and the producer close.
 */
@Injectable()
export class DispatcherRuntime
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly followers: TopicFollower<unknown>[] = [];
  private readonly consumers: ConcurrentConsumer[] = [];
  private readonly lagMonitors: ConsumerLagMonitor[] = [];
  private readonly deadLetterRejected: (record: RejectedRecord) => Promise<void>;
  /**
   * The request, retry and parked groups give one endpoint's partitions of all their topics to one
   * process (ADR 0032): that process alone sends to the endpoint, and holds it to its rate limit.
   */
  private readonly endpointAssigners: readonly PartitionAssigner[];

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(KAFKA_SETTINGS) private readonly settings: KafkaSettings,
    @Inject(MESSAGING_METRICS) private readonly messagingMetrics: MessagingMetrics,
    @Inject(METRICS_REGISTRY) private readonly registry: Registry,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
    @Inject(DISPATCHER_CONFIG) private readonly config: DispatcherConfig,
    @Inject(DELIVERY_PRODUCER) private readonly producer: BatchingProducer,
    @Inject(WEBHOOK_HTTP_CLIENT) private readonly client: WebhookHttpClient,
    @Inject(ENDPOINT_BREAKERS) private readonly breakers: EndpointBreakers,
    @Inject(CONCURRENCY_GATE) private readonly gate: ConcurrencyGate,
    private readonly directory: EndpointDirectory,
    private readonly dispatcher: DeliveryDispatcher,
    private readonly readiness: ReadinessRegistry,
    private readonly deadLetters: ContractProducer,
    @Inject(DISPATCHER_METRICS) private readonly metrics: DispatcherMetrics,
    @Inject(EVENT_LOOP_LOAD) private readonly eventLoop: EventLoopLoad,
    private readonly orderedDeliveries: OrderedDeliveries,
  ) {
    this.deadLetterRejected = deadLetterTo(deadLetters, 'deliveryRequestsDeadLetter');
    const endpointTopics: TopicKey[] = [
      'deliveryRequests',
      'deliveryParked',
      ...RETRY_TIERS.map(({ topicKey }) => topicKey),
    ];
    const alignment = partitionAlignment(endpointTopics.map((topic) => settings.partitions[topic]));
    this.endpointAssigners = [
      coLocatedAssigner(`${hostname()}/${process.pid}/${randomUUID()}`, alignment),
      PartitionAssigners.roundRobin,
    ];
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.producer.connect();
    this.directory.onSubscriptionChange((previous, current) => {
      if (current.deleted) {
        this.breakers.forget(current.id);
        this.gate.forget(current.id);
      } else if (previous?.status !== 'active' && current.status === 'active') {
        // Enabled again (by the partner or an operator): breaker and concurrency start afresh.
        this.breakers.reset(current.id);
        this.gate.forget(current.id);
      }
    });
    await this.startFollowers();
    // First attempts and retries wait for their endpoint only so long: beyond, they are parked,
    // and a slow endpoint never holds its neighbours' records (ADR 0021).
    // Unless the wait is this process's own: saturated, it would only add a produce and a consume
    // to every delivery it parks (bench/RESULTS.md, "Past saturation").
    this.eventLoop.start();
    const saturatedAbove = this.config.DISPATCH_SATURATED_EVENT_LOOP_UTILISATION;
    const queueBounds: QueueBounds = {
      maxQueued: this.config.DISPATCH_MAX_QUEUED_PER_ENDPOINT,
      maxWaitMs: this.config.DISPATCH_MAX_QUEUE_WAIT_MS,
      maxWaitingPerOrganisation: this.config.DISPATCH_MAX_WAITING_PER_ORGANISATION,
      organisationLagBeforeParkingMs: this.config.DISPATCH_ORGANISATION_LAG_BEFORE_PARKING_MS,
      waitLonger: () => {
        const saturated = this.eventLoop.utilisation > saturatedAbove;
        if (saturated) this.metrics.queueWaitsExtended.inc();
        return saturated;
      },
    };
    const requests = this.consumer(
      CONSUMER_GROUPS.dispatcher.name,
      [{ topicKey: 'deliveryRequests', contract: deliveryRequestContract }],
      (record, stopping, beforeSend) =>
        this.deadLetterUndeliverable(record, () =>
          this.dispatcher.deliver(record.value as DeliveryRequest, 1, stopping, {
            ...contextOf(record, beforeSend),
            queueBounds,
          }),
        ),
      {
        fetchBatching: this.requestFetchBatching(),
        partitionAssigners: this.endpointAssigners,
        // First attempts flow as fast as the process sends them: it holds what it sends in a
        // second or so, the rest waits in Kafka (retries wait for their time, parked deliveries
        // for their endpoint: neither is bounded so).
        pendingHorizonMs: this.config.DISPATCH_PENDING_HORIZON_MS,
      },
    );
    const retries = this.consumer(
      CONSUMER_GROUPS.dispatcherRetries.name,
      RETRY_TIERS.map(({ topicKey }) => ({ topicKey, contract: deliveryRetryDecoder })),
      (record, stopping, beforeSend) =>
        this.deadLetterUndeliverable(record, () =>
          this.retryWhenDue(record as ConsumedRecord<DeliveryRetry>, stopping, beforeSend, queueBounds),
        ),
      { idleFetchWaitMs: QUIET_TOPIC_FETCH_WAIT_MS, partitionAssigners: this.endpointAssigners },
    );
    // Parked deliveries wait for their endpoint as long as it takes: only each other's records.
    const parked = this.consumer(
      CONSUMER_GROUPS.dispatcherParked.name,
      [{ topicKey: 'deliveryParked', contract: parkedDeliveryContract }],
      (record, stopping, beforeSend) =>
        this.deadLetterUndeliverable(record, () => {
          const { request, attemptNumber, afterUnknownOutcome } = record.value as ParkedDelivery;
          const context = contextOf(record, beforeSend);
          return this.dispatcher.deliver(request, attemptNumber, stopping, {
            ...context,
            afterUnknownOutcome: context.afterUnknownOutcome === true || afterUnknownOutcome === true,
          });
        }),
      { idleFetchWaitMs: QUIET_TOPIC_FETCH_WAIT_MS, partitionAssigners: this.endpointAssigners },
    );
    // Ordered subscriptions' deliveries, each key's one after another (ADR 0031). Never parked: a
    // key's deliveries wait for their endpoint, and only for it, in their own records.
    const ordered = this.consumer(
      CONSUMER_GROUPS.dispatcherOrdered.name,
      [{ topicKey: 'deliveryOrdered', contract: orderedDeliveryContract }],
      (record, stopping, beforeSend) =>
        this.deadLetterUndeliverable(record, () =>
          this.orderedDeliveries.handle(
            record as ConsumedRecord<OrderedDeliveryRecord>,
            stopping,
            contextOf(record, beforeSend),
          ),
        ),
      {
        idleFetchWaitMs: QUIET_TOPIC_FETCH_WAIT_MS,
        maxPendingPerPartition: this.config.DISPATCH_ORDERED_MAX_PENDING_PER_PARTITION,
      },
    );
    this.readiness.register({
      name: 'delivery-consumers',
      check: () =>
        this.consumers.every((consumer) => consumer.state === 'consuming')
          ? Promise.resolve()
          : Promise.reject(new Error(this.consumers.map((c) => `${c.groupId}: ${c.state}`).join(', '))),
    });
    // Never fails readiness (a partner's slow endpoint is not this process failing): says which
    // endpoints are throttled and how old the oldest unfinished record is, for whoever looks.
    this.readiness.register({
      name: 'endpoint-isolation',
      check: () => Promise.resolve(this.isolationDetail()),
    });
    await Promise.all([requests.start(), retries.start(), parked.start(), ordered.start()]);
    this.lagMonitors.push(
      new ConsumerLagMonitor(
        this.kafka,
        this.settings,
        requests.groupId,
        ['deliveryRequests'],
        this.registry,
        this.logger,
      ),
      new ConsumerLagMonitor(
        this.kafka,
        this.settings,
        retries.groupId,
        RETRY_TIERS.map(({ topicKey }) => topicKey),
        this.registry,
        this.logger,
      ),
      new ConsumerLagMonitor(
        this.kafka,
        this.settings,
        parked.groupId,
        ['deliveryParked'],
        this.registry,
        this.logger,
      ),
      new ConsumerLagMonitor(
        this.kafka,
        this.settings,
        ordered.groupId,
        ['deliveryOrdered'],
        this.registry,
        this.logger,
      ),
    );
    for (const monitor of this.lagMonitors) monitor.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.all(this.lagMonitors.map((monitor) => monitor.stop()));
    await Promise.all(this.consumers.map((consumer) => consumer.stop(DRAIN_TIMEOUT_MS)));
    await Promise.all(this.followers.map((follower) => follower.stop()));
  }

  async onApplicationShutdown(): Promise<void> {
    this.eventLoop.stop();
    await this.client.close();
    this.breakers.shutdown();
    await this.producer.disconnect();
  }

  /**
   * A retry waits in its tier until the tier's delay has passed since it was written, or until
   * it is due if that is sooner; then it is attempted, or moved to the tier of what remains.
   * The wait is a timer over an uncommitted record: a crash re-reads the record, so the retry
   * is never lost, and each record waits on its own, so no retry waits behind another.
   */
  private async retryWhenDue(
    record: ConsumedRecord<DeliveryRetry>,
    stopping: AbortSignal,
    beforeSend: () => Promise<void>,
    queueBounds: QueueBounds,
  ): Promise<unknown> {
    const retry = record.value;
    const tier = RETRY_TIERS.find(({ topicKey }) => topicKey === record.topicKey) ?? RETRY_TIERS[0];
    const dueAt = Date.parse(retry.dueAt);
    const wakeAt = Math.min(record.timestamp + tier.delayMs, dueAt);
    if (wakeAt > Date.now()) await sleepUnlessAborted(wakeAt - Date.now(), stopping);
    const remainingMs = dueAt - Date.now();
    if (remainingMs > DUE_TOLERANCE_MS) {
      const next = retryTierFor(remainingMs);
      await this.producer.send(deliveryRetryContracts[next.topicKey], next.topicKey, [retry], {
        trusted: true,
        origin: originOf(record),
      });
      return;
    }
    await this.dispatcher.deliver(retry.request, retry.attemptNumber, stopping, {
      ...contextOf(record, beforeSend),
      queueBounds,
    });
  }

  /** What readiness shows of isolation: throttled endpoints and the oldest unfinished record. */
  private isolationDetail(): Record<string, unknown> {
    const throttled = this.gate.throttledEndpoints();
    return {
      throttledEndpoints: throttled.length,
      mostQueued: throttled.slice(0, 5),
      oldestUnfinishedRecordSeconds: Math.max(
        0,
        ...this.consumers.map((consumer) => consumer.oldestPendingAgeMs() / 1_000),
      ),
    };
  }

  /**
   * A request that can never be delivered as it stands goes, as it was read, to the dead-letter
   * topic with why and where it came from; once that is written the record counts as handled and
   * its partition moves on. Any other failure is the consumer's to retry.
   */
  private async deadLetterUndeliverable(
    record: ConsumedRecord,
    handle: () => Promise<unknown>,
  ): Promise<void> {
    try {
      await handle();
    } catch (error) {
      if (!(error instanceof UndeliverableRequestError)) throw error;
      await sendToDeadLetter(
        this.deadLetters,
        'deliveryRequestsDeadLetter',
        deadLetterOfConsumed(record, error.code, error.reason),
      );
      this.metrics.deliveriesDeadLettered.inc({ reason: 'endpoint-unusable' });
      this.logger.warn(
        { topic: record.topicKey, partition: record.partition, offset: record.offset, code: error.code },
        'undeliverable delivery request sent to the dead-letter topic',
      );
    }
  }

  /** Delivery requests are fetched in batches while they flow (DISPATCH_FETCH_BATCH_*). */
  private requestFetchBatching(): FetchBatching | undefined {
    const { DISPATCH_FETCH_BATCH_WAIT_MS: maxWaitMs, DISPATCH_FETCH_BATCH_BYTES: minBytes } = this.config;
    return maxWaitMs === 0 ? undefined : { minBytes, maxWaitMs };
  }

  private consumer(
    group: string,
    routes: readonly ConsumerRoute[],
    handleRecord: (
      record: ConsumedRecord,
      stopping: AbortSignal,
      beforeSend: () => Promise<void>,
    ) => Promise<void>,
    fetching: Partial<
      Pick<
        ConcurrentConsumerOptions,
        | 'fetchBatching'
        | 'idleFetchWaitMs'
        | 'pendingHorizonMs'
        | 'maxPendingPerPartition'
        | 'partitionAssigners'
      >
    > = {},
  ): ConcurrentConsumer {
    const consumer = new ConcurrentConsumer(
      this.kafka,
      this.settings,
      {
        group,
        routes,
        handleRecord,
        handleRejected: (record) => this.reject(record),
        maxPendingPerPartition: this.config.DISPATCH_MAX_PENDING_PER_PARTITION,
        ...fetching,
        // A webhook is sent before its attempt event is produced: a crash in between must not
        // leave the partner's log without the request (ADR 0018).
        dispatchFrontier: true,
        onFatalError: () => {
          process.exitCode = 1;
          process.kill(process.pid, 'SIGTERM');
        },
      },
      this.logger,
      this.messagingMetrics,
    );
    this.consumers.push(consumer);
    return consumer;
  }

  /**
   * Only Skyhook's own services write these topics, through the same contracts, so a record
   * that breaks one is a bug to look into, not partner input: it is logged with its position
   * (and counted as a contract violation) and kept in the dead-letter topic with its original
   * bytes, never retried forever.
   */
  private async reject(record: RejectedRecord): Promise<void> {
    this.logger.error(
      {
        topic: record.topicKey,
        partition: record.partition,
        offset: record.offset,
        code: record.violation.code,
      },
      'a delivery record breaks its contract: sent to the dead-letter topic',
    );
    await this.deadLetterRejected(record);
  }

  private async startFollowers(): Promise<void> {
    const organisations = new TopicFollower(
      this.kafka,
      this.settings,
      {
        name: 'dispatcher-organisations',
        topicKey: 'organisationSnapshots',
        contract: organisationSnapshotContract,
        apply: (snapshot) => this.directory.applyOrganisationSnapshot(snapshot),
      },
      this.logger,
    );
    const subscriptions = new TopicFollower(
      this.kafka,
      this.settings,
      {
        name: 'dispatcher-subscriptions',
        topicKey: 'subscriptionEvents',
        contract: subscriptionEventContract,
        apply: (event) => this.directory.applySubscriptionEvent(event),
      },
      this.logger,
    );
    this.followers.push(organisations as TopicFollower<unknown>, subscriptions as TopicFollower<unknown>);
    this.readiness.register({
      name: 'endpoint-directory',
      check: () =>
        this.followers.every((follower) => follower.caughtUp)
          ? Promise.resolve()
          : Promise.reject(new Error('still reading the subscription log')),
    });
    await Promise.all([organisations.start(), subscriptions.start()]);
  }
}

function originOf({ topicKey, partition, offset }: ConsumedRecord): RecordOrigin {
  return { topicKey, partition, offset };
}

function contextOf(record: ConsumedRecord, beforeSend: () => Promise<void>): DispatchContext {
  return {
    origin: originOf(record),
    afterUnknownOutcome: record.possiblyHandledBefore === true,
    beforeSend,
  };
}
