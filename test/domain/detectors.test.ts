import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { detectorReading, detectorValue, initialDetectorState, stepDetector, type DetectorState, type DetectorUse } from '../../src/domain/detectors/detectors.js';
import { compileExpression, type DetectorRef } from '../../src/domain/expression/index.js';

const MIN = 60_000;
const T0 = Date.UTC(2024, 5, 1);

/** The checked use of a detector call, as a rule would compile it. */
function useOf(src: string): DetectorRef {
  const d = compileExpression(src).analysis.detectors[0];
  assert.ok(d, `no detector in ${src}`);
  return d;
}

/** Feeds a series one sample a minute; returns the value the call answers after each sample. */
function run(use: DetectorUse, xs: readonly number[], state: DetectorState = initialDetectorState(use.fn)): (number | boolean | null)[] {
  return xs.map((x, i) => {
    stepDetector(use, state, T0 + i * MIN, x);
    return detectorValue(use, state);
  });
}

const finiteValue = fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true });
/** Non-degenerate noise: values spread enough that the standard deviation is not float noise. */
const noisy = fc.array(fc.integer({ min: -100_000, max: 100_000 }).map((i) => i / 1000), { minLength: 40, maxLength: 200 }).filter((xs) => Math.max(...xs) - Math.min(...xs) > 1);

describe('detectors: minimum history', () => {
  for (const src of ['ewma(x, 0.2)', 'zscore(x, 20)', 'rzscore(x, 20)', 'surprise(x, 20)', 'cusum(x, 0.5, 5)', 'pagehinkley(x, 0.1, 10)', 'slope(x, 20)', 'timeTo(x, 1000, 20)']) {
    it(`${src} answers null for its first minHistory samples, then a value`, () => {
      const use = useOf(src);
      const xs = Array.from({ length: use.minHistory + 5 }, (_, i) => i + (i % 2) * 0.5);
      const out = run(use, xs);
      assert.ok(out.slice(0, use.minHistory).every((v) => v === null), `${src}: early value ${JSON.stringify(out.slice(0, use.minHistory))}`);
      assert.notEqual(out[use.minHistory], null, `${src}: no value after ${use.minHistory} samples`);
    });
  }
});

