import { type IncomingMessage } from 'node:http';
import {
  type Attributes,
  context,
  type Context,
  defaultTextMapGetter,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { type SpanProcessor } from '@opentelemetry/sdk-trace';

/**
 * OpenTelemetry traces (ADR 0035), off unless `OTEL_TRACES_EXPORTER` names an exporter (`otlp`,
 * `console`): then the standard `OTEL_*` variables configure the exporter (endpoint, protocol,
 * headers), the sampler (`OTEL_TRACES_SAMPLER=parentbased_traceidratio`,
 * `OTEL_TRACES_SAMPLER_ARG=0.1`) and the resource. The api's HTTP requests and PostgreSQL
 * queries get spans from the OpenTelemetry instrumentations; Kafka records carry the W3C
 * `traceparent` (`kafkaTraceHeaders`, `startRecordSpan`); each webhook attempt is a span of its
 * own (`traceOutgoingRequest`), not undici's instrumentation, which would also send the
 * `traceparent` to partners: a trace's ids stay inside Skyhook. So one trace follows an event
 * from `POST /v1/events` through fan-out and each delivery attempt to its history write.
 */
let sdk: NodeSDK | undefined;
let tracer: Tracer | undefined;
/**
 * Whether the sampler follows the parent's decision (`parentbased_*`, the default): then the
 * child of an unsampled record or request cannot be sampled, and no span is made for it at all,
 * its parent's context is carried on as it is. Unsampled work then costs a header parse, not a
 * span (bench/RESULTS.md, "OpenTelemetry").
 */
let followsParentDecision = true;

/** What the module-level state says: tracing was started in this process. */
export function tracingEnabled(): boolean {
  return sdk !== undefined;
}

/** Whether the environment asks for traces (an exporter named, the SDK not disabled). */
export function tracingRequested(environment: NodeJS.ProcessEnv = process.env): boolean {
  const exporters = (environment['OTEL_TRACES_EXPORTER'] ?? '').split(',').map((name) => name.trim());
  return (
    environment['OTEL_SDK_DISABLED'] !== 'true' && exporters.some((name) => name !== '' && name !== 'none')
  );
}

/** Paths scraped or probed every few seconds: traces of them would bury the ones that matter. */
const UNTRACED_PATHS = /^\/(?:health\/(?:live|ready)|metrics)(?:\?|$)/;

/** Libraries whose calls a service wants as spans, through OpenTelemetry's instrumentations. */
export type InstrumentedLibrary = 'http' | 'pg';

export interface TracingOptions {
  /**
   * Only what makes spans in this service: an instrumentation hooks every `require` of the
   * process, including the ones kafkajs makes for each produce and fetch request (a module
   * resolution each, ~1 % of a Kafka-bound service's CPU; bench/RESULTS.md, "OpenTelemetry").
   */
  readonly instrument?: readonly InstrumentedLibrary[];
  readonly environment?: NodeJS.ProcessEnv;
  /** In place of the exporter the environment names (tests: an in-memory one). */
  readonly spanProcessors?: SpanProcessor[];
}

/**
 * Starts tracing for this process when the environment asks for it; a no-op otherwise. Call it
 * before the modules it instruments are loaded (first thing in `main`). Metrics and logs stay
 * Prometheus' and pino's: the SDK exports traces only, unless `OTEL_METRICS_EXPORTER` /
 * `OTEL_LOGS_EXPORTER` say otherwise.
 */
export function startTracing(serviceName: string, options: TracingOptions = {}): boolean {
  const { instrument = [], environment = process.env, spanProcessors } = options;
  if (sdk !== undefined || !tracingRequested(environment)) return sdk !== undefined;
  environment['OTEL_METRICS_EXPORTER'] ??= 'none';
  environment['OTEL_LOGS_EXPORTER'] ??= 'none';
  sdk = new NodeSDK({
    serviceName: environment['OTEL_SERVICE_NAME'] ?? `skyhook-${serviceName}`,
    ...(spanProcessors === undefined ? {} : { spanProcessors }),
    instrumentations: [
      ...(instrument.includes('http')
        ? [
            new HttpInstrumentation({
              ignoreIncomingRequestHook: (request: IncomingMessage) => UNTRACED_PATHS.test(request.url ?? ''),
              // Outgoing calls outside a trace (none expected: webhooks go through undici) start none.
              requireParentforOutgoingSpans: true,
            }),
          ]
        : []),
      // Queries outside a traced request (pool housekeeping) start no trace.
      ...(instrument.includes('pg') ? [new PgInstrumentation({ requireParentSpan: true })] : []),
    ],
  });
  sdk.start();
  tracer = trace.getTracer('skyhook');
  followsParentDecision = (environment['OTEL_TRACES_SAMPLER'] ?? 'parentbased_always_on').startsWith(
    'parentbased',
  );
  return true;
}

/** Flushes and stops the exporter: part of a graceful shutdown. */
export async function stopTracing(): Promise<void> {
  const started = sdk;
  sdk = undefined;
  tracer = undefined;
  await started?.shutdown();
}

/**
 * The W3C trace-context headers (`traceparent`, and `tracestate` when set) of `parent`, or of the
 * active context: what a produced Kafka record carries. Empty when tracing is off or no span is
 * active.
 */
export function kafkaTraceHeaders(parent: Context = context.active()): Record<string, string> {
  if (tracer === undefined) return {};
  const spanContext = trace.getSpanContext(parent);
  if (spanContext === undefined || !trace.isSpanContextValid(spanContext)) return {};
  // W3C trace context, written directly: between Skyhook's own services, whatever propagators
  // the process is configured with for HTTP. Unsampled records carry it too (flags 00), so
  // their consumers do not start traces of their own.
  const flags = (spanContext.traceFlags & 0xff).toString(16).padStart(2, '0');
  const headers: Record<string, string> = {
    traceparent: `00-${spanContext.traceId}-${spanContext.spanId}-${flags}`,
  };
  const state = spanContext.traceState?.serialize();
  if (state !== undefined && state !== '') headers['tracestate'] = state;
  return headers;
}

/** The trace id a `traceparent` header names (32 hex digits), or undefined when it is not one. */
export function traceIdOfTraceparent(traceparent: string | undefined): string | undefined {
  const match = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent ?? '');
  return match === null || match[1] === '0'.repeat(32) ? undefined : match[1];
}

