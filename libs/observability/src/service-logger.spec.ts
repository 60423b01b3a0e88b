import { Writable } from 'node:stream';
import { createServiceLogger } from './service-logger';
import { runWithTraceId, traceIdFrom } from './trace-context';

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, logger: createServiceLogger({ service: 'api', level: 'info', destination }) };
}

describe('service logger', () => {
  it('writes one JSON object per line with service, level and the current trace id', () => {
    const { lines, logger } = capturingLogger();
    runWithTraceId('trace-42', () => logger.info('hello'));
    expect(lines[0]).toMatchObject({ service: 'api', level: 'info', traceId: 'trace-42', msg: 'hello' });
  });

  it('redacts secrets wherever a careless call puts them', () => {
    const { lines, logger } = capturingLogger();
    logger.info({ secret: 'whsec_x', subscription: { signingSecret: 'whsec_y' } }, 'created');
    const line = JSON.stringify(lines[0]);
    expect(line).not.toContain('whsec_');
  });
});

describe('traceIdFrom', () => {
  it('keeps a well-formed caller id', () => {
    expect(traceIdFrom('req-123')).toBe('req-123');
  });

  it('replaces ids that could forge log lines', () => {
    expect(traceIdFrom('x\n{"level":"fatal"}')).toMatch(/^[0-9a-f-]{36}$/);
    expect(traceIdFrom(42)).toMatch(/^[0-9a-f-]{36}$/);
  });
});
