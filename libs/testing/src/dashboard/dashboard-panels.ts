/**
 * The pure half of `npm run render:dashboard`: reads a Grafana dashboard (as provisioned from
 * deploy/grafana/dashboards) into the range queries its panels make, and formats what comes back
 * the way Grafana would (legend templates, units, axis ticks).
 */

export interface GrafanaTarget {
  refId?: string;
  expr?: string;
  legendFormat?: string;
}

export interface GrafanaPanel {
  id?: number;
  type?: string;
  title?: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  fieldConfig?: { defaults?: { unit?: string; min?: number; max?: number } };
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}

export interface GrafanaDashboard {
  title: string;
  panels: GrafanaPanel[];
}

export interface PanelQuery {
  readonly refId: string;
  /** The PromQL with every Grafana variable replaced by a concrete value. */
  readonly expr: string;
  readonly legendFormat: string;
}

export interface PanelSpec {
  readonly id: number;
  /** `row` (a section heading), `timeseries`, `stat`, `gauge`, … as in the dashboard. */
  readonly type: string;
  readonly title: string;
  readonly gridPos: { h: number; w: number; x: number; y: number };
  readonly unit: string;
  readonly min: number | undefined;
  readonly max: number | undefined;
  readonly queries: readonly PanelQuery[];
}

/** Concrete values for Grafana's built-in variables, as Prometheus durations (`30s`, `1h`). */
export interface VariableValues {
  readonly rateInterval: string;
  readonly interval: string;
  readonly range: string;
}

/** Replaces `$__rate_interval`, `$__interval`, `$__range` (also `${…}` and `[[…]]` forms). */
export function substituteVariables(expr: string, values: VariableValues): string {
  const byName: Record<string, string> = {
    __rate_interval: values.rateInterval,
    __interval: values.interval,
    __range: values.range,
  };
  return expr.replace(
    /\$\{(\w+)\}|\[\[(\w+)\]\]|\$(\w+)/g,
    (whole, braced?: string, bracketed?: string, bare?: string) => {
      const name = braced ?? bracketed ?? bare ?? '';
      const value = byName[name];
      if (value === undefined) throw new Error(`no value for the dashboard variable ${whole} in ${expr}`);
      return value;
    },
  );
}

/** Every panel (rows and their nested panels included), in reading order (top to bottom, left to right). */
export function panelSpecs(dashboard: GrafanaDashboard, values: VariableValues): PanelSpec[] {
  const flatten = (panels: readonly GrafanaPanel[]): GrafanaPanel[] =>
    panels.flatMap((panel) => [panel, ...flatten(panel.panels ?? [])]);
  return flatten(dashboard.panels)
    .map((panel) => {
      if (panel.gridPos === undefined) throw new Error(`panel ${panel.title ?? panel.id} has no gridPos`);
      const defaults = panel.fieldConfig?.defaults ?? {};
      return {
        id: panel.id ?? 0,
        type: panel.type ?? 'timeseries',
        title: panel.title ?? '',
        gridPos: panel.gridPos,
        unit: defaults.unit ?? 'short',
        min: defaults.min,
        max: defaults.max,
        queries: (panel.targets ?? [])
          .filter((target) => (target.expr ?? '').trim() !== '')
          .map((target, index) => ({
            refId: target.refId ?? String.fromCharCode(65 + index),
            expr: substituteVariables(target.expr!, values),
            legendFormat: target.legendFormat ?? '',
          })),
      };
    })
    .sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
}

/** Grafana's legend: `{{label}}` replaced by the series' label (empty when absent); no template shows the labels. */
export function formatLegend(legendFormat: string, labels: Readonly<Record<string, string>>): string {
  if (legendFormat.trim() === '' || legendFormat === '__auto') {
    const { __name__: name = '', ...rest } = labels;
    const pairs = Object.entries(rest).map(([key, value]) => `${key}="${value}"`);
    return pairs.length === 0 ? name || 'value' : `${name}{${pairs.join(', ')}}`;
  }
  return legendFormat
    .replace(/\{\{\s*(\w+)\s*\}\}/g, (_whole, label: string) => labels[label] ?? '')
    .replace(/\s+/g, ' ')
    .trim();
}

