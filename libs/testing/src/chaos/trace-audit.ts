import { pollUntil } from '../poll-until';
import { type ExportedSpan } from '../otlp-receiver';
import { type ReceivedWebhook } from '../webhook-receiver';

/** OTLP's SpanKind values the audit looks for. */
const SERVER = 2;
const CLIENT = 3;
const CONSUMER = 5;

/**
 * What the exported spans say about the deliveries a fault run made (ADR 0035): each delivered
 * webhook must be seen from end to end, whatever the broker or a service went through meanwhile.
 */
export interface TraceAudit {
  /** Deliveries audited: every expected delivery the receiver got. */
  readonly deliveries: number;
  /** Delivered, but no dispatcher CLIENT span with the delivery's id and a 2xx status. */
  readonly withoutAttemptSpan: readonly string[];
  /** The successful attempt's trace has no api SERVER span for `POST /v1/events`. */
  readonly withoutApiRequest: readonly string[];
  /** … no fan-out span for the inbound event record. */
  readonly withoutFanOut: readonly string[];
  /** … no history span for the attempt's delivery event. */
  readonly withoutHistoryWrite: readonly string[];
  /** Deliveries whose attempts lie in more than one trace (an event the client published twice). */
  readonly inSeveralTraces: number;
  /** Requests to the partner carrying trace context (`traceparent`, `tracestate`): must be none. */
  readonly requestsWithTraceContext: number;
  readonly spans: number;
}

/**
 * Audits the spans against the delivered webhooks, waiting up to `settleMs` for spans still in
 * the services' export batches. `deliveryIds` are the expected deliveries that reached the
 * receiver; `requests` every request the receiver got.
 */
export async function auditTraces(
  spans: readonly ExportedSpan[],
  deliveryIds: ReadonlySet<string>,
  requests: readonly ReceivedWebhook[],
  settleMs = 15_000,
): Promise<TraceAudit> {
  let audit = traceAuditOf(spans, deliveryIds, requests);
  await pollUntil(
    () => {
      audit = traceAuditOf(spans, deliveryIds, requests);
      return gapsIn(audit) === 0;
    },
    { timeoutMs: settleMs, intervalMs: 500, description: 'every delivery traced end to end' },
  ).catch(() => undefined);
  return audit;
}

export function gapsIn(audit: TraceAudit): number {
  return (
    audit.withoutAttemptSpan.length +
    audit.withoutApiRequest.length +
    audit.withoutFanOut.length +
    audit.withoutHistoryWrite.length
  );
}

/** One line per gap; empty when every delivery was traced from the api to the history write. */
export function traceAuditFailures(audit: TraceAudit): string[] {
  const failures: string[] = [];
  const gap = (ids: readonly string[], what: string): void => {
    if (ids.length > 0)
      failures.push(
        `${ids.length} of ${audit.deliveries} deliveries ${what}, e.g. ${ids.slice(0, 3).join(', ')}`,
      );
  };
  gap(audit.withoutAttemptSpan, 'without a successful attempt span');
  gap(audit.withoutApiRequest, 'whose trace lacks the api request');
  gap(audit.withoutFanOut, 'whose trace lacks fan-out');
  gap(audit.withoutHistoryWrite, 'whose trace lacks the history write');
  if (audit.requestsWithTraceContext > 0) {
    failures.push(`${audit.requestsWithTraceContext} requests carried trace context to the partner`);
  }
  return failures;
}

export function describeTraceAudit(audit: TraceAudit): string {
  return (
    `traces: ${audit.spans} spans; of ${audit.deliveries} deliveries ${audit.withoutAttemptSpan.length} without an attempt span, ` +
    `${audit.withoutApiRequest.length} without the api request, ${audit.withoutFanOut.length} without fan-out, ` +
    `${audit.withoutHistoryWrite.length} without the history write; ${audit.inSeveralTraces} in several traces; ` +
    `${audit.requestsWithTraceContext} partner requests with trace context`
  );
}

function traceAuditOf(
  allSpans: readonly ExportedSpan[],
  deliveryIds: ReadonlySet<string>,
  requests: readonly ReceivedWebhook[],
): TraceAudit {
  const spans = allSpans.slice();
  const successfulAttempts = new Map<string, ExportedSpan[]>();
  const traces = new Map<string, ExportedSpan[]>();
  for (const span of spans) {
    const inTrace = traces.get(span.traceId) ?? [];
    inTrace.push(span);
    traces.set(span.traceId, inTrace);
    const deliveryId = span.attributes['skyhook.delivery.id'];
    const status = Number(span.attributes['http.response.status_code']);
    if (
      span.service === 'skyhook-dispatcher' &&
      span.kind === CLIENT &&
      typeof deliveryId === 'string' &&
      deliveryIds.has(deliveryId) &&
      status >= 200 &&
      status < 300
    ) {
      const attempts = successfulAttempts.get(deliveryId) ?? [];
      attempts.push(span);
      successfulAttempts.set(deliveryId, attempts);
    }
  }

  const withoutAttemptSpan: string[] = [];
  const withoutApiRequest: string[] = [];
  const withoutFanOut: string[] = [];
  const withoutHistoryWrite: string[] = [];
  let inSeveralTraces = 0;
  for (const deliveryId of deliveryIds) {
    const attempts = successfulAttempts.get(deliveryId);
    if (attempts === undefined) {
      withoutAttemptSpan.push(deliveryId);
      continue;
    }
    if (new Set(attempts.map((attempt) => attempt.traceId)).size > 1) inSeveralTraces += 1;
    // Any one successful attempt whose trace is whole is enough: a repeat may lie in a trace whose
    // root request was answered 503 and published again.
    const whole = (has: (span: ExportedSpan) => boolean): boolean =>
      attempts.some((attempt) => (traces.get(attempt.traceId) ?? []).some(has));
    if (!whole((span) => span.service === 'skyhook-api' && span.kind === SERVER && isEventsRequest(span))) {
      withoutApiRequest.push(deliveryId);
    }
    if (
      !whole(
        (span) =>
          span.service === 'skyhook-fanout' && span.kind === CONSUMER && span.name.includes('events.in'),
      )
    ) {
      withoutFanOut.push(deliveryId);
    }
    if (
      !whole(
        (span) =>
          span.service === 'skyhook-history' &&
          span.kind === CONSUMER &&
          span.name.includes('deliveries.events'),
      )
    ) {
      withoutHistoryWrite.push(deliveryId);
    }
  }
  return {
    deliveries: deliveryIds.size,
    withoutAttemptSpan,
    withoutApiRequest,
    withoutFanOut,
    withoutHistoryWrite,
    inSeveralTraces,
    requestsWithTraceContext: requests.filter(
      (request) =>
        request.headers['traceparent'] !== undefined || request.headers['tracestate'] !== undefined,
    ).length,
    spans: spans.length,
  };
}

function isEventsRequest(span: ExportedSpan): boolean {
  return (span.attributes['url.path'] ?? span.attributes['http.target']) === '/v1/events';
}
