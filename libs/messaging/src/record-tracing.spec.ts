import Module from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { deliveryRequestContract, MESSAGE_HEADERS } from '@skyhook/contracts';
import {
  currentTraceId,
  kafkaTraceHeaders,
  startTracing,
  stopTracing,
  traceIdOfTraceparent,
} from '@skyhook/observability';
import { deliveryRequest } from '@skyhook/testing';
import { type ConsumedRecord } from './consumed-records';
import { encodeForKafka } from './contract-producer';
import { handleInTrace, traceBatch } from './record-tracing';

const SAMPLED_PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const UNSAMPLED_PARENT = '00-5bf92f3577b34da6a3ce929d0e0e4736-10f067aa0ba902b7-00';

function consumed(traceparent: string | undefined, offset = '7'): ConsumedRecord {
  return {
    topicKey: 'deliveryRequests',
    partition: 3,
    offset,
    key: null,
    value: deliveryRequest(1),
    timestamp: 0,
    headers: traceparent === undefined ? {} : { traceparent },
    traceId: traceIdOfTraceparent(traceparent) ?? 'own-trace-id',
  };
}

describe('traces across Kafka records (OpenTelemetry on)', () => {
  const exporter = new InMemorySpanExporter();
  const processor = new SimpleSpanProcessor({ exporter });
  /** The spans ended so far: a simple processor exports once the resource's detectors answered. */
  const finishedSpans = async () => {
    await processor.forceFlush();
    return exporter.getFinishedSpans();
  };

  const requireBeforeTracing = Module.prototype.require;

  beforeAll(() => {
    expect(
      startTracing('test', {
        environment: { OTEL_TRACES_EXPORTER: 'otlp', OTEL_TRACES_SAMPLER: 'parentbased_always_on' },
        spanProcessors: [processor],
      }),
    ).toBe(true);
  });

  afterAll(async () => {
    await stopTracing();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  beforeEach(() => exporter.reset());

  it('hooks no require when no instrumentation is asked for (kafkajs requires on every request)', () => {
    expect(Module.prototype.require).toBe(requireBeforeTracing);
  });

  it('handles a record in a span that continues its traceparent, and produces records that continue that span', async () => {
    const record = consumed(SAMPLED_PARENT);
    const produced = await handleInTrace(record, () => {
      // Logs name the W3C trace: the same id as the record's traceparent.
      expect(currentTraceId()).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      return Promise.resolve(encodeForKafka(deliveryRequestContract, [deliveryRequest(2)], true));
    });
    const [span] = await finishedSpans();
    expect(span?.name).toBe('skyhook.deliveries.requests.v1 process');
    expect(span?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(span?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(span?.attributes).toMatchObject({
      'messaging.kafka.offset': 7,
      'messaging.destination.partition.id': '3',
    });
    const headers = produced[0]?.headers as Record<string, string>;
    expect(headers['traceparent']).toBe(
      `00-4bf92f3577b34da6a3ce929d0e0e4736-${span?.spanContext().spanId}-01`,
    );
    // The W3C header replaces Skyhook's own trace-id header.
    expect(headers[MESSAGE_HEADERS.traceId]).toBeUndefined();
  });

  it('makes no span for the child of an unsampled record, and carries its context on unsampled', async () => {
    const produced = await handleInTrace(consumed(UNSAMPLED_PARENT), () =>
      Promise.resolve(encodeForKafka(deliveryRequestContract, [deliveryRequest(2)], true)),
    );
    expect(await finishedSpans()).toEqual([]);
    expect((produced[0]?.headers as Record<string, string>)['traceparent']).toBe(UNSAMPLED_PARENT);
  });

  it('keeps a record’s tracestate and reads a later traceparent version as the W3C propagator does', async () => {
    const withState = {
      ...consumed(SAMPLED_PARENT),
      headers: { traceparent: SAMPLED_PARENT, tracestate: 'vendor=abc' },
    };
    const produced = await handleInTrace(withState, () =>
      Promise.resolve(encodeForKafka(deliveryRequestContract, [deliveryRequest(2)], true)),
    );
    expect((produced[0]?.headers as Record<string, string>)['tracestate']).toBe('vendor=abc');
    // A future version may append fields; its first four are read as version 00's.
    await handleInTrace(
      {
        ...consumed(undefined),
        headers: { traceparent: `cc-${SAMPLED_PARENT.slice(3)}-what-the-future-has` },
      },
      () => Promise.resolve(),
    );
    const spans = await finishedSpans();
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(span.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    }
  });

  it('starts a trace of its own for a record whose traceparent is malformed or names no trace', async () => {
    for (const traceparent of [
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01',
      `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`,
      'garbage',
    ]) {
      await handleInTrace({ ...consumed(undefined), headers: { traceparent } }, () => Promise.resolve());
    }
    const spans = await finishedSpans();
    expect(spans).toHaveLength(4);
    for (const span of spans) expect(span.parentSpanContext).toBeUndefined();
  });

  it('marks a span failed when the handling throws, and rethrows', async () => {
    await expect(
      handleInTrace(consumed(SAMPLED_PARENT), () => Promise.reject(new Error('broker gone'))),
    ).rejects.toThrow('broker gone');
    expect((await finishedSpans())[0]?.status.code).toBe(2);
  });

  it('gives each record of a batch its own span, open for the call, and its context for what is produced on its behalf', async () => {
    const batch = traceBatch([consumed(SAMPLED_PARENT, '1'), consumed(undefined, '2')]);
    expect(await finishedSpans()).toEqual([]);
    const headers = batch.records.map((record) => kafkaTraceHeaders(record.traceContext)['traceparent']);
    batch.finish();
    const spans = await finishedSpans();
    expect(spans).toHaveLength(2);
    expect(headers[0]).toBe(`00-4bf92f3577b34da6a3ce929d0e0e4736-${spans[0]?.spanContext().spanId}-01`);
    // A record without a traceparent starts a trace of its own.
    expect(traceIdOfTraceparent(headers[1])).toBe(spans[1]?.spanContext().traceId);
    expect(spans[1]?.parentSpanContext).toBeUndefined();
  });
});

describe('traceIdOfTraceparent', () => {
  it('reads the trace id of a W3C traceparent and nothing else', () => {
    expect(traceIdOfTraceparent(SAMPLED_PARENT)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    for (const bad of [
      undefined,
      '',
      'not-a-traceparent',
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      'ab-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
    ]) {
      expect(traceIdOfTraceparent(bad)).toBeUndefined();
    }
  });
});
