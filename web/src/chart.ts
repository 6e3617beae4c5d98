/** uPlot time-series chart of one key, sized to its container, with optional overlays (chart-overlays.ts). */
import type uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { overlayPlot, type ChartOverlays } from './chart-overlays.js';

export const RANGES = [
  ['1h', '1 hour', 3_600_000],
  ['6h', '6 hours', 6 * 3_600_000],
  ['24h', '24 hours', 86_400_000],
  ['7d', '7 days', 7 * 86_400_000],
  ['30d', '30 days', 30 * 86_400_000],
  ['1y', '1 year', 365 * 86_400_000],
] as const;

export const AGGREGATIONS = [
  ['auto', 'Automatic'],
  ['raw', 'Raw'],
  ['60000', '1 min averages'],
  ['3600000', '1 h averages'],
  ['86400000', '1 day averages'],
] as const;

/** Aggregated reads stay under this many buckets; raw reads take at most RAW_LIMIT points. */
const MAX_BUCKETS = 1500;
export const RAW_LIMIT = 10_000;

/**
 * The range a device page opens on: the shortest that holds all of the key's history, so a fresh
 * device shows its last hour of raw points (not one dot at the right edge of a day of averages)
 * and the view grows with the history, up to a year.
 */
export function fitRange(oldestTs: number | undefined, now = Date.now()): (typeof RANGES)[number] {
  const span = oldestTs === undefined ? 0 : now - oldestTs;
  return RANGES.find(([, , ms]) => span <= ms) ?? (RANGES[RANGES.length - 1] as (typeof RANGES)[number]);
}

/** "1,440 one-minute averages", "1 hourly average", "12 raw points": what a note under a chart says. */
export function describePoints(n: number, interval: number | undefined): string {
  const count = n.toLocaleString('en');
  if (!interval) return `${count} raw ${n === 1 ? 'point' : 'points'}`;
  const what = interval === 60_000 ? 'one-minute' : interval === 3_600_000 ? 'hourly' : interval === 86_400_000 ? 'daily' : `${Math.round(interval / 1000)} s`;
  return `${count} ${what} ${n === 1 ? 'average' : 'averages'}`;
}

/** Raw up to 6 h, then the finest bucket (1 min, 1 h, 1 day) that keeps the answer small: a year is 365 points. */
export function autoInterval(rangeMs: number): number | undefined {
  if (rangeMs <= 6 * 3_600_000) return undefined;
  for (const interval of [60_000, 3_600_000, 86_400_000]) if (rangeMs / interval <= MAX_BUCKETS) return interval;
  return 86_400_000;
}

/**
 * uPlot itself is a chunk of its own, fetched by the first chart made: the pages without a chart
 * (fleet, alarms, the admin pages) do not download and parse it, and a chart page fetches it
 * while its data is read (issue 20: the cold start of the dashboard).
 */
let uPlotLoading: Promise<typeof uPlot> | undefined;
function loadUPlot(): Promise<typeof uPlot> {
  uPlotLoading ??= import('uplot').then(
    (m) => m.default,
    (err: unknown) => {
      uPlotLoading = undefined; // a later chart tries again (e.g. back online)
      throw err;
    },
  );
  return uPlotLoading;
}

export class Chart {
  private plot: uPlot | undefined;
  /** Numbers set() calls: only the latest is drawn once uPlot is loaded. */
  private drawing = 0;
  /** The set() call the plot shows (appends go to this.data until it is drawn). */
  private drawn = 0;
  private destroyed = false;
  private readonly observer: ResizeObserver;
  private data: (number | null | undefined)[][] = [[], []];
  private from = 0;
  private to = 0;
  private marks: readonly { ts: number; value: number | null; title: string }[] = [];

  constructor(private readonly container: HTMLElement) {
    this.observer = new ResizeObserver(() => this.plot?.setSize(this.size()));
    this.observer.observe(container);
    void loadUPlot().catch(() => undefined); // set() reports a failure; here it is only started early
  }

  private size(): { width: number; height: number } {
    const width = Math.max(200, Math.floor(this.container.clientWidth));
    return { width, height: Math.round(Math.min(320, Math.max(180, width * 0.45))) };
  }

