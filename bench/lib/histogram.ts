/**
 * Latency histogram in microseconds, log-linear (32 sub-buckets per power of two, so a reported
 * percentile is within ~3% of the true value) in a fixed Uint32Array: recording is an index
 * computation and an increment, with no per-sample allocation, and a histogram crosses the IPC
 * boundary as a plain array of counts that the parent merges.
 */
const SUB_BITS = 5;
const SUB = 1 << SUB_BITS; // 32
const LINEAR = SUB * 2; // values below 64 µs get a bucket each
const MAX_EXP = 31;
export const BUCKETS = LINEAR + (MAX_EXP - SUB_BITS - 1) * SUB;

function bucketOf(us: number): number {
  const v = us < 0 ? 0 : us >= 0x7fffffff ? 0x7ffffffe : Math.floor(us);
  if (v < LINEAR) return v;
  const exp = 31 - Math.clz32(v); // ≥ 6
  const shift = exp - SUB_BITS;
  return LINEAR + (exp - SUB_BITS - 1) * SUB + ((v >>> shift) - SUB);
}

/** The upper bound (µs) of a bucket: percentiles are reported pessimistically. */
function upperOf(bucket: number): number {
  if (bucket < LINEAR) return bucket + 1;
  const k = bucket - LINEAR;
  const exp = Math.floor(k / SUB) + SUB_BITS + 1;
  const shift = exp - SUB_BITS;
  return ((k % SUB) + SUB + 1) * 2 ** shift;
}

export class Histogram {
  readonly counts: Uint32Array;
  total = 0;
  max = 0;

  constructor(counts?: readonly number[]) {
    this.counts = new Uint32Array(BUCKETS);
    if (counts) this.add(counts);
  }

  recordMs(ms: number): void {
    const us = ms * 1000;
    this.counts[bucketOf(us)]! += 1;
    this.total++;
    if (us > this.max) this.max = us;
  }

  /** Adds counts exported by another histogram (see toJSON). */
  add(counts: readonly number[] | Uint32Array, max = 0): void {
    for (let i = 0; i < BUCKETS; i++) {
      const c = counts[i] ?? 0;
      this.counts[i]! += c;
      this.total += c;
    }
    if (max > this.max) this.max = max;
  }

  merge(other: Histogram): void {
    this.add(other.counts, other.max);
  }

  /** Percentile in milliseconds (p in 0..100); NaN when empty. */
  percentileMs(p: number): number {
    if (this.total === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperOf(i), Math.max(this.max, 1)) / 1000;
    }
    return this.max / 1000;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.max = 0;
  }

  /** Sparse form for IPC: [[bucket, count], …] plus the max. */
  toJSON(): HistogramJson {
    const sparse: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) sparse.push([i, this.counts[i]!]);
    return { sparse, max: this.max };
  }

  static fromJSON(json: HistogramJson): Histogram {
    const h = new Histogram();
    for (const [i, c] of json.sparse) {
      h.counts[i]! += c;
      h.total += c;
    }
    h.max = json.max;
    return h;
  }
}

export interface HistogramJson {
  readonly sparse: [number, number][];
  readonly max: number;
}
