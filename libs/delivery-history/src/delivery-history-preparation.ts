import {
  type ContractViolationCode,
  ContractViolationError,
  decodeMessage,
  type DeliveryEvent,
  deliveryEventContract,
  isReservedEventType,
  NOTIFIED_BODY_EXCERPT_MAX,
} from '@skyhook/contracts';
import { planHistoryBatch, statusTimeOf } from './delivery-history-batch';
import { copyFormOf, type HistoryCopyForm } from './delivery-history-rows';

/*
 * Turning consumed delivery events into the rows of their write (decoding, validating,
 * planning, COPY text) is most of the history service's CPU, and none of it needs the database
 * or Kafka. It is done here, in plain functions over bytes, so that it can run on a worker
 * thread while the main thread fetches and writes (`HistoryBatchPreparer`).
 */

/** The delivery events of one call, packed to cross to a worker thread in one transfer. */
export interface PackedDeliveryEvents {
  /** Every record's value, one after another. */
  readonly bytes: ArrayBuffer;
  /** Each record's value length in `bytes`, in order; -1 for a record without a value. */
  readonly lengths: Int32Array<ArrayBuffer>;
  /** The schema each record's producer declared (its `skyhook-schema` header), if any. */
  readonly schemas: readonly (string | null)[];
}

/** A record as consumed: its value's bytes and its declared schema. */
export interface EncodedDeliveryEvent {
  readonly value: Buffer | null;
  readonly schema: string | undefined;
}

/**
 * The values copied into a buffer of their own: a consumed value is a view into the fetch's
 * whole response, which a worker must not be sent (a view crosses with its entire buffer).
 */
export function packDeliveryEvents(records: readonly EncodedDeliveryEvent[]): PackedDeliveryEvents {
  let total = 0;
  for (const record of records) total += record.value?.byteLength ?? 0;
  const bytes = new Uint8Array(total);
  const lengths = new Int32Array(records.length);
  let offset = 0;
  records.forEach((record, index) => {
    if (record.value === null) {
      lengths[index] = -1;
      return;
    }
    bytes.set(record.value, offset);
    lengths[index] = record.value.byteLength;
    offset += record.value.byteLength;
  });
  return { bytes: bytes.buffer, lengths, schemas: records.map((record) => record.schema ?? null) };
}

export function unpackDeliveryEvents(packed: PackedDeliveryEvents): EncodedDeliveryEvent[] {
  const records: EncodedDeliveryEvent[] = [];
  let offset = 0;
  packed.lengths.forEach((length, index) => {
    const schema = packed.schemas[index] ?? undefined;
    if (length < 0) {
      records.push({ value: null, schema });
      return;
    }
    records.push({ value: Buffer.from(packed.bytes, offset, length), schema });
    offset += length;
  });
  return records;
}

/** A record that breaks the delivery event contract: where it is in the call, and why. */
export interface BrokenDeliveryEvent {
  readonly index: number;
  readonly code: ContractViolationCode;
  readonly message: string;
  readonly details: readonly string[];
}

export function violationOf(broken: BrokenDeliveryEvent): ContractViolationError {
  return new ContractViolationError(broken.code, broken.message, broken.details);
}

/** The call's records decoded against the delivery event contract, in order, and those that break it. */
export function decodeDeliveryEvents(records: readonly EncodedDeliveryEvent[]): {
  events: DeliveryEvent[];
  broken: BrokenDeliveryEvent[];
} {
  const events: DeliveryEvent[] = [];
  const broken: BrokenDeliveryEvent[] = [];
  records.forEach((record, index) => {
    try {
      events.push(decodeMessage(deliveryEventContract, record.value, record.schema));
    } catch (error) {
      if (!(error instanceof ContractViolationError)) throw error;
      broken.push({ index, code: error.code, message: error.message, details: error.details });
    }
  });
  return { events, broken };
}

/** A call's delivery events as their write needs them. */
export interface PreparedHistoryBatch {
  readonly broken: readonly BrokenDeliveryEvent[];
  /** The rows of the fast write (`copyFormOf`). */
  readonly rows: HistoryCopyForm;
  /** Midnight UTC (ms) of every publish day written: their partitions must exist. */
  readonly days: readonly number[];
  readonly attempted: number;
  readonly skipped: number;
  readonly waiting: number;
  readonly expired: number;
  /** The status time (ms) of every event written, for the projection delay. */
  readonly statusTimesMs: readonly number[];
  /** Attempts that ended their delivery for good, for `skyhook.delivery.failed` (ADR 0030). */
  readonly finalFailures: readonly FinalFailure[];
}

/**
 * An attempt after which its delivery failed for good. Test deliveries (the partner is watching
 * them) and deliveries of Skyhook's own notifications (a failing notification endpoint would
 * notify itself of its failures without end) are left out.
 */
export interface FinalFailure {
  readonly organisationId: string;
  readonly subscriptionId: string;
  readonly deliveryId: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly url: string;
  readonly attemptNumber: number;
  readonly attemptedAt: string;
  readonly outcome: string;
  readonly responseStatus: number | null;
  readonly errorCode: string | null;
  readonly responseBody: string | null;
}

export function finalFailuresOf(events: readonly DeliveryEvent[]): FinalFailure[] {
  const failures: FinalFailure[] = [];
  for (const event of events) {
    if (event.type !== 'DeliveryAttempted' || event.result !== 'failed') continue;
    if (event.test || isReservedEventType(event.eventType)) continue;
    failures.push({
      organisationId: event.organisationId,
      subscriptionId: event.subscriptionId,
      deliveryId: event.deliveryId,
      eventId: event.eventId,
      eventType: event.eventType,
      url: event.url,
      attemptNumber: event.attemptNumber,
      attemptedAt: event.attemptedAt,
      outcome: event.outcome,
      responseStatus: event.responseStatus,
      errorCode: event.errorCode,
      responseBody:
        event.responseBody === null ? null : event.responseBody.slice(0, NOTIFIED_BODY_EXCERPT_MAX),
    });
  }
  return failures;
}

/** Decodes, plans (events of days before `oldestRetainedDayMs` left out) and builds the rows. */
export function prepareHistoryBatch(
  records: readonly EncodedDeliveryEvent[],
  oldestRetainedDayMs: number,
): PreparedHistoryBatch {
  const { events, broken } = decodeDeliveryEvents(records);
  const batch = planHistoryBatch(events, oldestRetainedDayMs);
  const statusTimesMs: number[] = [];
  for (const event of events) {
    if (batch.expired > 0 && Date.parse(event.publishedAt) < oldestRetainedDayMs) continue;
    statusTimesMs.push(Date.parse(statusTimeOf(event)));
  }
  return {
    broken,
    rows: copyFormOf(batch),
    days: [...batch.days],
    attempted: batch.attempted,
    skipped: batch.skipped,
    waiting: batch.waiting,
    expired: batch.expired,
    statusTimesMs,
    finalFailures: finalFailuresOf(events),
  };
}
