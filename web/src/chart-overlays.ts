/**
 * What a device chart draws over a key's history: its forecast with the 95 % interval as a band,
 * the seasonal baseline (expected ± 2σ, the band deviation() measures against) and anomaly marks
 * (alarms of detector rules on the key). Turned into one uPlot data table: every series on the
 * union of all timestamps, `undefined` where a series has no point (uPlot draws across it) and
 * `null` where the key itself has a gap (uPlot breaks the line there, as without overlays).
 */
import type uPlot from 'uplot';

export interface BandPoint {
  readonly ts: number;
  readonly value: number;
  readonly lower: number;
  readonly upper: number;
}

export interface AnomalyMark {
  readonly ts: number;
  /** The tooltip: detector, score, rule. */
  readonly title: string;
}

export interface ChartOverlays {
  readonly forecast?: readonly BandPoint[];
  readonly baseline?: readonly BandPoint[];
  readonly marks?: readonly AnomalyMark[];
}

type Column = (number | null | undefined)[];

export interface OverlayPlot {
  readonly data: uPlot.AlignedData;
  readonly series: uPlot.Series[];
  readonly bands: uPlot.Band[];
  /** The marks with the key's value at (or just before) each, for placing them on the line. */
  readonly marks: readonly { ts: number; value: number | null; title: string }[];
  /** The latest timestamp drawn (ms): a forecast reaches past now. */
  readonly lastTs: number;
}

const FORECAST = '#b3261e';
const BASELINE = '#1e7d32';

/** The key's value at or before ts (null before its first point or in a gap). */
function valueAt(points: readonly { ts: number; value: number | null }[], ts: number): number | null {
  let lo = 0;
  let hi = points.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if ((points[mid] as { ts: number }).ts <= ts) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? null : (points[found] as { value: number | null }).value;
}

export function overlayPlot(label: string, main: readonly { ts: number; value: number | null }[], overlays: ChartOverlays, mainSeries: uPlot.Series): OverlayPlot {
  const tsSet = new Set<number>(main.map((p) => p.ts));
  const forecast = overlays.forecast ?? [];
  const baseline = overlays.baseline ?? [];
  for (const p of forecast) tsSet.add(p.ts);
  for (const p of baseline) tsSet.add(p.ts);
  const marks = (overlays.marks ?? []).map((m) => ({ ...m, value: valueAt(main, m.ts) }));
  for (const m of marks) tsSet.add(m.ts);
  const xs = [...tsSet].sort((a, b) => a - b);
  const index = new Map(xs.map((ts, i) => [ts, i]));
  const column = (): Column => new Array<number | null | undefined>(xs.length).fill(undefined);
  const key = column();
  for (const p of main) key[index.get(p.ts) as number] = p.value;
  const series: uPlot.Series[] = [{}, { ...mainSeries, label }];
  const columns: Column[] = [key];
  const bands: uPlot.Band[] = [];
  const addBand = (points: readonly BandPoint[], name: string, color: string, fill: string): void => {
    if (points.length === 0) return;
    const [v, lo, up] = [column(), column(), column()];
    for (const p of points) {
      const i = index.get(p.ts) as number;
      v[i] = p.value;
      lo[i] = p.lower;
      up[i] = p.upper;
    }
    const at = columns.length + 1;
    columns.push(v, lo, up);
    series.push(
      { label: name, stroke: color, width: 1.5, dash: [6, 4], spanGaps: true, points: { show: false } },
      { label: `${name} (low)`, stroke: 'transparent', width: 0, spanGaps: true, points: { show: false } },
      { label: `${name} (high)`, stroke: 'transparent', width: 0, spanGaps: true, points: { show: false } },
    );
    bands.push({ series: [at + 2, at + 1], fill });
  };
  addBand(forecast, 'forecast', FORECAST, 'rgba(179, 38, 30, 0.12)');
  addBand(baseline, 'expected ± 2σ', BASELINE, 'rgba(30, 125, 50, 0.10)');
  if (marks.length > 0) {
    // Points only (no line): the legend names them; chart.ts puts a mark with its tooltip on each.
    const col = column();
    for (const m of marks) col[index.get(m.ts) as number] = m.value;
    columns.push(col);
    series.push({ label: `anomalies (${marks.length})`, stroke: '#b3261e', paths: () => null, points: { show: true, size: 8, fill: '#b3261e' } });
  }
  const last = xs[xs.length - 1];
  return { data: [xs.map((t) => t / 1000), ...columns] as uPlot.AlignedData, series, bands, marks, lastTs: last ?? 0 };
}

/** Hour of the week of ts as the platform's baseline counts it: 0 = Monday 00:00 UTC (1970-01-01 was a Thursday). */
export function hourOfWeek(ts: number): number {
  const h = Math.floor(ts / 3_600_000) + 72;
  return ((h % 168) + 168) % 168;
}

/** The baseline as hourly band points over [from, to]: expected ± 2σ at each hour whose slot has a mean. */
export function baselineBand(b: { expected: readonly (number | null)[]; sigma: number }, from: number, to: number): BandPoint[] {
  const out: BandPoint[] = [];
  const hour = 3_600_000;
  const first = Math.ceil(from / hour) * hour;
  // Bounded: a year of hours at most, whatever range is asked.
  for (let ts = first; ts <= to && out.length < 9000; ts += hour) {
    const m = b.expected[hourOfWeek(ts)];
    if (typeof m !== 'number' || !Number.isFinite(m)) continue;
    out.push({ ts, value: m, lower: m - 2 * b.sigma, upper: m + 2 * b.sigma });
  }
  return out;
}
