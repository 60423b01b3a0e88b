import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type Kafka, type Message } from 'kafkajs';
import {
  type DeliveryRequest,
  deliveryRequestContract,
  orderedDeliveryContract,
  type TopicKey,
} from '@skyhook/contracts';
import {
  ContractProducer,
  deadLetterOfTooLarge,
  encodeForKafka,
  expectedPartitionOf,
  KAFKA_CLIENT,
  KAFKA_SETTINGS,
  type KafkaSettings,
  MESSAGING_METRICS,
  type MessagingMetrics,
  produceBoundsOf,
  PRODUCER_HEALTH,
  type ProducerHealthBoard,
  recordBytesOf,
  sendHalvingWhenTooLarge,
  sendToDeadLetter,
  splitForProduce,
  type TraceContext,
} from '@skyhook/messaging';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { FANOUT_METRICS, type FanoutMetrics } from './fanout-metrics';

const PRODUCERS = 3;

/**
 * A call with fewer requests than this a lane goes over fewer lanes: an ordinary event's score
 * of requests in one produce request, not three of a handful each (every request costs the
 * broker and this process the same whatever it carries: bench/RESULTS.md, "Pipeline").
 */
const REQUESTS_PER_LANE = 200;

/** Records in one produce request at most (kafkajs builds it in memory); bytes are bounded too. */
const PRODUCE_CHUNK = 2_000;

/** Where a delivery request came from: the inbound record a dead letter points back to. */
export interface RequestOrigin {
  readonly topicKey: TopicKey;
  readonly partition: number;
  readonly offset: string;
  readonly traceId: string | undefined;
  /** With OpenTelemetry on: the inbound record's span, which the requests' traces go on from. */
  readonly traceContext?: TraceContext | undefined;
}

interface EncodedRequest {
  readonly request: DeliveryRequest;
  readonly message: Message;
  readonly bytes: number;
}

/**
 * A Skyhook producer keeps one request in flight (send order kept through retries), so one
 * producer serialises every produce. A call's requests are spread over lanes of a small pool by
 * subscription: within a call a subscription leaves through one producer, so its requests stay
 * in order (a consumer's calls for one partition follow each other, so calls never interleave a
 * subscription's requests), while one wide event's requests go out over all of them at once. A
 * narrow call takes as many lanes as it fills, starting from the next producer in turn, so
 * concurrent calls (one per partition in hand) still use the whole pool. Each producer works through
 * its own share chunk by chunk without waiting for the others, so while one waits for the
 * broker's acknowledgement the next builds its request.
 */