  /**
   * Points in ms, oldest first, drawn over [from, to] (ms) whatever they cover; overlays (a
   * forecast reaching past `to` widens the view to its end). Resolves once drawn (or superseded
   * by a later set, or destroyed); rejects when uPlot's chunk cannot be loaded.
   */
  async set(label: string, points: readonly { ts: number; value: number | null }[], from: number, to: number, overlays: ChartOverlays = {}): Promise<void> {
    const main: uPlot.Series = { label, stroke: '#0b57d0', width: 1.5, fill: 'rgba(11, 87, 208, 0.08)', spanGaps: false, points: { show: points.length < 200 } };
    const o = overlayPlot(label, points, overlays, main);
    this.from = from;
    this.to = Math.max(to, o.lastTs);
    this.data = o.data as (number | null | undefined)[][];
    this.marks = o.marks;
    const drawing = ++this.drawing;
    const UPlot = await loadUPlot();
    if (this.destroyed || drawing !== this.drawing) return;
    this.plot?.destroy();
    this.plot = new UPlot(
      {
        ...this.size(),
        scales: { x: { time: true, range: () => [this.from / 1000, this.to / 1000] } },
        cursor: { drag: { x: true, y: false } },
        legend: { live: true },
        series: o.series,
        bands: o.bands,
        axes: [{ stroke: '#333' }, { stroke: '#333', size: 60 }],
        hooks: { draw: [(u) => this.drawMarks(u, UPlot.pxRatio)] },
      },
      this.data as uPlot.AlignedData,
      this.container,
    );
    this.drawn = drawing;
  }

  /**
   * Anomaly marks as elements over the plot (not canvas pixels): each has its tooltip (title) and
   * an accessible name, and is placed on the key's line at the alarm's time (at the bottom when
   * the key has no value there).
   */
  private drawMarks(u: uPlot, pxRatio: number): void {
    u.over.querySelectorAll('.anomaly-mark').forEach((e) => e.remove());
    // The plot area in CSS pixels (bbox is in canvas pixels).
    const width = u.bbox.width / pxRatio;
    const height = u.bbox.height / pxRatio;
    for (const m of this.marks) {
      const x = u.valToPos(m.ts / 1000, 'x');
      if (!(x >= 0 && x <= width)) continue;
      const y = m.value === null ? height - 6 : Math.min(height - 6, Math.max(6, u.valToPos(m.value, 'y')));
      const mark = document.createElement('span');
      mark.className = 'anomaly-mark';
      mark.title = m.title;
      mark.setAttribute('role', 'img');
      mark.setAttribute('aria-label', m.title);
      mark.style.left = `${x}px`;
      mark.style.top = `${y}px`;
      mark.dataset.ts = String(m.ts);
      u.over.appendChild(mark);
    }
  }

  /** Appends a live point (raw mode), keeping the window from `from`; overlay series get no value there. */
  append(ts: number, value: number, from: number): void {
    if (this.drawing === 0) return; // nothing set yet

    const xs = this.data[0] as number[];
    const x = ts / 1000;
    // Sorted insert: a forecast overlay already holds timestamps past now.
    let at = xs.length;
    while (at > 0 && (xs[at - 1] as number) > x) at--;
    if (at > 0 && xs[at - 1] === x) return;
    // Older than the key's newest point: dropped, as before overlays.
    const keyCol = this.data[1] ?? [];
    for (let i = at; i < keyCol.length; i++) if (keyCol[i] !== undefined) return;
    this.data.forEach((col, i) => col.splice(at, 0, i === 0 ? x : i === 1 ? value : undefined));
    this.from = from;
    this.to = Math.max(this.to, ts);
    while (xs.length > 0 && (xs[0] as number) < from / 1000) for (const col of this.data) col.shift();
    // Drawn later with this.data, appended points included, when a set() is still waiting for uPlot.
    if (this.drawn === this.drawing) this.plot?.setData(this.data as uPlot.AlignedData);
  }

  destroy(): void {
    this.destroyed = true;
    this.observer.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }
}
