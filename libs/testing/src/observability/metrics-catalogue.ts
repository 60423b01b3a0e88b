import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceRoot } from '@skyhook/local-infrastructure';

export type CataloguedMetricType = 'counter' | 'gauge' | 'histogram';

export interface CataloguedLabel {
  readonly name: string;
  /** The closed set of values, when the catalogue lists one. */
  readonly values: readonly string[] | undefined;
}

export interface CataloguedMetric {
  readonly name: string;
  readonly type: CataloguedMetricType;
  readonly labels: readonly CataloguedLabel[];
  readonly meaning: string;
}

/** One `##` section of the catalogue: a service's table, or the table every service shares. */
export interface CatalogueSection {
  readonly heading: string;
  readonly metrics: readonly CataloguedMetric[];
}

const HEADER = ['metric', 'type', 'labels', 'meaning'];
const TYPES: readonly string[] = ['counter', 'gauge', 'histogram'];
const HISTOGRAM_SERIES_SUFFIXES = ['_bucket', '_sum', '_count'] as const;

export class MetricsCatalogueError extends Error {
  constructor(line: number, message: string) {
    super(`metrics catalogue, line ${line}: ${message}`);
    this.name = 'MetricsCatalogueError';
  }
}

function cellsOf(row: string): string[] {
  // Cells may hold `|` only inside code spans, which the catalogue does not use.
  return row
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim());
}

function codeSpan(text: string): string | undefined {
  return /^`([^`]+)`$/.exec(text.trim())?.[1];
}

/** `—` (none), or `name` / `name`: v1, v2 entries separated by `;`. */
function parseLabels(cell: string, line: number): CataloguedLabel[] {
  if (cell === '—' || cell === '-' || cell === '') return [];
  return cell.split(';').map((entry) => {
    const match = /^\s*`([a-zA-Z_][a-zA-Z0-9_]*)`\s*(?::\s*(.+))?$/.exec(entry);
    if (match === null)
      throw new MetricsCatalogueError(line, `cannot read the label entry "${entry.trim()}"`);
    const values = match[2]?.split(',').map((value) => value.trim());
    if (values?.some((value) => value === '')) {
      throw new MetricsCatalogueError(line, `empty value in the label entry "${entry.trim()}"`);
    }
    return { name: match[1]!, values };
  });
}

/**
 * Reads the tables of `docs/metrics.md`: every `##` section whose table has the columns
 * metric | type | labels | meaning. Strict on purpose: a row the parser cannot read fails
 * the tests that check the services against the document.
 */
export function parseMetricsCatalogue(markdown: string): CatalogueSection[] {
  const sections: { heading: string; metrics: CataloguedMetric[] }[] = [];
  let current: { heading: string; metrics: CataloguedMetric[] } | undefined;
  let inTable = false;
  const seen = new Set<string>();
  markdown.split('\n').forEach((text, index) => {
    const line = index + 1;
    const heading = /^##\s+(.+?)\s*$/.exec(text);
    if (heading !== null) {
      current = { heading: heading[1]!, metrics: [] };
      sections.push(current);
      inTable = false;
      return;
    }
    if (!text.trim().startsWith('|')) {
      inTable = false;
      return;
    }
    const cells = cellsOf(text);
    if (!inTable) {
      if (cells.map((cell) => cell.toLowerCase()).join('|') !== HEADER.join('|')) {
        throw new MetricsCatalogueError(line, `a table must have the columns ${HEADER.join(' | ')}`);
      }
      if (current === undefined) throw new MetricsCatalogueError(line, 'a table before any ## section');
      inTable = true;
      return;
    }
    if (cells.every((cell) => /^:?-+:?$/.test(cell))) return;
    if (cells.length !== HEADER.length) {
      throw new MetricsCatalogueError(line, `expected ${HEADER.length} cells, found ${cells.length}`);
    }
    const [metricCell, typeCell, labelsCell, meaning] = cells as [string, string, string, string];
    const name = codeSpan(metricCell);
    if (name === undefined || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) {
      throw new MetricsCatalogueError(
        line,
        `the metric cell "${metricCell}" is not one metric name in backticks`,
      );
    }
    if (!TYPES.includes(typeCell)) {
      throw new MetricsCatalogueError(line, `unknown type "${typeCell}" (${TYPES.join(', ')})`);
    }
    if (seen.has(name)) throw new MetricsCatalogueError(line, `${name} is catalogued twice`);
    seen.add(name);
    if (meaning === '') throw new MetricsCatalogueError(line, `${name} has no meaning`);
    current!.metrics.push({
      name,
      type: typeCell as CataloguedMetricType,
      labels: parseLabels(labelsCell, line),
      meaning,
    });
  });
  return sections.filter((section) => section.metrics.length > 0);
}

export const METRICS_CATALOGUE_PATH = join('docs', 'metrics.md');

export function loadMetricsCatalogue(): CatalogueSection[] {
  return parseMetricsCatalogue(readFileSync(join(workspaceRoot(), METRICS_CATALOGUE_PATH), 'utf8'));
}

/**
 * The catalogued metric a series name belongs to: itself, or for a histogram its `_bucket`,
 * `_sum` or `_count` series.
 */
export function catalogueEntryForSeries(
  catalogue: readonly CatalogueSection[],
  seriesName: string,
): CataloguedMetric | undefined {
  const metrics = catalogue.flatMap((section) => section.metrics);
  const exact = metrics.find((metric) => metric.name === seriesName);
  if (exact !== undefined) return exact;
  for (const suffix of HISTOGRAM_SERIES_SUFFIXES) {
    if (!seriesName.endsWith(suffix)) continue;
    const base = seriesName.slice(0, -suffix.length);
    const histogram = metrics.find((metric) => metric.name === base && metric.type === 'histogram');
    if (histogram !== undefined) return histogram;
  }
  return undefined;
}

const PROMQL_KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects. Not a full PromQL parser: it removes strings,
 * label matchers, range and subquery brackets, grouping clauses and Grafana variables, then
 * takes the identifiers that are not function calls or keywords. Enough for the expressions of
 * our dashboards and rules, and it errs towards reporting more names, never fewer.
 */
export function metricNamesInPromQL(expression: string): string[] {
  const stripped = expression
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, ' ')
    .replace(/\boffset\s+\S+/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\()?)/g)) {
    const token = match[0];
    if (match[1] !== undefined) continue; // a function or aggregation call
    if (PROMQL_KEYWORDS.has(token.toLowerCase())) continue;
    const before = stripped[match.index - 1];
    if (before !== undefined && /[0-9.]/.test(before)) continue; // 5m, 1e3, …
    names.add(token);
  }
  return [...names];
}