@Injectable()
export class DeliveryRequestProducers implements OnModuleInit, OnApplicationShutdown {
  private readonly producers: ContractProducer[];
  private readonly bounds = produceBoundsOf('deliveryRequests', PRODUCE_CHUNK);
  private readonly orderedBounds = produceBoundsOf('deliveryOrdered', PRODUCE_CHUNK);
  private readonly partitions: number;
  private readonly orderedPartitions: number;
  /** Where the next call's lanes start: calls take the pool's producers in turn. */
  private nextFirstProducer = 0;

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(KAFKA_SETTINGS) settings: KafkaSettings,
    @Inject(MESSAGING_METRICS) metrics: MessagingMetrics,
    @Inject(PRODUCER_HEALTH) health: ProducerHealthBoard,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
    @Inject(FANOUT_METRICS) private readonly fanoutMetrics: FanoutMetrics,
  ) {
    this.producers = Array.from(
      { length: PRODUCERS },
      (_, lane) =>
        new ContractProducer(kafka, settings, { name: `delivery-requests-${lane}`, metrics, health, logger }),
    );
    this.partitions = settings.partitions.deliveryRequests;
    this.orderedPartitions = settings.partitions.deliveryOrdered;
  }

  /**
   * Sends every request, each through its subscription's producer, the producers in parallel;
   * resolves when Kafka has acknowledged them all, with the requests that went to the dead-letter
   * topic instead (too large for the requests topic: no retry could ever write them). Built in
   * process from validated events and the index, the requests are not validated again here: the
   * consumers validate on receipt. Each request carries its event's trace id (`originOf`).
   */
  async send(
    requests: readonly DeliveryRequest[],
    originOf: (request: DeliveryRequest) => RequestOrigin | undefined,
  ): Promise<ReadonlySet<DeliveryRequest>> {
    const laneCount = Math.min(this.producers.length, Math.ceil(requests.length / REQUESTS_PER_LANE));
    const firstProducer = this.nextFirstProducer;
    this.nextFirstProducer = (firstProducer + laneCount) % this.producers.length;
    const lanes: DeliveryRequest[][] = Array.from({ length: laneCount }, () => []);
    for (const request of requests) lanes[laneOf(request.subscriptionId, laneCount)]?.push(request);
    // On a failure the other lanes stop at their next chunk and the call fails only once all have
    // stopped: nothing of this call is still being sent when the consumer retries it, so a retry
    // cannot interleave with a late chunk of the attempt before.
    const stop = { requested: false };
    const deadLettered = new Set<DeliveryRequest>();
    const outcomes = await Promise.allSettled(
      lanes.map((lane, index) =>
        this.sendLane(
          this.producers[(firstProducer + index) % this.producers.length] as ContractProducer,
          lane,
          originOf,
          stop,
          deadLettered,
        ),
      ),
    );
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    return deadLettered;
  }

  /**
   * One lane's requests: those of ordered subscriptions to the ordered topic (ADR 0031), the rest to
   * the requests topic. A subscription is ordered or not, so each of its requests keeps its place
   * among its own, whichever topic they take.
   */
  private async sendLane(
    producer: ContractProducer,
    lane: readonly DeliveryRequest[],
    originOf: (request: DeliveryRequest) => RequestOrigin | undefined,
    stop: { requested: boolean },
    deadLettered: Set<DeliveryRequest>,
  ): Promise<void> {
    if (lane.length === 0) return;
    const unordered = lane.filter((request) => request.orderingKey === undefined);
    const ordered = unordered.length === lane.length ? [] : lane.filter((r) => r.orderingKey !== undefined);
    if (unordered.length > 0) {
      const messages = encodeForKafka(
        deliveryRequestContract,
        unordered,
        true,
        (request) => originOf(request)?.traceId,
        (request) => originOf(request)?.traceContext,
      );
      await this.sendToTopic(producer, 'deliveryRequests', unordered, messages, originOf, stop, deadLettered);
    }
    if (ordered.length > 0) {
      const messages = encodeForKafka(
        orderedDeliveryContract,
        ordered.map((request) => ({ kind: 'delivery' as const, request })),
        true,
        (record) => (record.kind === 'delivery' ? originOf(record.request)?.traceId : undefined),
        (record) => (record.kind === 'delivery' ? originOf(record.request)?.traceContext : undefined),
      );
      await this.sendToTopic(producer, 'deliveryOrdered', ordered, messages, originOf, stop, deadLettered);
    }
  }

  /**
   * Requests in produce requests whose batch for any one partition stays under the topic's size
   * limit: many large events for one subscription all go to its one partition, and a broker
   * refuses a batch over the limit whole, for ever.
   */
  private async sendToTopic(
    producer: ContractProducer,
    topicKey: 'deliveryRequests' | 'deliveryOrdered',
    lane: readonly DeliveryRequest[],
    messages: readonly Message[],
    originOf: (request: DeliveryRequest) => RequestOrigin | undefined,
    stop: { requested: boolean },
    deadLettered: Set<DeliveryRequest>,
  ): Promise<void> {
    const ordered = topicKey === 'deliveryOrdered';
    const bounds = ordered ? this.orderedBounds : this.bounds;
    const partitions = ordered ? this.orderedPartitions : this.partitions;
    const encoded = lane.map((request, index): EncodedRequest => {
      const message = messages[index] as Message;
      return { request, message, bytes: recordBytesOf(message) };
    });
    const { requests, oversized } = splitForProduce(
      encoded,
      (entry) => entry.bytes,
      (entry) => expectedPartitionOf(entry.message, partitions),
      bounds,
    );
    try {
      for (const chunk of requests) {
        if (stop.requested) return;
        const refused = await sendHalvingWhenTooLarge(chunk, (entries) =>
          producer.sendRaw(
            topicKey,
            entries.map((entry) => entry.message),
          ),
        );
        oversized.push(...refused);
      }
      for (const entry of oversized) {
        await this.deadLetter(producer, topicKey, entry, originOf(entry.request));
        deadLettered.add(entry.request);
      }
    } catch (error) {
      stop.requested = true;
      throw error;
    }
  }

  private async deadLetter(
    producer: ContractProducer,
    topicKey: 'deliveryRequests' | 'deliveryOrdered',
    { request, message, bytes }: EncodedRequest,
    origin: RequestOrigin | undefined,
  ): Promise<void> {
    const limit = (topicKey === 'deliveryOrdered' ? this.orderedBounds : this.bounds).maxBatchBytes;
    this.logger.warn(
      {
        subscriptionId: request.subscriptionId,
        eventId: request.event.id,
        deliveryId: request.deliveryId,
        bytes,
        limit,
      },
      'delivery request too large for its topic: sent to the dead-letter topic',
    );
    await sendToDeadLetter(
      producer,
      'deliveryRequestsDeadLetter',
      deadLetterOfTooLarge(
        message,
        topicKey,
        origin,
        `the delivery request is ${bytes} bytes; its topic takes record batches of at most ${limit} bytes`,
      ),
    );
    this.fanoutMetrics.deliveryRequestsDeadLettered.inc({ reason: 'record-too-large' });
  }

  async onModuleInit(): Promise<void> {
    await Promise.all(this.producers.map((producer) => producer.connect()));
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.producers.map((producer) => producer.disconnect()));
  }
}

/** A cheap, stable hash (FNV-1a) of the subscription id onto a lane. */
function laneOf(subscriptionId: string, lanes: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < subscriptionId.length; i += 1) {
    hash = Math.imul(hash ^ subscriptionId.charCodeAt(i), 0x01000193);
  }
  return (hash >>> 0) % lanes;
}
