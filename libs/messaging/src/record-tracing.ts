import { type Context } from '@opentelemetry/api';
import { KAFKA_TOPICS } from '@skyhook/contracts';
import {
  contextOfSpan,
  endRecordSpan,
  runWithTraceId,
  startRecordSpan,
  type TracedRecord,
  tracingEnabled,
  withSpan,
} from '@skyhook/observability';
import { type ConsumedRecord } from './consumed-records';

function tracedRecordOf(record: ConsumedRecord): TracedRecord {
  return {
    topic: KAFKA_TOPICS[record.topicKey].name,
    partition: record.partition,
    offset: record.offset,
    headers: record.headers,
  };
}

/**
 * Runs one record's handling inside its trace: its log lines carry its trace id and, with
 * OpenTelemetry on (ADR 0035), a span child of its `traceparent` is active, so the HTTP requests,
 * queries and records the handling makes join the trace.
 */
export async function handleInTrace<T>(record: ConsumedRecord, work: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return runWithTraceId(record.traceId, work);
  const span = startRecordSpan(tracedRecordOf(record));
  try {
    const result = await withSpan(span, () => runWithTraceId(record.traceId, work));
    endRecordSpan(span);
    return result;
  } catch (error) {
    endRecordSpan(span, error);
    throw error;
  }
}

/** A batch's records with their spans: `finish` ends them once the batch is handled (or failed). */
export interface TracedBatch {
  readonly records: ConsumedRecord[];
  finish(error?: unknown): void;
}

/**
 * For a handler of many records at once: a span per record, each child of its own `traceparent`
 * and open for the whole call, and the records carrying their span's context, for what the
 * handler produces on each one's behalf. The records as they are when tracing is off.
 */
export function traceBatch(records: ConsumedRecord[]): TracedBatch {
  if (!tracingEnabled()) return { records, finish: () => undefined };
  const spans = records.map((record) => startRecordSpan(tracedRecordOf(record)));
  return {
    records: records.map((record, index) => ({ ...record, traceContext: contextOfSpan(spans[index]) })),
    finish: (error) => {
      for (const span of spans) endRecordSpan(span, error);
    },
  };
}

export type { Context as TraceContext };
