import { formatClock, formatValue, niceTicks, type PanelSpec } from './dashboard-panels';

/** One series of a panel, as Prometheus' range API returned it; `null` where it had no value. */
export interface RenderedSeries {
  readonly name: string;
  readonly points: readonly (readonly [epochSeconds: number, value: number | null])[];
}

export interface PanelData {
  readonly panel: PanelSpec;
  readonly series: readonly RenderedSeries[];
}

export interface DashboardPicture {
  readonly title: string;
  readonly subtitle: string;
  readonly start: number;
  readonly end: number;
  readonly panels: readonly PanelData[];
}

const WIDTH = 1600;
const GRID_COLUMNS = 24;
const GRID_ROW_PX = 30;
const MARGIN = 10;
const HEADER_PX = 56;
const FONT = "'DejaVu Sans', 'Liberation Sans', Arial, sans-serif";
const BACKGROUND = '#111217';
const PANEL = '#181b1f';
const BORDER = '#2c3235';
const TEXT = '#ccccdc';
const MUTED = '#8e8e9e';
/** Grafana's classic palette, in order. */
export const SERIES_COLOURS = [
  '#73bf69',
  '#f2cc0c',
  '#8ab8ff',
  '#ff780a',
  '#f2495c',
  '#5794f2',
  '#b877d9',
  '#705da0',
  '#37872d',
  '#fade2a',
  '#447ebc',
  '#c15c17',
  '#890f02',
  '#0a437c',
  '#6d1f62',
  '#584477',
];

export function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}

/** The last non-null value of a series (what a stat panel shows), or undefined. */
export function lastValue(series: RenderedSeries): number | undefined {
  for (let index = series.points.length - 1; index >= 0; index -= 1) {
    const value = series.points[index]![1];
    if (value !== null && Number.isFinite(value)) return value;
  }
  return undefined;
}

function clip(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, Math.max(1, maxChars - 1))}…`;
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escapeXml(content)}</text>`;
}

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

function timeSeries(data: PanelData, box: Box, start: number, end: number): string {
  const { panel } = data;
  const parts: string[] = [];
  const values = data.series.flatMap((series) =>
    series.points
      .map(([, value]) => value)
      .filter((value): value is number => value !== null && Number.isFinite(value)),
  );
  const legendRows = Math.min(4, Math.ceil(data.series.length / 2));
  const legendHeight = data.series.length === 0 ? 0 : legendRows * 15 + 6;
  const plot = { x: box.x + 62, y: box.y + 32, w: box.w - 74, h: box.h - 32 - 22 - legendHeight };
  const dataMin = values.length === 0 ? 0 : Math.min(...values);
  const dataMax = values.length === 0 ? 1 : Math.max(...values);
  const ticks = niceTicks(panel.min ?? Math.min(0, dataMin), panel.max ?? dataMax, 4, panel.unit);
  const low = ticks[0]!;
  const high = ticks[ticks.length - 1]!;
  const xOf = (time: number): number => plot.x + ((time - start) / Math.max(1, end - start)) * plot.w;
  const yOf = (value: number): number => plot.y + plot.h - ((value - low) / (high - low || 1)) * plot.h;

  for (const tick of ticks) {
    const y = yOf(tick);
    parts.push(
      `<line x1="${plot.x}" x2="${plot.x + plot.w}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="${BORDER}" stroke-width="1"/>`,
    );
    parts.push(
      text(
        plot.x - 6,
        y + 4,
        formatValue(tick, panel.unit),
        `fill="${MUTED}" font-size="11" text-anchor="end"`,
      ),
    );
  }
  const span = end - start;
  const timeStep = [60, 120, 300, 600, 900, 1800, 3600].find((step) => span / step <= 6) ?? 7200;
  for (let time = Math.ceil(start / timeStep) * timeStep; time <= end; time += timeStep) {
    const x = xOf(time);
    parts.push(
      `<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${plot.y}" y2="${plot.y + plot.h}" stroke="${BORDER}" stroke-width="1" stroke-dasharray="2,3"/>`,
    );
    parts.push(
      text(x, plot.y + plot.h + 15, formatClock(time), `fill="${MUTED}" font-size="11" text-anchor="middle"`),
    );
  }

  data.series.forEach((series, index) => {
    const colour = SERIES_COLOURS[index % SERIES_COLOURS.length]!;
    const segments: string[][] = [[]];
    for (const [time, value] of series.points) {
      if (value === null || !Number.isFinite(value)) {
        if (segments[segments.length - 1]!.length > 0) segments.push([]);
        continue;
      }
      const clamped = Math.min(high, Math.max(low, value));
      segments[segments.length - 1]!.push(`${xOf(time).toFixed(1)},${yOf(clamped).toFixed(1)}`);
    }
    for (const segment of segments) {
      if (segment.length === 1) {
        const [x, y] = segment[0]!.split(',');
        parts.push(`<circle cx="${x}" cy="${y}" r="1.8" fill="${colour}"/>`);
      } else if (segment.length > 1) {
        parts.push(
          `<polyline points="${segment.join(' ')}" fill="none" stroke="${colour}" stroke-width="1.6" stroke-linejoin="round"/>`,
        );
      }
    }
  });

  if (data.series.length === 0) {
    parts.push(
      text(
        plot.x + plot.w / 2,
        plot.y + plot.h / 2,
        'No data',
        `fill="${MUTED}" font-size="14" text-anchor="middle"`,
      ),
    );
  }

  const columnWidth = (box.w - 24) / 2;
  const shown = data.series.slice(0, legendRows * 2 - (data.series.length > legendRows * 2 ? 1 : 0));
  shown.forEach((series, index) => {
    const column = index % 2;
    const row = Math.floor(index / 2);
    const x = box.x + 12 + column * columnWidth;
    const y = plot.y + plot.h + 34 + row * 15;
    const colour = SERIES_COLOURS[index % SERIES_COLOURS.length]!;
    parts.push(`<rect x="${x}" y="${y - 8}" width="12" height="3" fill="${colour}"/>`);
    parts.push(
      text(
        x + 17,
        y - 3,
        clip(series.name, Math.floor((columnWidth - 22) / 6.2)),
        `fill="${TEXT}" font-size="11"`,
      ),
    );
  });
  if (shown.length < data.series.length) {
    const index = shown.length;
    const x = box.x + 12 + (index % 2) * columnWidth;
    const y = plot.y + plot.h + 34 + Math.floor(index / 2) * 15;
    parts.push(
      text(
        x + 17,
        y - 3,
        `+ ${data.series.length - shown.length} more series`,
        `fill="${MUTED}" font-size="11"`,
      ),
    );
  }
  return parts.join('\n');
}

