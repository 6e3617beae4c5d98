/**
 * A short closed tour through n points given their distances: nearest neighbour from several
 * starting points, each improved by 2-opt (reverse a segment when that shortens the tour) and
 * Or-opt (move a run of 1–3 points elsewhere, either way round) until neither helps; the best
 * tour wins. Classical local search (Croes 1958; Or 1976): not optimal, typically a few per cent
 * above the optimum, and O(n²) per improving pass — meant for the tens to hundreds of stops of a
 * delivery round. bench/route-optimize.ts measures the gap on TSPLIB's berlin52.
 */

/** Distances as a flat n×n matrix (row-major), symmetric. */
export interface DistanceMatrix {
  readonly n: number;
  readonly d: Float64Array;
}

export function matrixOf(n: number, dist: (i: number, j: number) => number): DistanceMatrix {
  const d = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) d[i * n + j] = d[j * n + i] = dist(i, j);
  return { n, d };
}

export function tourLength(m: DistanceMatrix, tour: readonly number[]): number {
  let total = 0;
  for (let i = 0; i < tour.length; i++) total += m.d[(tour[i] as number) * m.n + (tour[(i + 1) % tour.length] as number)] as number;
  return total;
}

function nearestNeighbour(m: DistanceMatrix, start: number): number[] {
  const { n, d } = m;
  const used = new Uint8Array(n);
  const tour = [start];
  used[start] = 1;
  let at = start;
  for (let k = 1; k < n; k++) {
    let best = -1;
    let bestD = Infinity;
    for (let j = 0; j < n; j++) {
      if (used[j]) continue;
      const dj = d[at * n + j] as number;
      if (dj < bestD) {
        bestD = dj;
        best = j;
      }
    }
    used[best] = 1;
    tour.push(best);
    at = best;
  }
  return tour;
}

/** Improvements smaller than this are rounding noise: stopping on them keeps the search finite. */
const EPS = 1e-9;

/** One pass of first-improvement 2-opt; true when something changed. */
function twoOpt(m: DistanceMatrix, t: number[]): boolean {
  const { n, d } = m;
  const len = t.length;
  let improved = false;
  for (let i = 0; i < len - 1; i++) {
    const a = t[i] as number;
    const b = t[i + 1] as number;
    for (let j = i + 2; j < len; j++) {
      const c = t[j] as number;
      const e = t[(j + 1) % len] as number;
      if (e === a) continue;
      const delta = (d[a * n + c] as number) + (d[b * n + e] as number) - (d[a * n + b] as number) - (d[c * n + e] as number);
      if (delta < -EPS) {
        // Reverse t[i+1..j].
        for (let x = i + 1, y = j; x < y; x++, y--) [t[x], t[y]] = [t[y] as number, t[x] as number];
        improved = true;
        break;
      }
    }
  }
  return improved;
}

/** One pass of Or-opt: move a run of 1–3 points between two other neighbours, possibly reversed. */
function orOpt(m: DistanceMatrix, t: number[]): boolean {
  const { n, d } = m;
  const len = t.length;
  const dd = (x: number, y: number): number => d[x * n + y] as number;
  for (let seg = 1; seg <= 3; seg++) {
    if (len < seg + 3) break;
    for (let i = 0; i < len; i++) {
      // The run t[i..i+seg-1] (cyclic), between p and q.
      const first = t[i] as number;
      const last = t[(i + seg - 1) % len] as number;
      const p = t[(i - 1 + len) % len] as number;
      const q = t[(i + seg) % len] as number;
      const removeGain = dd(p, first) + dd(last, q) - dd(p, q);
      for (let k = 0; k < len - seg - 1; k++) {
        // Edge (u, v) among the rest of the tour, after q.
        const u = t[(i + seg + k) % len] as number;
        const v = t[(i + seg + k + 1) % len] as number;
        const forward = dd(u, first) + dd(last, v) - dd(u, v);
        const backward = dd(u, last) + dd(first, v) - dd(u, v);
        const add = Math.min(forward, backward);
        if (add - removeGain < -EPS) {
          const run: number[] = [];
          for (let s = 0; s < seg; s++) run.push(t[(i + s) % len] as number);
          if (backward < forward) run.reverse();
          const rest: number[] = [];
          for (let s = 0; s < len - seg; s++) rest.push(t[(i + seg + s) % len] as number);
          const at = rest.indexOf(u) + 1;
          const next = [...rest.slice(0, at), ...run, ...rest.slice(at)];
          for (let s = 0; s < len; s++) t[s] = next[s] as number;
          return true;
        }
      }
    }
  }
  return false;
}

function improve(m: DistanceMatrix, t: number[]): void {
  for (;;) {
    while (twoOpt(m, t));
    if (!orOpt(m, t)) return;
  }
}

/** How many nearest-neighbour starts to try: all for small n, fewer as n grows (each costs ~n² per pass). */
function startsFor(n: number): number {
  return Math.max(1, Math.min(n, Math.floor(40_000 / Math.max(1, n * 4))));
}

/** A short closed tour over all n points (a permutation of 0..n-1). */
export function shortTour(m: DistanceMatrix): number[] {
  const n = m.n;
  if (n <= 3) return Array.from({ length: n }, (_, i) => i);
  let best: number[] = [];
  let bestLen = Infinity;
  const starts = startsFor(n);
  for (let s = 0; s < starts; s++) {
    const t = nearestNeighbour(m, Math.floor((s * n) / starts));
    improve(m, t);
    const len = tourLength(m, t);
    if (len < bestLen - EPS) {
      bestLen = len;
      best = t;
    }
  }
  return best;
}