describe('detectors: properties', () => {
  it('ewma of a constant is the constant', () => {
    fc.assert(
      fc.property(finiteValue, fc.double({ min: 0.01, max: 1, noNaN: true }), fc.integer({ min: 30, max: 300 }), (c, alpha, n) => {
        const use = useOf(`ewma(x, ${alpha})`);
        const out = run(use, new Array<number>(n).fill(c));
        return out.every((v) => v === null || v === c);
      }),
    );
  });

  it('zscore, rzscore and surprise are invariant to scale and shift (a > 0)', () => {
    for (const fn of ['zscore', 'rzscore', 'surprise']) {
      fc.assert(
        fc.property(noisy, fc.double({ min: 0.001, max: 1000, noNaN: true }), fc.double({ min: -1000, max: 1000, noNaN: true }), (xs, a, b) => {
          const use = useOf(`${fn}(x, 20)`);
          const plain = run(use, xs);
          const scaled = run(
            use,
            xs.map((x) => a * x + b),
          );
          return plain.every((v, i) => {
            const w = scaled[i];
            if (v === null || w === null) return v === w;
            return Math.abs((v as number) - (w as number)) <= 1e-6 * Math.max(1, Math.abs(v as number));
          });
        }),
        { numRuns: 100 },
      );
    }
  });

  it('cusum detects a step of size d > k after floor(h / (d − k)) + 1 samples, not before', () => {
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 2, max: 10, noNaN: true }), fc.double({ min: 0.2, max: 3, noNaN: true }), (k, h, excess) => {
        const d = k + excess;
        const use = useOf(`cusum(x, ${k}, ${h})`);
        // Warm-up: alternating ±1 has mean 0 and (sample) σ = sqrt(30/29).
        const warm = Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? 1 : -1));
        const sd = Math.sqrt(30 / 29);
        const step = new Array<number>(60).fill(d * sd);
        const out = run(use, [...warm, ...step]).slice(30);
        const first = out.findIndex((v) => v === true);
        const expected = Math.floor(h / (d - k) + 1e-9) + 1;
        // One sample of slack for rounding at the exact boundary.
        return first >= 0 && Math.abs(first + 1 - expected) <= 1 && out.slice(0, Math.max(0, expected - 2)).every((v) => v === false);
      }),
    );
  });

  it('cusum and pagehinkley stay quiet on stationary noise', () => {
    const rnd = mulberry(7);
    const xs = Array.from({ length: 2000 }, () => gaussian(rnd));
    assert.ok(!run(useOf('cusum(x, 1, 8)'), xs).includes(true));
    assert.ok(!run(useOf('pagehinkley(x, 0.5, 50)'), xs).includes(true));
    const drifted = [...xs.slice(0, 500), ...xs.slice(500, 800).map((x, i) => x + i * 0.01)];
    assert.ok(run(useOf('pagehinkley(x, 0.5, 50)'), drifted).includes(true));
  });

  it('slope recovers a linear trend per minute and timeTo the minutes to a threshold', () => {
    fc.assert(
      fc.property(fc.double({ min: -50, max: 50, noNaN: true }).filter((m) => Math.abs(m) > 0.01), fc.double({ min: -1000, max: 1000, noNaN: true }), (m, b) => {
        const xs = Array.from({ length: 60 }, (_, i) => b + m * i);
        const slope = run(useOf('slope(x, 20)'), xs).at(-1) as number;
        const threshold = b + m * 100; // reached 41 minutes after the last sample (minute 59)
        const timeTo = run(useOf(`timeTo(x, ${threshold}, 20)`), xs).at(-1) as number;
        const away = run(useOf(`timeTo(x, ${b - m}, 20)`), xs).at(-1);
        return Math.abs(slope - m) < 1e-6 * Math.max(1, Math.abs(m)) && Math.abs(timeTo - 41) < 1e-6 * 41 && away === null;
      }),
    );
  });

  it('state has constant size and stays finite whatever the input', () => {
    fc.assert(
      fc.property(fc.array(finiteValue, { maxLength: 300 }), (xs) => {
        for (const src of ['ewma(x, 0.3)', 'zscore(x)', 'rzscore(x, 5)', 'surprise(x, 5)', 'cusum(x, 0.5, 4)', 'pagehinkley(x, 1, 5)', 'slope(x, 5)', 'timeTo(x, 0, 5)']) {
          const use = useOf(src);
          const s = initialDetectorState(use.fn);
          const size = s.length;
          run(use, xs, s);
          if (s.length !== size || !s.every(Number.isFinite)) return false;
          const v = detectorValue(use, s);
          if (typeof v === 'number' && !Number.isFinite(v)) return false;
        }
        return true;
      }),
    );
  });

  it('surprise stays low on steady noise, however noisy, and rises when the behaviour changes', () => {
    const rnd = mulberry(11);
    const calm = Array.from({ length: 3000 }, () => 100 + 10 * gaussian(rnd));
    const changed = Array.from({ length: 50 }, () => 100 + 60 * gaussian(rnd));
    const out = run(useOf('surprise(x, 50)'), [...calm, ...changed]);
    const calmMax = Math.max(...(out.slice(1000, 3000) as number[]));
    const changedMax = Math.max(...(out.slice(3000) as number[]));
    assert.ok(calmMax < 6, `calm max ${calmMax}`);
    assert.ok(changedMax > 2 * calmMax, `changed max ${changedMax} vs calm ${calmMax}`);
  });

  it('a late or repeated sample does not move the state (redelivery is harmless)', () => {
    const use = useOf('zscore(x, 10)');
    const s = initialDetectorState(use.fn);
    for (let i = 0; i < 20; i++) stepDetector(use, s, T0 + i * MIN, i % 3);
    const before = [...s];
    assert.equal(stepDetector(use, s, T0 + 19 * MIN, 1000), false);
    assert.equal(stepDetector(use, s, T0, 1000), false);
    assert.deepEqual(s, before);
  });

  it('zscore reports the score against the baseline before the sample', () => {
    const use = useOf('zscore(x, 20)');
    const s = initialDetectorState(use.fn);
    const rnd = mulberry(3);
    for (let i = 0; i < 50; i++) stepDetector(use, s, T0 + i * MIN, 10 + 0.1 * gaussian(rnd));
    stepDetector(use, s, T0 + 50 * MIN, 20);
    const r = detectorReading(use, s);
    assert.ok(r && r.score > 20, `score ${r?.score}`);
    assert.ok(r && Math.abs(r.baseline - 10) < 0.2, `baseline ${r?.baseline}`);
  });
});

describe('detectors: compile-time checks', () => {
  const cases: [string, RegExp, number][] = [
    ['ewma(x)', /ewma\(\) takes 2 arguments, got 1/, 1],
    ['ewma(x, 1.5)', /alpha must be a number in \(0, 1\], got 1.5/, 9],
    ['a > 1 && zscore(x, 1)', /window must be an integer from 2 to 10000/, 20],
    ['zscore(x, "10m")', /window as a number literal/, 11],
    ['cusum(x, 0.5)', /cusum\(\) takes 3 arguments, got 2: cusum\(key, k, h\)/, 1],
    ['cusum(x, -1, 5)', /k must be a number 0 or greater, got -1/, 10],
    ['pagehinkley(x, 0.1, 0)', /lambda must be a number greater than 0/, 21],
    ['timeTo(3, 10)', /needs a telemetry key/, 8],
    ['slope(x, y)', /window as a number literal/, 10],
  ];
  for (const [src, message, column] of cases) {
    it(`rejects ${src} at column ${column}`, () => {
      assert.throws(
        () => compileExpression(src),
        (err: Error & { position?: { column: number } }) => message.test(err.message) && err.position?.column === column,
      );
    });
  }

  it('records the threshold a condition compares the score with', () => {
    assert.equal(useOf('abs(zscore(vibration, 50)) > 3.5').threshold, 3.5);
    assert.equal(useOf('-2 > zscore(vibration)').threshold, -2);
    assert.equal(useOf('timeTo(level, 0) < 360').threshold, 360);
    assert.equal(useOf('cusum(v, 0.5, 5)').threshold, undefined);
  });
});

/** A small seeded generator (tests must be repeatable). */
function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}