function stat(data: PanelData, box: Box): string {
  const { panel } = data;
  const parts: string[] = [];
  const shown = data.series
    .map((series) => ({ name: series.name, value: lastValue(series) }))
    .filter((entry): entry is { name: string; value: number } => entry.value !== undefined);
  if (shown.length === 0) {
    parts.push(
      text(
        box.x + box.w / 2,
        box.y + box.h / 2 + 10,
        'No data',
        `fill="${MUTED}" font-size="20" text-anchor="middle"`,
      ),
    );
    return parts.join('\n');
  }
  const columns = shown.length <= 2 ? shown.length : 2;
  const rows = Math.ceil(shown.length / columns);
  const cellWidth = (box.w - 20) / columns;
  const cellHeight = (box.h - 40) / rows;
  const fontSize = Math.max(18, Math.min(64, cellHeight * 0.5, (cellWidth / 5) * 1.4));
  shown.forEach((entry, index) => {
    const cx = box.x + 10 + (index % columns) * cellWidth + cellWidth / 2;
    const top = box.y + 34 + Math.floor(index / columns) * cellHeight;
    const colour = SERIES_COLOURS[index % SERIES_COLOURS.length]!;
    parts.push(
      text(
        cx,
        top + cellHeight * 0.35 + fontSize * 0.35,
        formatValue(entry.value, panel.unit),
        `fill="${colour}" font-size="${fontSize.toFixed(0)}" font-weight="bold" text-anchor="middle"`,
      ),
    );
    parts.push(
      text(
        cx,
        top + cellHeight * 0.35 + fontSize * 0.35 + 18,
        clip(entry.name, Math.floor(cellWidth / 6.5)),
        `fill="${MUTED}" font-size="11" text-anchor="middle"`,
      ),
    );
  });
  return parts.join('\n');
}

/** The whole dashboard as one SVG, laid out on Grafana's 24-column grid, `WIDTH` pixels wide. */
export function dashboardSvg(picture: DashboardPicture): string {
  const columnPx = (WIDTH - MARGIN) / GRID_COLUMNS;
  const bottom = Math.max(0, ...picture.panels.map(({ panel }) => panel.gridPos.y + panel.gridPos.h));
  const height = HEADER_PX + bottom * GRID_ROW_PX + MARGIN;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}">`,
    `<rect width="${WIDTH}" height="${height}" fill="${BACKGROUND}"/>`,
    text(MARGIN + 4, 26, picture.title, `fill="${TEXT}" font-size="20" font-weight="bold"`),
    text(MARGIN + 4, 45, picture.subtitle, `fill="${MUTED}" font-size="12"`),
  ];
  for (const data of picture.panels) {
    const { gridPos } = data.panel;
    const box = {
      x: MARGIN + gridPos.x * columnPx,
      y: HEADER_PX + gridPos.y * GRID_ROW_PX,
      w: gridPos.w * columnPx - MARGIN,
      h: gridPos.h * GRID_ROW_PX - MARGIN,
    };
    if (data.panel.type === 'row') {
      parts.push(
        text(box.x + 2, box.y + 20, data.panel.title, `fill="${TEXT}" font-size="15" font-weight="bold"`),
      );
      continue;
    }
    parts.push(
      `<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" rx="3" fill="${PANEL}" stroke="${BORDER}"/>`,
    );
    parts.push(
      text(
        box.x + 10,
        box.y + 19,
        clip(data.panel.title, Math.floor(box.w / 7.5)),
        `fill="${TEXT}" font-size="13" font-weight="bold"`,
      ),
    );
    parts.push(
      data.panel.type === 'stat' || data.panel.type === 'gauge'
        ? stat(data, box)
        : timeSeries(data, box, picture.start, picture.end),
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}
