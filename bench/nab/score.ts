/**
 * NAB's scoring (numenta/NAB v1.x, nab/sweeper.py and nab/runner.py), re-implemented from its
 * documented rules so the benchmark needs no Python: per file, the first
 * min(floor(15% of rows), 750) rows are probationary and not scored; a detection inside a
 * labelled window scores the scaled sigmoid of its relative position (earlier is better; only
 * the best detection of a window counts); a window without a detection costs fnWeight; each
 * detection outside windows costs fpWeight times the sigmoid of its distance past the preceding
 * window (−1 with no preceding window). The corpus score is normalized to 0 (null detector,
 * no detections) … 100 (perfect: every window detected at its left edge).
 * Validated against NAB's published results: see `--validate` in bench/nab.ts.
 */

export interface CostMatrix {
  readonly tpWeight: number;
  readonly fpWeight: number;
  readonly fnWeight: number;
}

/** config/profiles.json of NAB. */
export const PROFILES: Readonly<Record<'standard' | 'lowFP' | 'lowFN', CostMatrix>> = {
  standard: { tpWeight: 1, fpWeight: 0.11, fnWeight: 1 },
  lowFP: { tpWeight: 1, fpWeight: 0.22, fnWeight: 1 },
  lowFN: { tpWeight: 1, fpWeight: 0.11, fnWeight: 2 },
};
export type ProfileName = keyof typeof PROFILES;

/** One data file with its labelled windows, prepared once: the per-row sweep weights. */
export interface ScoredFile {
  readonly name: string;
  readonly rows: number;
  /** Unweighted score a detection at row i would earn (in-window: TP sigmoid; outside: FP sigmoid, negative). */
  readonly unweighted: Float64Array;
  /** Window index of row i, or -1 outside windows, or -2 probationary. */
  readonly window: Int32Array;
  /** Windows that have at least one scorable row (a miss of these costs fnWeight). */
  readonly scorableWindows: number;
  readonly windows: number;
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** NAB's scaledSigmoid: +0.987 at a window's left edge, 0 at its right edge, towards −1 past it. */
export function scaledSigmoid(relativePosition: number): number {
  return relativePosition > 3 ? -1 : 2 * sigmoid(-5 * relativePosition) - 1;
}

const MAX_TP = scaledSigmoid(-1);

export function probationaryLength(rows: number): number {
  return Math.min(Math.floor(0.15 * rows), 0.15 * 5000);
}

/** NAB's calcSweepScore for one file, kept as arrays. `timestamps` and window limits in ms. */
export function prepareFile(name: string, timestamps: readonly number[], windowLimits: readonly (readonly [number, number])[]): ScoredFile {
  const n = timestamps.length;
  const unweighted = new Float64Array(n);
  const window = new Int32Array(n);
  const indexOf = new Map<number, number>();
  timestamps.forEach((t, i) => {
    if (!indexOf.has(t)) indexOf.set(t, i);
  });
  const limits = [...windowLimits];
  const probation = probationaryLength(n);
  let cur: { id: number; right: number; width: number; end: number } | undefined;
  let prev: { right: number; width: number } | undefined;
  let nextId = 0;
  const scorable = new Set<number>();
  for (let i = 0; i < n; i++) {
    const t = timestamps[i] as number;
    const first = limits[0];
    if (first && t === first[0]) {
      limits.shift();
      const left = indexOf.get(first[0]) as number;
      const right = indexOf.get(first[1]);
      if (right === undefined) throw new Error(`${name}: window end ${new Date(first[1]).toISOString()} is not a row`);
      cur = { id: nextId++, right, width: right - left + 1, end: first[1] };
    }
    if (cur) {
      unweighted[i] = scaledSigmoid(-(cur.right - i + 1) / cur.width);
    } else if (prev) {
      unweighted[i] = scaledSigmoid(Math.abs(prev.right - i) / (prev.width - 1));
    } else unweighted[i] = -1;
    if (i < probation) window[i] = -2;
    else {
      window[i] = cur ? cur.id : -1;
      if (cur) scorable.add(cur.id);
    }
    if (cur && t === cur.end) {
      prev = { right: i, width: cur.width };
      cur = undefined;
    }
  }
  return { name, rows: n, unweighted, window, scorableWindows: scorable.size, windows: windowLimits.length };
}

export interface FileOutcome {
  readonly raw: number;
  readonly detectedWindows: number;
  readonly falsePositives: number;
}

/** The raw NAB score of one file for a set of detections (a detection: detected[i] = 1). */
export function scoreFile(file: ScoredFile, detected: Uint8Array, cost: CostMatrix): FileOutcome {
  let fp = 0;
  let falsePositives = 0;
  const best = new Float64Array(file.windows).fill(-Infinity);
  for (let i = 0; i < file.rows; i++) {
    if (detected[i] !== 1) continue;
    const w = file.window[i] as number;
    if (w === -2) continue;
    const u = file.unweighted[i] as number;
    if (w === -1) {
      fp += u * cost.fpWeight;
      falsePositives++;
    } else best[w] = Math.max(best[w] as number, (u * cost.tpWeight) / MAX_TP);
  }
  let raw = fp;
  let detectedWindows = 0;
  const seen = new Set<number>();
  for (let i = 0; i < file.rows; i++) {
    const w = file.window[i] as number;
    if (w < 0 || seen.has(w)) continue;
    seen.add(w);
    if (best[w] === -Infinity) raw -= cost.fnWeight;
    else {
      raw += best[w] as number;
      detectedWindows++;
    }
  }
  return { raw, detectedWindows, falsePositives };
}

/** 100 × (raw − null) / (perfect − null), as NAB's runner.normalize. */
export function normalize(files: readonly ScoredFile[], raw: number, cost: CostMatrix): number {
  const nullScore = -cost.fnWeight * files.reduce((n, f) => n + f.scorableWindows, 0);
  const perfect = cost.tpWeight * files.reduce((n, f) => n + f.windows, 0);
  return (100 * (raw - nullScore)) / (perfect - nullScore);
}

/** NAB timestamps ("2014-02-19 10:50:00" or with ".000000") read as UTC milliseconds. */
export function parseNabTime(text: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(text.trim());
  if (!m) throw new Error(`not a NAB timestamp: ${text}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
}
