/**
 * Streaming detectors for the rule expression language: ewma, zscore, rzscore, surprise,
 * cusum, pagehinkley, slope and timeTo. Each keeps a fixed-length array of numbers per (rule, device,
 * call) — constant size whatever the history, plain JSON, persisted with the rule state — and
 * updates it in O(1) per sample. They run on the hot ingest path, so a step is a few arithmetic
 * operations (and at most one short-lived [score, baseline] pair).
 *
 * Every detector answers null until it has seen its minimum history (the baseline is still being
 * learned), so no rule can fire on the first few samples of a new device. Scores are computed
 * against the baseline *before* the sample is added: an outlier does not dilute its own score.
 *
 * Layout of a state array: [n, lastTs, ready, score, baseline, …detector-specific].
 */

export type DetectorKind = 'ewma' | 'zscore' | 'rzscore' | 'surprise' | 'cusum' | 'pagehinkley' | 'slope' | 'timeTo';
export const DETECTOR_KINDS: readonly DetectorKind[] = ['ewma', 'zscore', 'rzscore', 'surprise', 'cusum', 'pagehinkley', 'slope', 'timeTo'];

/** One detector call of an expression, checked at compile time. */
export interface DetectorUse {
  readonly fn: DetectorKind;
  readonly key: string;
  /** Numeric parameters in call order, defaults filled in (ewma: [alpha]; zscore: [window]; cusum: [k, h]; …). */
  readonly params: readonly number[];
  /** Identity of the state: the same call written twice shares one state. */
  readonly slot: string;
  /** Samples seen before the detector answers anything but null. */
  readonly minHistory: number;
}

/** A detector's whole memory; numbers only, so it serializes as a JSON array. */
export type DetectorState = number[];

/** What an operator sees in an alarm: the score, the baseline it was measured against and the threshold. */
export interface DetectorReading {
  readonly score: number;
  readonly baseline: number;
  readonly threshold?: number;
}

const N = 0;
const LAST_TS = 1;
const READY = 2;
const SCORE = 3;
const BASELINE = 4;
const X = 5; // first detector-specific slot

export const DEFAULT_WINDOW = 100;
/** CUSUM and Page–Hinkley learn their reference (mean, σ) from this many samples. */
export const DRIFT_WARMUP = 30;
export const MIN_HISTORY_FLOOR = 10;
/** CUSUM's warm-up clips outliers once this many samples give a first spread. */
const WARMUP_CLIP_AFTER = 4;
export const MIN_HISTORY_CAP = 1000;
/** A z-score against a zero spread would be infinite, which JSON cannot carry: capped. */
export const Z_CAP = 1e6;
/** sqrt(pi/2): a mean absolute deviation times this estimates σ for normal data. */
const MEAN_AD_TO_SIGMA = 1.2533141373155001;
/** Deviations beyond this many (robust) scales are clipped before they update location and scale. */
const HUBER_CLIP = 3;
/** The robust σ is at least this fraction of the plain EW standard deviation. */
const ROBUST_FLOOR = 0.5;

/** surprise: |z| is clipped here (a 20σ and a 1000σ sample are both "very unusual")… */
const SURPRISE_Z_CLIP = 20;
/** …averaged over about this many samples… */
const SURPRISE_SHORT = 10;
/** …and compared with how that average has been distributed over about this many. */
const SURPRISE_LONG = 8000;

const STATE_LENGTH: Record<DetectorKind, number> = { ewma: X + 1, zscore: X + 2, rzscore: X + 3, surprise: X + 5, cusum: X + 5, pagehinkley: X + 5, slope: X + 5, timeTo: X + 5 };

/** EW smoothing factor equivalent to an N-sample moving window (same centre of mass). */
export const alphaOf = (window: number): number => 2 / (window + 1);

