import { type ExportedSpan } from '../otlp-receiver';
import { type ReceivedWebhook } from '../webhook-receiver';
import { auditTraces, traceAuditFailures } from './trace-audit';

function span(service: string, kind: number, name: string, traceId: string, attributes = {}): ExportedSpan {
  return {
    service: `skyhook-${service}`,
    traceId,
    spanId: `${service}-${traceId}`,
    parentSpanId: '',
    name,
    kind,
    attributes,
    startNs: 0n,
    endNs: 1n,
  };
}

/** One delivery's spans from the api's request to the history write. */
function wholeTrace(traceId: string, deliveryId: string, status = 200): ExportedSpan[] {
  return [
    span('api', 2, 'POST /v1/events', traceId, { 'url.path': '/v1/events' }),
    span('fanout', 5, 'events.in process', traceId),
    span('dispatcher', 5, 'deliveries.requests process', traceId),
    span('dispatcher', 3, 'POST', traceId, {
      'skyhook.delivery.id': deliveryId,
      'http.response.status_code': status,
    }),
    span('history', 5, 'deliveries.events process', traceId),
  ];
}

function request(headers: Record<string, string> = {}): ReceivedWebhook {
  return { headers } as unknown as ReceivedWebhook;
}

describe('auditTraces', () => {
  it('passes deliveries traced from the api request to the history write', async () => {
    const audit = await auditTraces(
      [...wholeTrace('t1', 'del_1'), ...wholeTrace('t2', 'del_2')],
      new Set(['del_1', 'del_2']),
      [request(), request()],
      0,
    );
    expect(traceAuditFailures(audit)).toEqual([]);
    expect(audit.inSeveralTraces).toBe(0);
  });

  it('names each gap: no successful attempt, no api request, no fan-out, no history write', async () => {
    const spans = [
      ...wholeTrace('t1', 'del_failed', 503),
      ...wholeTrace('t2', 'del_no_api').filter((s) => s.service !== 'skyhook-api'),
      ...wholeTrace('t3', 'del_no_fanout').filter((s) => s.service !== 'skyhook-fanout'),
      ...wholeTrace('t4', 'del_no_history').filter((s) => s.service !== 'skyhook-history'),
    ];
    const audit = await auditTraces(
      spans,
      new Set(['del_failed', 'del_no_api', 'del_no_fanout', 'del_no_history']),
      [],
      0,
    );
    expect(audit.withoutAttemptSpan).toEqual(['del_failed']);
    expect(audit.withoutApiRequest).toEqual(['del_no_api']);
    expect(audit.withoutFanOut).toEqual(['del_no_fanout']);
    expect(audit.withoutHistoryWrite).toEqual(['del_no_history']);
    expect(traceAuditFailures(audit)).toHaveLength(4);
  });

  it('takes a repeat in a second trace as whole when one of its traces is, and counts it', async () => {
    const partial = wholeTrace('t2', 'del_1').filter((s) => s.service !== 'skyhook-api');
    const audit = await auditTraces([...wholeTrace('t1', 'del_1'), ...partial], new Set(['del_1']), [], 0);
    expect(traceAuditFailures(audit)).toEqual([]);
    expect(audit.inSeveralTraces).toBe(1);
  });

  it('fails a request that carried trace context to the partner', async () => {
    const audit = await auditTraces(
      wholeTrace('t1', 'del_1'),
      new Set(['del_1']),
      [request({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' })],
      0,
    );
    expect(audit.requestsWithTraceContext).toBe(1);
    expect(traceAuditFailures(audit)).toEqual(['1 requests carried trace context to the partner']);
  });
});
