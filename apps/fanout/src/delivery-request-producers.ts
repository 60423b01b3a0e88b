import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { type Kafka } from 'kafkajs';
import { type DeliveryRequest, deliveryRequestContract } from '@skyhook/contracts';
import {
  ContractProducer,
  KAFKA_CLIENT,
  KAFKA_SETTINGS,
  type KafkaSettings,
  MESSAGING_METRICS,
  type MessagingMetrics,
  PRODUCER_HEALTH,
  type ProducerHealthBoard,
} from '@skyhook/messaging';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';

const PRODUCERS = 3;

/** Bounds one produce request (kafkajs builds it in memory). */
const PRODUCE_CHUNK = 2_000;

/**
 * A Skyhook producer keeps one request in flight (send order kept through retries), so one
 * producer serialises every produce. Requests are spread over a small pool by subscription:
 * a subscription always leaves through the same producer, so its requests stay in order,
 * while one wide event's requests go out over all of them at once. Each producer works through
 * its own share chunk by chunk without waiting for the others, so while one waits for the
 * broker's acknowledgement the next builds its request.
 */
@Injectable()
export class DeliveryRequestProducers implements OnModuleInit, OnApplicationShutdown {
  private readonly producers: ContractProducer[];

  constructor(
    @Inject(KAFKA_CLIENT) kafka: Kafka,
    @Inject(KAFKA_SETTINGS) settings: KafkaSettings,
    @Inject(MESSAGING_METRICS) metrics: MessagingMetrics,
    @Inject(PRODUCER_HEALTH) health: ProducerHealthBoard,
    @Inject(SERVICE_LOGGER) logger: ServiceLogger,
  ) {
    this.producers = Array.from(
      { length: PRODUCERS },
      (_, lane) =>
        new ContractProducer(kafka, settings, { name: `delivery-requests-${lane}`, metrics, health, logger }),
    );
  }

  /**
   * Sends every request, each through its subscription's producer, the producers in parallel;
   * resolves when Kafka has acknowledged them all. Built in process from validated events and
   * the index, the requests are not validated again here: the consumers validate on receipt.
   * Each request carries the trace id `traceIdOf` gives (its event's).
   */
  async send(
    requests: readonly DeliveryRequest[],
    traceIdOf: (request: DeliveryRequest) => string | undefined,
  ): Promise<void> {
    const lanes: DeliveryRequest[][] = this.producers.map(() => []);
    for (const request of requests) lanes[laneOf(request.subscriptionId, lanes.length)]?.push(request);
    // On a failure the other lanes stop at their next chunk and the call fails only once all have
    // stopped: nothing of this call is still being sent when the consumer retries it, so a retry
    // cannot interleave with a late chunk of the attempt before.
    const stop = { requested: false };
    const outcomes = await Promise.allSettled(
      lanes.map((lane, index) =>
        this.sendLane(this.producers[index] as ContractProducer, lane, traceIdOf, stop),
      ),
    );
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  private async sendLane(
    producer: ContractProducer,
    lane: readonly DeliveryRequest[],
    traceIdOf: (request: DeliveryRequest) => string | undefined,
    stop: { requested: boolean },
  ): Promise<void> {
    for (let start = 0; start < lane.length && !stop.requested; start += PRODUCE_CHUNK) {
      try {
        await producer.send(
          deliveryRequestContract,
          'deliveryRequests',
          lane.slice(start, start + PRODUCE_CHUNK),
          { trusted: true, traceIdOf },
        );
      } catch (error) {
        stop.requested = true;
        throw error;
      }
    }
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