export function minHistoryOf(fn: DetectorKind, params: readonly number[]): number {
  const clamp = (n: number): number => Math.max(MIN_HISTORY_FLOOR, Math.min(MIN_HISTORY_CAP, Math.round(n)));
  switch (fn) {
    case 'ewma':
      return clamp(2 / (params[0] as number) - 1);
    case 'cusum':
    case 'pagehinkley':
      return DRIFT_WARMUP;
    case 'timeTo':
      return clamp(params[1] as number);
    default:
      return clamp(params[0] as number);
  }
}

export function isDetectorKind(name: string): name is DetectorKind {
  return Object.hasOwn(STATE_LENGTH, name);
}

export function detectorStateLength(fn: DetectorKind): number {
  return STATE_LENGTH[fn];
}

export function initialDetectorState(fn: DetectorKind): DetectorState {
  return new Array<number>(STATE_LENGTH[fn]).fill(0);
}

/** A stored state is usable only with the right length and finite numbers (anything else starts over). */
export function isDetectorState(fn: DetectorKind, s: unknown): s is DetectorState {
  return Array.isArray(s) && s.length === STATE_LENGTH[fn] && s.every((v) => typeof v === 'number' && Number.isFinite(v));
}

function finiteOr0(x: number): number {
  return Number.isFinite(x) ? x : 0;
}

/** A spread this small next to the values is floating-point noise, not variation. */
function negligible(spread: number, level: number, x: number): boolean {
  return !(spread > 1e-12 * Math.max(Math.abs(level), Math.abs(x), Number.MIN_VALUE));
}

function zOf(d: number, sd: number, level: number, x: number): number {
  if (negligible(sd, level, x)) return d === 0 ? 0 : Math.sign(d) * Z_CAP;
  return Math.max(-Z_CAP, Math.min(Z_CAP, d / sd));
}

/**
 * Feeds one sample. Samples at or before the last one seen are ignored (a redelivered or late
 * message must not count twice, and O(1) state cannot be re-ordered). Returns whether the state changed.
 */
export function stepDetector(use: DetectorUse, s: DetectorState, ts: number, x: number): boolean {
  if (!Number.isFinite(x) || !Number.isFinite(ts)) return false;
  const n = s[N] as number;
  if (n > 0 && ts <= (s[LAST_TS] as number)) return false;
  const p = use.params;
  let score = 0;
  let baseline = 0;
  switch (use.fn) {
    case 'ewma': {
      const prev = n === 0 ? x : (s[X] as number);
      const mean = prev + (p[0] as number) * (x - prev);
      s[X] = mean;
      score = mean;
      baseline = prev;
      break;
    }
    case 'zscore': {
      // West's exponentially weighted mean and variance.
      const a = alphaOf(p[0] as number);
      const mean = n === 0 ? x : (s[X] as number);
      const v = s[X + 1] as number;
      const d = x - mean;
      score = zOf(d, Math.sqrt(v), mean, x);
      baseline = mean;
      s[X] = mean + a * d;
      s[X + 1] = (1 - a) * (v + a * d * d);
      break;
    }
    case 'rzscore': {
      // Huber-clipped EW location and scale: a streaming stand-in for median and MAD that an
      // outlier moves by at most HUBER_CLIP scales, in constant memory.
      // On quantized or long-flat data the robust scale collapses towards 0 and then recovers
      // only a clip at a time; it is floored at a fraction of the plain EW deviation (slot X + 2)
      // so one step of a counter does not score infinity.
      const a = alphaOf(p[0] as number);
      const loc = n === 0 ? x : (s[X] as number);
      const mad = s[X + 1] as number;
      const v = s[X + 2] as number;
      const sigma = Math.max(mad * MEAN_AD_TO_SIGMA, ROBUST_FLOOR * Math.sqrt(v));
      const d = x - loc;
      const clip = sigma > 0 ? HUBER_CLIP * sigma : Infinity;
      const dc = Math.max(-clip, Math.min(clip, d));
      score = zOf(d, sigma, loc, x);
      baseline = loc;
      s[X] = loc + a * dc;
      s[X + 1] = mad + a * (Math.abs(dc) - mad);
      s[X + 2] = (1 - a) * (v + a * d * d);
      break;
    }
    case 'surprise':
      [score, baseline] = surprise(use, s, n, x);
      break;
    case 'cusum':
    case 'pagehinkley':
      [score, baseline] = drift(use, s, n, x);
      break;
    case 'slope':
    case 'timeTo':
      [score, baseline] = trend(use, s, n, ts, x);
      break;
  }
  s[N] = n + 1;
  s[LAST_TS] = ts;
  // n samples came before this one: the baseline the score used is built on n samples.
  const ready = n >= use.minHistory && Number.isFinite(score);
  s[READY] = ready ? 1 : 0;
  s[SCORE] = ready ? score : 0;
  s[BASELINE] = finiteOr0(baseline);
  return true;
}

