import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceRoot } from '@skyhook/local-infrastructure';
import {
  formatClock,
  formatLegend,
  formatValue,
  type GrafanaDashboard,
  niceTicks,
  panelSpecs,
  substituteVariables,
} from './dashboard-panels';

const VALUES = { rateInterval: '30s', interval: '4s', range: '600s' };

describe('substituteVariables', () => {
  it('replaces the built-in variables in every syntax Grafana accepts', () => {
    expect(substituteVariables('rate(x[$__rate_interval]) + rate(y[${__interval}])', VALUES)).toBe(
      'rate(x[30s]) + rate(y[4s])',
    );
    expect(substituteVariables('increase(x[[[__range]]])', VALUES)).toBe('increase(x[600s])');
  });

  it('leaves PromQL without variables alone, and refuses variables it has no value for', () => {
    expect(substituteVariables('up{job="skyhook"}', VALUES)).toBe('up{job="skyhook"}');
    expect(() => substituteVariables('x{instance="$instance"}', VALUES)).toThrow('$instance');
  });
});

describe('panelSpecs', () => {
  it('turns panels into concrete range queries, in reading order, with unit and bounds', () => {
    const dashboard: GrafanaDashboard = {
      title: 't',
      panels: [
        {
          id: 2,
          type: 'timeseries',
          title: 'right',
          gridPos: { h: 8, w: 12, x: 12, y: 1 },
          fieldConfig: { defaults: { unit: 'percentunit', min: 0, max: 1 } },
          targets: [
            { refId: 'A', expr: 'sum(rate(a[$__rate_interval]))', legendFormat: '{{outcome}}' },
            { refId: 'B', expr: '' },
          ],
        },
        {
          id: 1,
          type: 'row',
          title: 'section',
          gridPos: { h: 1, w: 24, x: 0, y: 0 },
          panels: [
            {
              id: 3,
              type: 'stat',
              title: 'left',
              gridPos: { h: 8, w: 12, x: 0, y: 1 },
              targets: [{ expr: 'up' }],
            },
          ],
        },
      ],
    };
    const specs = panelSpecs(dashboard, VALUES);
    expect(specs.map((spec) => spec.title)).toEqual(['section', 'left', 'right']);
    expect(specs[2]).toMatchObject({
      unit: 'percentunit',
      min: 0,
      max: 1,
      queries: [{ refId: 'A', expr: 'sum(rate(a[30s]))', legendFormat: '{{outcome}}' }],
    });
    expect(specs[1]).toMatchObject({
      type: 'stat',
      unit: 'short',
      queries: [{ refId: 'A', expr: 'up', legendFormat: '' }],
    });
  });

  it('leaves no Grafana variable in any query of the overview dashboard', () => {
    const file = join(workspaceRoot(), 'deploy', 'grafana', 'dashboards', 'skyhook-overview.json');
    const dashboard = JSON.parse(readFileSync(file, 'utf8')) as GrafanaDashboard;
    const specs = panelSpecs(dashboard, VALUES);
    const queries = specs.flatMap((spec) => spec.queries);
    expect(queries.length).toBeGreaterThan(20);
    expect(queries.filter((query) => query.expr.includes('$'))).toEqual([]);
    expect(specs.filter((spec) => spec.type !== 'row' && spec.queries.length === 0)).toEqual([]);
  });
});

describe('formatLegend', () => {
  it('fills {{label}} templates, blanking missing labels', () => {
    expect(formatLegend('{{outcome}} → {{result}}', { outcome: 'success', result: 'delivered' })).toBe(
      'success → delivered',
    );
    expect(formatLegend('p95 {{outcome}}', {})).toBe('p95');
  });

  it('shows the series selector when there is no template', () => {
    expect(formatLegend('', { __name__: 'up', instance: 'a:1' })).toBe('up{instance="a:1"}');
    expect(formatLegend('', {})).toBe('value');
  });
});

describe('formatValue', () => {
  it.each([
    [0.987, 'percentunit', '99%'],
    [0.05, 'percentunit', '5%'],
    [0.0042, 's', '4.2 ms'],
    [2.5, 's', '2.5 s'],
    [0, 's', '0 s'],
    [90, 's', '1.5 min'],
    [52_428_800, 'bytes', '50 MiB'],
    [1536, 'bytes', '1.5 KiB'],
    [12.345, 'ops', '12.3 ops/s'],
    [2500, 'ops', '2.5k ops/s'],
    [3, 'short', '3'],
    [1_200_000, 'short', '1.2M'],
    [Number.NaN, 'short', 'NaN'],
  ])('%p in %s is %s', (value, unit, expected) => {
    expect(formatValue(value, unit)).toBe(expected);
  });
});

describe('niceTicks', () => {
  it('covers the range with round steps', () => {
    expect(niceTicks(0, 9.3, 4)).toEqual([0, 5, 10]);
    expect(niceTicks(0, 1, 4)).toEqual([0, 0.5, 1]);
    expect(niceTicks(0.2, 0.87, 5)).toEqual([0.2, 0.4, 0.6, 0.8, 1]);
  });

  it('uses powers of 1024 for bytes', () => {
    const ticks = niceTicks(0, 300 * 1024 * 1024, 4, 'bytes');
    expect(ticks[1]! % (1024 * 1024)).toBe(0);
    expect(ticks[ticks.length - 1]).toBeGreaterThanOrEqual(300 * 1024 * 1024);
  });

  it('gives a flat or empty series a span of its own', () => {
    expect(niceTicks(0, 0, 4)).toEqual([0, 0.5, 1]);
    expect(niceTicks(4, 4, 4)).toEqual([2, 3, 4, 5, 6]);
    expect(niceTicks(Number.NaN, Number.NaN, 4).length).toBeGreaterThanOrEqual(2);
  });
});

describe('formatClock', () => {
  it('shows UTC hours and minutes', () => {
    expect(formatClock(Date.UTC(2026, 0, 2, 13, 5, 59) / 1000)).toBe('13:05');
  });
});