const SI_PREFIXES = ['', 'k', 'M', 'G', 'T'];
const BINARY_PREFIXES = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

function trimmed(value: number, decimals: number): string {
  return Number(value.toFixed(decimals)).toString();
}

function decimalsFor(value: number): number {
  const magnitude = Math.abs(value);
  if (magnitude === 0 || magnitude >= 100) return 0;
  if (magnitude >= 10) return 1;
  if (magnitude >= 1) return 2;
  return 3;
}

function scaled(value: number, base: number, prefixes: readonly string[]): [number, string] {
  let index = 0;
  let current = value;
  while (Math.abs(current) >= base && index < prefixes.length - 1) {
    current /= base;
    index += 1;
  }
  return [current, prefixes[index]!];
}

/** A value in one of the Grafana units the dashboards use (`ops`, `percentunit`, `s`, `bytes`, `short`). */
export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
  switch (unit) {
    case 'percentunit': {
      const percent = value * 100;
      return `${trimmed(percent, Math.abs(percent) >= 10 ? 0 : decimalsFor(percent))}%`;
    }
    case 's': {
      const magnitude = Math.abs(value);
      if (magnitude === 0) return '0 s';
      if (magnitude < 1e-3) return `${trimmed(value * 1e6, decimalsFor(value * 1e6))} µs`;
      if (magnitude < 1) return `${trimmed(value * 1e3, decimalsFor(value * 1e3))} ms`;
      if (magnitude < 60) return `${trimmed(value, decimalsFor(value))} s`;
      if (magnitude < 3600) return `${trimmed(value / 60, decimalsFor(value / 60))} min`;
      return `${trimmed(value / 3600, decimalsFor(value / 3600))} h`;
    }
    case 'bytes': {
      const [current, prefix] = scaled(value, 1024, BINARY_PREFIXES);
      return `${trimmed(current, decimalsFor(current))} ${prefix}`;
    }
    case 'ops': {
      const [current, prefix] = scaled(value, 1000, SI_PREFIXES);
      return `${trimmed(current, decimalsFor(current))}${prefix} ops/s`;
    }
    default: {
      const [current, prefix] = scaled(value, 1000, SI_PREFIXES);
      return `${trimmed(current, decimalsFor(current))}${prefix}`;
    }
  }
}

/**
 * Round axis ticks (1, 2 or 5 times a power of ten, or of 1024 for bytes) covering [min, max],
 * about `target` of them; a flat or empty range gets a sensible span around its value.
 */
export function niceTicks(min: number, max: number, target = 5, unit = 'short'): number[] {
  let low = Number.isFinite(min) ? min : 0;
  let high = Number.isFinite(max) ? max : 1;
  if (high < low) [low, high] = [high, low];
  if (high === low) {
    const pad = low === 0 ? 1 : Math.abs(low) * 0.5;
    low = low >= 0 && low - pad < 0 ? 0 : low - pad;
    high = high + pad;
  }
  const rough = (high - low) / Math.max(1, target);
  // Bytes step in whole KiB, MiB, GiB…: 1, 2 or 5 times a power of ten of the largest one that fits.
  const scale = unit === 'bytes' && rough >= 1024 ? 1024 ** Math.floor(Math.log(rough) / Math.log(1024)) : 1;
  const power = 10 ** Math.floor(Math.log10(rough / scale));
  const step = [1, 2, 5, 10].map((factor) => factor * power * scale).find((candidate) => candidate >= rough)!;
  const first = Math.floor(low / step + 1e-9);
  const last = Math.max(first + 1, Math.ceil(high / step - 1e-9));
  const ticks: number[] = [];
  for (let index = first; index <= last; index += 1) ticks.push(Number((index * step).toPrecision(12)));
  return ticks;
}

/** `HH:MM` in UTC (the dashboard's time zone), for the time axis. */
export function formatClock(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().slice(11, 16);
}