/**
 * Two stages, after Numenta's "anomaly likelihood": the |z-score| of each sample against an EW
 * mean and variance (as zscore), then how unusual the recent average of those |z| is against its
 * own long-run mean and spread. A noisy signal that always has some large z-scores scores low;
 * a change in behaviour scores high. Slots: mean, variance, short |z| average, its long mean and variance.
 */
function surprise(use: DetectorUse, s: DetectorState, n: number, x: number): [number, number] {
  const a = alphaOf(use.params[0] as number);
  const mean = n === 0 ? x : (s[X] as number);
  const v = s[X + 1] as number;
  const d = x - mean;
  const z = Math.min(Math.abs(zOf(d, Math.sqrt(v), mean, x)), SURPRISE_Z_CLIP);
  s[X] = mean + a * d;
  s[X + 1] = (1 - a) * (v + a * d * d);
  // The second stage starts once the first has a baseline: warm-up z-scores are meaningless.
  if (n < use.minHistory) return [NaN, mean];
  const short = (s[X + 2] as number) + alphaOf(SURPRISE_SHORT) * (z - (s[X + 2] as number));
  const lm = s[X + 3] as number;
  const lv = s[X + 4] as number;
  const dl = short - lm;
  const score = lv > 0 ? dl / Math.sqrt(lv) : 0;
  // A cumulative average until the long window has filled, then exponential: an EW variance
  // started at 0 with a small alpha would stay biased low for thousands of samples.
  const al = Math.max(alphaOf(SURPRISE_LONG), 1 / (n - use.minHistory + 1));
  s[X + 2] = short;
  s[X + 3] = lm + al * dl;
  s[X + 4] = (1 - al) * (lv + al * dl * dl);
  return [score, mean];
}

/**
 * CUSUM (standardized: k and h in σ of the warm-up) and Page–Hinkley (in the key's units), both
 * two-sided. Slots: mean, M2 (Welford, warm-up), upper sum, lower sum, Page–Hinkley extreme.
 */
