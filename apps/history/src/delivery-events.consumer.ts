import { Controller, Inject, type INestApplicationContext } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { CONSUMER_GROUPS, deliveryEventContract, KAFKA_TOPICS, MESSAGE_HEADERS } from '@skyhook/contracts';
import {
  type ConsumedRecord,
  ContractProducer,
  deadLetterTo,
  type HandledRecords,
  type KafkaConsumerServerOptions,
  type RejectedRecord,
} from '@skyhook/messaging';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { violationOf } from '@skyhook/delivery-history';
import { DeliveryHistoryProjector } from './delivery-history.projector';

/** Stable: a new group name would re-read the whole topic (harmless, the writes are idempotent, but slow). */
export const HISTORY_GROUP = CONSUMER_GROUPS.history.name;

/** The projector decodes the records itself, on its preparation thread (`HistoryBatchPreparer`). */
export const DELIVERY_EVENTS_ROUTE = {
  topicKey: 'deliveryEvents',
  contract: deliveryEventContract,
  handlerDecodes: true,
} as const;

/**
 * Hundreds of records per call: the batch is written with one statement per table, so the
 * per-call cost (a transaction, a few round trips) is spread over many events.
 */
const MAX_RECORDS_PER_CALL = 1_000;

const FETCH_BYTES_PER_PARTITION = 4 * 1_048_576;

/** About a quarter second of delivery events at 1,000 deliveries/s. */
const HISTORY_FETCH_BATCHING = { minBytes: 256 * 1_024, maxWaitMs: 250 } as const;

/**
 * Delivery events in, history rows out. The handler resolves only after the batch's
 * transaction committed, and the consumer commits offsets only then; a crash in between
 * re-delivers the batch, which the idempotent writes absorb.
 */
@Controller()
export class DeliveryEventsConsumer {
  private readonly sendToDeadLetter: (record: RejectedRecord) => Promise<void>;

  constructor(
    private readonly projector: DeliveryHistoryProjector,
    producer: ContractProducer,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {
    this.sendToDeadLetter = deadLetterTo(producer, 'deliveryEventsDeadLetter');
  }

  /** The records' bytes in; the ones that break the contract named back, to be dead-lettered. */
  @EventPattern('deliveryEvents')
  async project(@Payload() records: ConsumedRecord<Buffer | null>[]): Promise<HandledRecords> {
    const broken = await this.projector.project(
      records.map((record) => ({ value: record.value, schema: record.headers[MESSAGE_HEADERS.schema] })),
    );
    return { rejected: broken.map((record) => ({ index: record.index, violation: violationOf(record) })) };
  }

  /**
   * Only the dispatcher writes delivery events, through the same contract, so a record that
   * breaks it is a bug to fix at the producer. It goes to the dead-letter topic with the reason
   * (kept 30 days, for inspection and re-drive once the bug is fixed) and the partition moves
   * on: it is never retried forever, and never silently lost.
   */
  async deadLetter(record: RejectedRecord): Promise<void> {
    this.logger.error(
      {
        partition: record.partition,
        offset: record.offset,
        code: record.violation.code,
        details: record.violation.details,
      },
      `delivery event breaks its contract; sent to the dead-letter topic: ${record.violation.message}`,
    );
    await this.sendToDeadLetter(record);
  }
}

/** The projector's transport options, one definition for `main.ts` and tests. */
export function deliveryEventsConsumerOptions(app: INestApplicationContext): KafkaConsumerServerOptions {
  const consumer = app.get(DeliveryEventsConsumer);
  return {
    group: HISTORY_GROUP,
    routes: [DELIVERY_EVENTS_ROUTE],
    batched: true,
    maxRecordsPerCall: MAX_RECORDS_PER_CALL,
    // Every partition's batch of a fetch in hand at once: the projector writes the ones that
    // arrive while its writes are busy together, in one transaction (a group commit).
    partitionsConsumedConcurrently: KAFKA_TOPICS.deliveryEvents.defaultPartitions,
    // History is read by people, not by the delivery path: while events flow, a quarter second
    // more on its lag buys batches of hundreds of events instead of a few per partition.
    fetchBatching: HISTORY_FETCH_BATCHING,
    // About 5,700 delivery events a partition per fetch instead of 1,400, and every partition's
    // worth (at the default count) in one fetch: catching up, the service waited less on
    // fetches (bench/RESULTS.md), for at most 48 MiB held at once.
    fetchMaxBytes: {
      perPartition: FETCH_BYTES_PER_PARTITION,
      perFetch: FETCH_BYTES_PER_PARTITION * KAFKA_TOPICS.deliveryEvents.defaultPartitions,
    },
    handleRejected: (record) => consumer.deadLetter(record),
    // kafkajs gave up on the consumer (not a database outage: those are retried without end):
    // exit and let the process be restarted rather than stay up consuming nothing.
    onFatalError: () => {
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    },
  };
}
