import {
  catalogueEntryForSeries,
  loadMetricsCatalogue,
  metricNamesInPromQL,
  MetricsCatalogueError,
  parseMetricsCatalogue,
} from './metrics-catalogue';

const sample = [
  '# Metrics',
  '',
  'Intro text with a | pipe outside any table.',
  '',
  '## Shared by every service',
  '',
  '| metric | type | labels | meaning |',
  '| --- | --- | --- | --- |',
  '| `skyhook_kafka_consumer_lag` | gauge | `group`; `topic` | Lag. |',
  '| `nodejs_gc_duration_seconds` | histogram | `kind`: major, minor | GC pauses. |',
  '',
  '## dispatcher',
  '',
  '| metric | type | labels | meaning |',
  '| :-- | :-- | :-- | :-- |',
  '| `skyhook_dispatcher_attempts_total` | counter | `outcome`: success, timeout; `result`: delivered, failed | Attempts. |',
  '| `skyhook_dispatcher_in_flight_requests` | gauge | — | In flight. |',
  '',
  '## Notes',
  '',
  'No table here.',
].join('\n');

describe('metrics catalogue parser', () => {
  it('reads one section per ## heading with a table, label names and their closed value sets', () => {
    const sections = parseMetricsCatalogue(sample);
    expect(sections.map((section) => section.heading)).toEqual(['Shared by every service', 'dispatcher']);
    expect(sections[0]!.metrics[0]).toEqual({
      name: 'skyhook_kafka_consumer_lag',
      type: 'gauge',
      labels: [
        { name: 'group', values: undefined },
        { name: 'topic', values: undefined },
      ],
      meaning: 'Lag.',
    });
    expect(sections[1]!.metrics[0]!.labels).toEqual([
      { name: 'outcome', values: ['success', 'timeout'] },
      { name: 'result', values: ['delivered', 'failed'] },
    ]);
    expect(sections[1]!.metrics[1]!.labels).toEqual([]);
  });

  it('refuses a row it cannot read, naming the line', () => {
    const unknownType = sample.replace('| gauge | — |', '| summary | — |');
    expect(() => parseMetricsCatalogue(unknownType)).toThrow(
      new MetricsCatalogueError(17, 'unknown type "summary" (counter, gauge, histogram)'),
    );
    const bareName = sample.replace('`skyhook_dispatcher_in_flight_requests`', 'in_flight');
    expect(() => parseMetricsCatalogue(bareName)).toThrow(/line 17: the metric cell "in_flight"/);
    const badLabel = sample.replace('`group`; `topic`', 'group, topic');
    expect(() => parseMetricsCatalogue(badLabel)).toThrow(
      /line 9: cannot read the label entry "group, topic"/,
    );
    const twice = sample.replace('skyhook_dispatcher_in_flight_requests', 'skyhook_kafka_consumer_lag');
    expect(() => parseMetricsCatalogue(twice)).toThrow(/skyhook_kafka_consumer_lag is catalogued twice/);
    const otherColumns = sample.replace('| metric | type | labels | meaning |', '| name | kind |');
    expect(() => parseMetricsCatalogue(otherColumns)).toThrow(/line 7: a table must have the columns/);
  });

  it('maps histogram series to their histogram, and nothing else', () => {
    const sections = parseMetricsCatalogue(sample);
    expect(catalogueEntryForSeries(sections, 'nodejs_gc_duration_seconds_bucket')?.name).toBe(
      'nodejs_gc_duration_seconds',
    );
    expect(catalogueEntryForSeries(sections, 'skyhook_dispatcher_attempts_total')?.type).toBe('counter');
    expect(catalogueEntryForSeries(sections, 'skyhook_kafka_consumer_lag_count')).toBeUndefined();
    expect(catalogueEntryForSeries(sections, 'skyhook_dispatcher_attempts')).toBeUndefined();
  });

  it('reads the real catalogue: the four services and the shared table', () => {
    const headings = loadMetricsCatalogue().map((section) => section.heading);
    expect(headings).toEqual(['Shared by every service', 'api', 'fanout', 'dispatcher', 'history']);
  });
});

describe('metric names in a PromQL expression', () => {
  it.each([
    ['up{job="skyhook"} == 0', ['up']],
    [
      'histogram_quantile(0.95, sum by (le) (rate(skyhook_dispatcher_attempt_duration_seconds_bucket{outcome="success"}[5m])))',
      ['skyhook_dispatcher_attempt_duration_seconds_bucket'],
    ],
    [
      'sum(rate(a_total{outcome="success"}[$__rate_interval])) / clamp_min(sum(rate(a_total[5m])), 1e-9) < 0.95',
      ['a_total'],
    ],
    ['max without (instance) (lag) offset 1h and on (group) other_gauge > bool 10', ['lag', 'other_gauge']],
    ['absent(up{job="skyhook", service="api"})', ['up']],
    ['deriv(skyhook_kafka_consumer_lag[10m:1m]) * 60', ['skyhook_kafka_consumer_lag']],
  ])('%s', (expression, names) => {
    expect(metricNamesInPromQL(expression).sort()).toEqual([...names].sort());
  });
});
