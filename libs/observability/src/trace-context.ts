import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { activeOtelTraceId } from './tracing';

/**
 * The trace id of the work in progress (an HTTP request or a consumed Kafka record). Logs
 * carry it, and produced records forward it, so one event can be followed across services.
 */
const traceStorage = new AsyncLocalStorage<string>();

/** Accepted from clients only when short and printable, so a header cannot inject into logs. */
const TRACE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function runWithTraceId<T>(traceId: string, work: () => T): T {
  return traceStorage.run(traceId, work);
}

/** The active OpenTelemetry trace's id when tracing is on and a span is active, else the own one. */
export function currentTraceId(): string | undefined {
  return activeOtelTraceId() ?? traceStorage.getStore();
}

/** Uses the caller's id when it is well-formed, otherwise starts a new trace. */
export function traceIdFrom(candidate: unknown): string {
  return typeof candidate === 'string' && TRACE_ID_PATTERN.test(candidate) ? candidate : randomUUID();
}
