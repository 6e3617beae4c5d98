/** uPlot time-series chart of one key, sized to its container. */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

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

export class Chart {
  private plot: uPlot | undefined;
  private readonly observer: ResizeObserver;
  private data: [number[], (number | null)[]] = [[], []];
  private from = 0;
  private to = 0;

  constructor(private readonly container: HTMLElement) {
    this.observer = new ResizeObserver(() => this.plot?.setSize(this.size()));
    this.observer.observe(container);
  }

  private size(): { width: number; height: number } {
    const width = Math.max(200, Math.floor(this.container.clientWidth));
    return { width, height: Math.round(Math.min(320, Math.max(180, width * 0.45))) };
  }

  /** Points in ms, oldest first, drawn over [from, to] (ms) whatever they cover. */
  set(label: string, points: readonly { ts: number; value: number | null }[], from: number, to: number): void {
    this.from = from;
    this.to = to;
    this.data = [points.map((p) => p.ts / 1000), points.map((p) => p.value)];
    this.plot?.destroy();
    this.plot = new uPlot(
      {
        ...this.size(),
        scales: { x: { time: true, range: () => [this.from / 1000, this.to / 1000] } },
        cursor: { drag: { x: true, y: false } },
        legend: { live: true },
        series: [{}, { label, stroke: '#0b57d0', width: 1.5, fill: 'rgba(11, 87, 208, 0.08)', spanGaps: false, points: { show: points.length < 200 } }],
        axes: [{ stroke: '#333' }, { stroke: '#333', size: 60 }],
      },
      this.data,
      this.container,
    );
  }

  /** Appends a live point (raw mode), keeping the window from `from`. */
  append(ts: number, value: number, from: number): void {
    if (!this.plot) return;
    const [xs, ys] = this.data;
    const last = xs[xs.length - 1];
    if (last !== undefined && ts / 1000 < last) return;
    xs.push(ts / 1000);
    ys.push(value);
    this.from = from;
    this.to = Math.max(this.to, ts);
    while (xs.length > 0 && (xs[0] as number) < from / 1000) {
      xs.shift();
      ys.shift();
    }
    this.plot.setData(this.data);
  }

  destroy(): void {
    this.observer.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
  }
}
