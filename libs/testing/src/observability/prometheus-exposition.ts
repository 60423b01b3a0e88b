export interface ExposedSample {
  /** The series name as exposed, e.g. `x_bucket` for a histogram `x`. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface ExposedMetricFamily {
  readonly name: string;
  readonly type: string;
  readonly samples: readonly ExposedSample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/g;

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

function familyOf(families: Map<string, ExposedMetricFamily & { samples: ExposedSample[] }>, sample: string) {
  const direct = families.get(sample);
  if (direct !== undefined) return direct;
  for (const suffix of ['_bucket', '_sum', '_count', '_total', '_created']) {
    if (!sample.endsWith(suffix)) continue;
    const family = families.get(sample.slice(0, -suffix.length));
    if (family !== undefined) return family;
  }
  return undefined;
}

/**
 * Parses the Prometheus text exposition format (what `/metrics` serves) into metric families,
 * keyed by the name of their `# TYPE` line. A family with no samples (a labelled counter never
 * incremented) is still a family: the metric is exported.
 */
export function parsePrometheusExposition(text: string): Map<string, ExposedMetricFamily> {
  const families = new Map<string, ExposedMetricFamily & { samples: ExposedSample[] }>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) {
      families.set(type[1]!, { name: type[1]!, type: type[2]!, samples: [] });
      continue;
    }
    if (line.startsWith('#')) continue;
    const sample = SAMPLE.exec(line);
    if (sample === null) throw new Error(`cannot parse the exposition line "${line}"`);
    const labels: Record<string, string> = {};
    for (const label of (sample[2] ?? '').matchAll(LABEL)) {
      labels[label[1]!] = label[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    const family = familyOf(families, sample[1]!);
    if (family === undefined) throw new Error(`the sample "${line}" has no # TYPE line before it`);
    family.samples.push({ name: sample[1]!, labels, value: parseValue(sample[3]!) });
  }
  return families;
}