function drift(use: DetectorUse, s: DetectorState, n: number, x: number): [number, number] {
  const k = use.params[0] as number;
  let mean = s[X] as number;
  if (use.fn === 'pagehinkley') {
    // Classic Page–Hinkley: cumulative deviations from the running mean, minus the tolerance delta.
    mean += (x - mean) / (n + 1);
    const up = (s[X + 2] as number) + x - mean - k;
    const down = (s[X + 3] as number) + x - mean + k;
    const minUp = Math.min(s[X + 1] as number, up);
    const maxDown = Math.max(s[X + 4] as number, down);
    s[X] = mean;
    s[X + 1] = n === 0 ? up : minUp;
    s[X + 2] = up;
    s[X + 3] = down;
    s[X + 4] = n === 0 ? down : maxDown;
    return [Math.max(up - (s[X + 1] as number), (s[X + 4] as number) - down), mean];
  }
  if (n < DRIFT_WARMUP) {
    // Learn the reference: Welford's mean and variance, with samples past 4σ of what is known so
    // far pulled in, so one spike while learning does not blind the detector for good.
    if (n >= WARMUP_CLIP_AFTER) {
      const sd = Math.sqrt((s[X + 1] as number) / (n - 1));
      if (sd > 0) x = Math.max(mean - 4 * sd, Math.min(mean + 4 * sd, x));
    }
    const d = x - mean;
    mean += d / (n + 1);
    s[X] = mean;
    s[X + 1] = (s[X + 1] as number) + d * (x - mean);
    return [0, mean];
  }
  const sd = Math.sqrt((s[X + 1] as number) / (DRIFT_WARMUP - 1));
  const z = zOf(x - mean, sd, mean, x);
  const up = Math.max(0, (s[X + 2] as number) + z - k);
  const down = Math.max(0, (s[X + 3] as number) - z - k);
  s[X + 2] = up;
  s[X + 3] = down;
  return [Math.max(up, down), mean];
}

/**
 * Exponentially weighted least squares of value on time (minutes since the first sample, so
 * no epoch-sized numbers are squared). Slots: t0, mean t, mean x, var t, cov(t, x).
 * slope: change per minute; timeTo: minutes until the fitted line reaches the threshold.
 */
function trend(use: DetectorUse, s: DetectorState, n: number, ts: number, x: number): [number, number] {
  const window = use.fn === 'slope' ? (use.params[0] as number) : (use.params[1] as number);
  const a = alphaOf(window);
  if (n === 0) s[X] = ts;
  const t = (ts - (s[X] as number)) / 60_000;
  const mt = n === 0 ? t : (s[X + 1] as number);
  const mx = n === 0 ? x : (s[X + 2] as number);
  const dt = t - mt;
  const dx = x - mx;
  const nmt = mt + a * dt;
  const nmx = mx + a * dx;
  const vt = (1 - a) * ((s[X + 3] as number) + a * dt * dt);
  const ctx = (1 - a) * ((s[X + 4] as number) + a * dt * dx);
  s[X + 1] = nmt;
  s[X + 2] = nmx;
  s[X + 3] = vt;
  s[X + 4] = ctx;
  if (!(vt > 0)) return [NaN, nmx];
  const slope = ctx / vt;
  const level = nmx + slope * (t - nmt);
  if (use.fn === 'slope') return [slope, level];
  const gap = (use.params[0] as number) - level;
  if (gap === 0) return [0, level];
  const minutes = gap / slope;
  // Moving away from the threshold (or flat): it is never reached on this trend.
  return [minutes >= 0 && Number.isFinite(minutes) ? minutes : NaN, level];
}

/** The value a call answers: null before the minimum history; cusum/pagehinkley: whether drift is detected. */
export function detectorValue(use: DetectorUse, s: DetectorState | undefined): number | boolean | null {
  if (!s || s[READY] !== 1) return null;
  const score = s[SCORE] as number;
  if (use.fn === 'cusum' || use.fn === 'pagehinkley') return score > (use.params[1] as number);
  return score;
}

/** Score and baseline of the latest sample (null before the minimum history). */
export function detectorReading(use: DetectorUse, s: DetectorState | undefined): DetectorReading | null {
  if (!s || s[READY] !== 1) return null;
  const threshold = use.fn === 'cusum' || use.fn === 'pagehinkley' ? (use.params[1] as number) : use.fn === 'timeTo' ? (use.params[0] as number) : undefined;
  return { score: s[SCORE] as number, baseline: s[BASELINE] as number, ...(threshold !== undefined ? { threshold } : {}) };
}

/** Timestamp of the latest sample the detector took (undefined before any). */
export function detectorLastTs(s: DetectorState | undefined): number | undefined {
  return s && (s[N] as number) > 0 ? (s[LAST_TS] as number) : undefined;
}
