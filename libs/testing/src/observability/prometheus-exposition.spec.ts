import { parsePrometheusExposition } from './prometheus-exposition';

describe('Prometheus text exposition parser', () => {
  it('groups samples under their family, histogram series and escaped label values included', () => {
    const families = parsePrometheusExposition(
      [
        '# HELP requests_total Requests.',
        '# TYPE requests_total counter',
        'requests_total{outcome="success",service="api"} 3',
        'requests_total{outcome="say \\"hi\\"",service="api"} 1',
        '# HELP never_incremented_total Exported, never incremented.',
        '# TYPE never_incremented_total counter',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{le="0.1",service="api"} 2',
        'latency_seconds_bucket{le="+Inf",service="api"} 4',
        'latency_seconds_sum{service="api"} 0.75',
        'latency_seconds_count{service="api"} 4',
        '# TYPE in_flight gauge',
        'in_flight 0',
        '',
      ].join('\n'),
    );
    expect([...families.keys()]).toEqual([
      'requests_total',
      'never_incremented_total',
      'latency_seconds',
      'in_flight',
    ]);
    expect(families.get('requests_total')!.samples[1]).toEqual({
      name: 'requests_total',
      labels: { outcome: 'say "hi"', service: 'api' },
      value: 1,
    });
    expect(families.get('never_incremented_total')!.samples).toEqual([]);
    const histogram = families.get('latency_seconds')!;
    expect(histogram.type).toBe('histogram');
    expect(histogram.samples.map((s) => s.name)).toEqual([
      'latency_seconds_bucket',
      'latency_seconds_bucket',
      'latency_seconds_sum',
      'latency_seconds_count',
    ]);
    expect(histogram.samples[1]!.labels['le']).toBe('+Inf');
    expect(families.get('in_flight')!.samples[0]).toEqual({ name: 'in_flight', labels: {}, value: 0 });
  });

  it('refuses a sample without a # TYPE line', () => {
    expect(() => parsePrometheusExposition('orphan 1\n')).toThrow(/"orphan 1" has no # TYPE line/);
  });
});
