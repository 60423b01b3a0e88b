import { escapeXml } from '../dashboard/dashboard-svg';
import { type ExportedSpan } from '../otlp-receiver';

const WIDTH = 1400;
const LABEL_WIDTH = 520;
const ROW_HEIGHT = 24;
const TOP = 84;
const SERVICE_COLOURS: Record<string, string> = {
  'skyhook-api': '#2563eb',
  'skyhook-fanout': '#7c3aed',
  'skyhook-dispatcher': '#ea580c',
  'skyhook-history': '#059669',
};

/** A span's one-line description: its name, and what says most about it. */
function describe(span: ExportedSpan): string {
  const attributes = span.attributes;
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
  const status = text(attributes['http.response.status_code']);
  const attempt = text(attributes['skyhook.attempt.number']);
  const details = [
    status === undefined ? undefined : `→ ${status}`,
    attempt === undefined ? undefined : `attempt ${attempt}`,
    text(attributes['url.path']),
    text(attributes['db.query.summary']),
  ].filter((detail) => detail !== undefined);
  return [span.name, ...details].join('  ');
}

/**
 * One trace as a waterfall, the way a tracing UI shows it: a row per span in tree order (children
 * under their parent, by start time), indented by depth, with a bar over the trace's time line
 * coloured by service, and its duration.
 */
export function traceWaterfallSvg(spans: readonly ExportedSpan[], title: string, subtitle: string): string {
  const children = new Map<string, ExportedSpan[]>();
  const ids = new Set(spans.map((span) => span.spanId));
  const roots: ExportedSpan[] = [];
  for (const span of [...spans].sort((a, b) =>
    a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0,
  )) {
    if (span.parentSpanId === '' || !ids.has(span.parentSpanId)) roots.push(span);
    else children.set(span.parentSpanId, [...(children.get(span.parentSpanId) ?? []), span]);
  }
  const rows: { span: ExportedSpan; depth: number }[] = [];
  const visit = (span: ExportedSpan, depth: number): void => {
    rows.push({ span, depth });
    for (const child of children.get(span.spanId) ?? []) visit(child, depth + 1);
  };
  for (const root of roots) visit(root, 0);
  const start = spans.reduce(
    (least, span) => (span.startNs < least ? span.startNs : least),
    spans[0]?.startNs ?? 0n,
  );
  const end = spans.reduce((most, span) => (span.endNs > most ? span.endNs : most), start + 1n);
  const totalMs = Number(end - start) / 1e6;
  const barWidth = WIDTH - LABEL_WIDTH - 110;
  const xOf = (ns: bigint): number => LABEL_WIDTH + (Number(ns - start) / Number(end - start)) * barWidth;
  const height = TOP + rows.length * ROW_HEIGHT + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" font-family="DejaVu Sans" font-size="12">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="16" y="28" font-size="18" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="16" y="50" fill="#475569">${escapeXml(subtitle)}</text>`,
  ];
  for (const [step, fraction] of [0, 0.25, 0.5, 0.75, 1].entries()) {
    const x = LABEL_WIDTH + fraction * barWidth;
    parts.push(
      `<line x1="${x.toFixed(1)}" y1="${TOP - 12}" x2="${x.toFixed(1)}" y2="${height - 30}" stroke="#e2e8f0"/>`,
    );
    parts.push(
      `<text x="${x.toFixed(1)}" y="${TOP - 16}" fill="#64748b" text-anchor="${step === 4 ? 'end' : 'middle'}">${(fraction * totalMs).toFixed(0)} ms</text>`,
    );
  }
  let legendX = 16;
  for (const [service, colour] of Object.entries(SERVICE_COLOURS)) {
    parts.push(`<rect x="${legendX}" y="${height - 24}" width="12" height="12" fill="${colour}"/>`);
    parts.push(`<text x="${legendX + 18}" y="${height - 14}">${escapeXml(service)}</text>`);
    legendX += 170;
  }
  for (const [index, { span, depth }] of rows.entries()) {
    const y = TOP + index * ROW_HEIGHT;
    if (index % 2 === 0)
      parts.push(`<rect x="0" y="${y - 4}" width="${WIDTH}" height="${ROW_HEIGHT}" fill="#f8fafc"/>`);
    const colour = SERVICE_COLOURS[span.service] ?? '#94a3b8';
    const label = describe(span);
    parts.push(
      `<text x="${16 + depth * 14}" y="${y + 12}"><tspan fill="${colour}" font-weight="bold">${escapeXml(span.service.replace('skyhook-', ''))}</tspan> ${escapeXml(label.length > 60 ? `${label.slice(0, 59)}…` : label)}</text>`,
    );
    const x1 = xOf(span.startNs);
    const x2 = Math.max(xOf(span.endNs), x1 + 2);
    const failed =
      span.attributes['http.response.status_code'] !== undefined &&
      Number(span.attributes['http.response.status_code']) >= 400;
    parts.push(
      `<rect x="${x1.toFixed(1)}" y="${y}" width="${(x2 - x1).toFixed(1)}" height="14" rx="2" fill="${colour}"${failed ? ' stroke="#dc2626" stroke-width="2"' : ''}/>`,
    );
    parts.push(
      `<text x="${(x2 + 6).toFixed(1)}" y="${y + 12}" fill="#334155">${(Number(span.endNs - span.startNs) / 1e6).toFixed(1)} ms</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}
