import { type PanelSpec } from './dashboard-panels';
import { dashboardSvg, escapeXml, lastValue } from './dashboard-svg';

function panel(overrides: Partial<PanelSpec>): PanelSpec {
  return {
    id: 1,
    type: 'timeseries',
    title: 'Delivery attempts',
    gridPos: { h: 8, w: 12, x: 0, y: 0 },
    unit: 'ops',
    min: undefined,
    max: undefined,
    queries: [],
    ...overrides,
  };
}

describe('dashboardSvg', () => {
  it('draws a time series with its title, axes, a line per series and a legend', () => {
    const svg = dashboardSvg({
      title: 'Skyhook <overview>',
      subtitle: 'test',
      start: 0,
      end: 600,
      panels: [
        {
          panel: panel({}),
          series: [
            {
              name: 'success → delivered',
              points: [
                [0, 1],
                [300, 2],
                [600, null],
              ],
            },
            {
              name: 'http-error → failed',
              points: [
                [0, 0.5],
                [300, null],
                [600, 0.7],
              ],
            },
          ],
        },
      ],
    });
    expect(svg).toContain('width="1600"');
    expect(svg).toContain('Skyhook &#60;overview&#62;');
    expect(svg).toContain('Delivery attempts');
    expect(svg).toContain('ops/s');
    expect(svg).toContain('success → delivered');
    // One polyline for the first series; the second is broken by its gap into two single points.
    expect(svg.match(/<polyline/g)).toHaveLength(1);
    expect(svg.match(/<circle/g)).toHaveLength(2);
  });

  it('shows a stat panel as its last values, and says so when a panel has no data', () => {
    const svg = dashboardSvg({
      title: 't',
      subtitle: 's',
      start: 0,
      end: 60,
      panels: [
        {
          panel: panel({ type: 'stat', title: 'Endpoints disabled now', unit: 'short' }),
          series: [
            {
              name: 'disabled',
              points: [
                [0, 0],
                [30, 1],
                [60, null],
              ],
            },
          ],
        },
        { panel: panel({ id: 2, title: 'Empty', gridPos: { h: 8, w: 12, x: 12, y: 0 } }), series: [] },
      ],
    });
    expect(svg).toMatch(/font-weight="bold" text-anchor="middle">1<\/text>/);
    expect(svg).toContain('No data');
  });
});

describe('lastValue', () => {
  it('is the last finite value', () => {
    expect(
      lastValue({
        name: 'x',
        points: [
          [0, 3],
          [1, null],
        ],
      }),
    ).toBe(3);
    expect(lastValue({ name: 'x', points: [[0, null]] })).toBeUndefined();
  });
});

describe('escapeXml', () => {
  it('escapes markup characters', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&#60;b&#62;&#38;&#34;c&#39;');
  });
});
