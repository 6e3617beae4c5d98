/**
 * Sliding windows of numeric samples per telemetry key, ordered by message timestamp. A window
 * keeps what the rule's longest time span and largest message count need, nothing more, and is
 * plain data (two arrays) so rule state can be stored as JSON and survive a restart.
 */
import type { WindowAgg, WindowSpec } from '../expression/index.js';

export interface Samples {
  /** Ascending timestamps; `v[i]` was reported at `ts[i]`. */
  ts: number[];
  v: number[];
}

/** How much one key's window must retain. */
export interface Retention {
  readonly maxMs: number;
  readonly maxCount: number;
}

export function emptySamples(): Samples {
  return { ts: [], v: [] };
}

/** Inserts in timestamp order (appends in the usual case); a repeated timestamp replaces the value. */
export function addSample(s: Samples, ts: number, value: number): void {
  const n = s.ts.length;
  if (n === 0 || (s.ts[n - 1] as number) < ts) {
    s.ts.push(ts);
    s.v.push(value);
    return;
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((s.ts[mid] as number) < ts) lo = mid + 1;
    else hi = mid;
  }
  if (s.ts[lo] === ts) s.v[lo] = value;
  else {
    s.ts.splice(lo, 0, ts);
    s.v.splice(lo, 0, value);
  }
}

/** Drops samples that no window can reach any more: older than maxMs before the newest and beyond maxCount. */
export function prune(s: Samples, keep: Retention): void {
  const n = s.ts.length;
  if (n === 0) return;
  const newest = s.ts[n - 1] as number;
  let drop = 0;
  while (drop < n - keep.maxCount && (s.ts[drop] as number) <= newest - keep.maxMs) drop++;
  if (drop > 0) {
    s.ts.splice(0, drop);
    s.v.splice(0, drop);
  }
}

/** Index range [from, to) of the samples a window sees at time `at`: (at - ms, at] or the last n up to at. */
function range(s: Samples, spec: WindowSpec, at: number): [number, number] {
  let to = s.ts.length;
  while (to > 0 && (s.ts[to - 1] as number) > at) to--;
  if (spec.kind === 'count') return [Math.max(0, to - spec.n), to];
  let from = to;
  while (from > 0 && (s.ts[from - 1] as number) > at - spec.ms) from--;
  return [from, to];
}

/** The aggregate over the window at time `at`; null when the window is empty (rate: fewer than 2 samples). */
export function aggregate(s: Samples, agg: WindowAgg, spec: WindowSpec, at: number): number | null {
  const [from, to] = range(s, spec, at);
  const n = to - from;
  if (agg === 'count') return n;
  if (n === 0) return null;
  if (agg === 'rate') {
    if (n < 2) return null;
    const minutes = ((s.ts[to - 1] as number) - (s.ts[from] as number)) / 60_000;
    return minutes > 0 ? ((s.v[to - 1] as number) - (s.v[from] as number)) / minutes : null;
  }
  let acc = agg === 'min' ? Infinity : agg === 'max' ? -Infinity : 0;
  for (let i = from; i < to; i++) {
    const x = s.v[i] as number;
    if (agg === 'min') acc = x < acc ? x : acc;
    else if (agg === 'max') acc = x > acc ? x : acc;
    else acc += x;
  }
  return agg === 'avg' ? acc / n : acc;
}