/** A version-00 `traceparent` (trace id, parent span id, flags): what `kafkaTraceHeaders` writes. */
const TRACEPARENT_V00 = /^00-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})$/;
const w3cTraceContext = new W3CTraceContextPropagator();

/**
 * The context a record's W3C trace-context headers carry. Read as they are written: W3C, whatever
 * propagators the process has for HTTP. The common record (a version-00 `traceparent`, no
 * `tracestate`) is parsed here, a quarter of the propagator's cost, which every record pays,
 * sampled or not (bench/RESULTS.md, "OpenTelemetry"); anything else goes through the propagator.
 */
function recordParentContext(headers: Readonly<Record<string, string>>): Context {
  const traceparent = headers['traceparent'];
  if (traceparent === undefined) return ROOT_CONTEXT;
  const match = headers['tracestate'] === undefined ? TRACEPARENT_V00.exec(traceparent) : null;
  if (match === null) return w3cTraceContext.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
  return trace.setSpanContext(ROOT_CONTEXT, {
    traceId: match[1]!,
    spanId: match[2]!,
    traceFlags: Number.parseInt(match[3]!, 16),
    isRemote: true,
  });
}

/** A record's place, for its span's attributes. */
export interface TracedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * A span for the handling of one consumed record, child of the context its `traceparent` header
 * carries (so the trace goes on across the topic); undefined when tracing is off.
 */
export function startRecordSpan(record: TracedRecord): Span | undefined {
  if (tracer === undefined) return undefined;
  const parent = recordParentContext(record.headers);
  const parentSpanContext = trace.getSpanContext(parent);
  if (
    followsParentDecision &&
    parentSpanContext !== undefined &&
    trace.isSpanContextValid(parentSpanContext) &&
    (parentSpanContext.traceFlags & TraceFlags.SAMPLED) === 0
  ) {
    return trace.wrapSpanContext(parentSpanContext);
  }
  const span = tracer.startSpan(`${record.topic} process`, { kind: SpanKind.CONSUMER }, parent);
  // Attributes only on spans that are kept: the SDK checks every attribute it is given.
  if (span.isRecording()) {
    span.setAttributes({
      'messaging.system': 'kafka',
      'messaging.operation.type': 'process',
      'messaging.destination.name': record.topic,
      'messaging.destination.partition.id': String(record.partition),
      'messaging.kafka.offset': Number(record.offset),
    });
  }
  return span;
}

/** Ends a record's span, marking it failed when the handling threw. */
export function endRecordSpan(span: Span | undefined, error?: unknown): void {
  if (span === undefined) return;
  if (error !== undefined) {
    span.recordException(
      error instanceof Error ? error : new Error(typeof error === 'string' ? error : 'non-Error thrown'),
    );
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Runs `work` with `span` as the active span (so what it calls and produces is its child). */
export function withSpan<T>(span: Span | undefined, work: () => T): T {
  return span === undefined ? work() : context.with(trace.setSpan(context.active(), span), work);
}

/** The context of `span`, to hand to work that runs later (a batch's produced records). */
export function contextOfSpan(span: Span | undefined): Context | undefined {
  return span === undefined ? undefined : trace.setSpan(ROOT_CONTEXT, span);
}

/** What an outgoing request's span records once it is answered (or not). */
export interface OutgoingRequestEnd {
  readonly attributes: Attributes;
  /** A status or failure the caller counts as failed (not 2xx, a timeout, a refused address). */
  readonly failed: boolean;
}

/**
 * Runs an outgoing request (a webhook attempt) in a CLIENT span, child of the active span, when
 * tracing is on; `end` says what its result was. Nothing is injected into the request.
 */
export async function traceOutgoingRequest<T>(
  name: string,
  attributes: () => Attributes,
  work: () => Promise<T>,
  end: (result: T) => OutgoingRequestEnd,
): Promise<T> {
  if (tracer === undefined) return work();
  const parent = trace.getSpan(context.active());
  // The child of an unsampled span would not be kept either (parent-based sampling).
  if (followsParentDecision && parent !== undefined && !parent.isRecording()) return work();
  const span = tracer.startSpan(name, { kind: SpanKind.CLIENT });
  if (!span.isRecording()) {
    span.end();
    return work();
  }
  span.setAttributes(attributes());
  try {
    const result = await work();
    const ended = end(result);
    span.setAttributes(ended.attributes);
    if (ended.failed) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    return result;
  } catch (error) {
    endRecordSpan(span, error);
    throw error;
  }
}

/** The active span's trace id, when tracing is on and a span is active: what logs name. */
export function activeOtelTraceId(): string | undefined {
  if (sdk === undefined) return undefined;
  const spanContext = trace.getSpan(context.active())?.spanContext();
  return spanContext === undefined || !trace.isSpanContextValid(spanContext)
    ? undefined
    : spanContext.traceId;
}
