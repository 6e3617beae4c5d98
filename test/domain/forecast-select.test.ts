import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DAY, WEEK, fitHoltWinters, forecastHoltWinters, holtWintersAt, seasonalNaive } from '../../src/domain/forecast/holt-winters.js';
import { seasonalForecast, seasonalName } from '../../src/domain/forecast/seasonal-means.js';
import { HOLT_WINTERS, SEASONAL_CANDIDATES, backtestOrigins, selectForecast } from '../../src/domain/forecast/select.js';

/** A deterministic generator in [-1, 1), so the constructed cases do not depend on Math.random. */
function noise(seed: number): () => number {
  let s = seed;
  return () => ((s = (s * 16807) % 2147483647) / 2147483647 - 0.5) * 2;
}

const weeklyPattern = fc.array(fc.integer({ min: -100, max: 100 }), { minLength: WEEK, maxLength: WEEK });

function mae(f: ArrayLike<number>, actual: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < actual.length; i++) s += Math.abs((f[i] as number) - (actual[i] as number));
  return s / actual.length;
}

describe('seasonal rules (same hour of earlier weeks)', () => {
  it('every rule forecasts a purely weekly series exactly, a week or more ahead', () => {
    fc.assert(
      fc.property(weeklyPattern, fc.integer({ min: 4, max: 8 }), fc.integer({ min: 1, max: 2 * WEEK }), (pattern, weeks, horizon) => {
        const at = (t: number): number => pattern[t % WEEK] as number;
        const y = Array.from({ length: weeks * WEEK }, (_, t) => at(t));
        for (const spec of SEASONAL_CANDIDATES) {
          const f = seasonalForecast(y, y.length, horizon, spec);
          for (let h = 0; h < horizon; h++) assert.ok(Math.abs((f[h] as number) - at(y.length + h)) < 1e-9, `${seasonalName(spec)} h=${h + 1}`);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('the level correction recovers a weekly series after its level stepped up, the plain rules do not', () => {
    const pattern = Array.from({ length: WEEK }, (_, i) => 50 * Math.sin((2 * Math.PI * i) / DAY) + (i % 7));
    const n = 5 * WEEK;
    const at = (t: number): number => (pattern[t % WEEK] as number) + (t >= n - 2 * DAY ? 40 : 0);
    const y = Array.from({ length: n }, (_, t) => at(t));
    const actual = Array.from({ length: DAY }, (_, h) => at(n + h));
    const corrected = seasonalForecast(y, n, DAY, { kind: 'naive', weeks: 1, level: true });
    assert.ok(mae(corrected, actual) < 1e-9);
    assert.ok(Math.abs(mae(seasonalForecast(y, n, DAY, { kind: 'naive', weeks: 1, level: false }), actual) - 40) < 1e-9);
  });

  it('the seasonal-naive rule is the seasonal-naive reference', () => {
    const y = Array.from({ length: 3 * WEEK }, (_, t) => Math.sin(t) * 10 + t);
    assert.deepEqual([...seasonalForecast(y, y.length, 200, { kind: 'naive', weeks: 1, level: false })], seasonalNaive(y, 200, WEEK));
  });

  it('the median ignores one odd week that moves the mean', () => {
    const pattern = Array.from({ length: WEEK }, (_, i) => 100 + (i % DAY));
    const y = Array.from({ length: 4 * WEEK }, (_, t) => (pattern[t % WEEK] as number) - (t >= 2 * WEEK && t < 3 * WEEK ? 90 : 0));
    const median = seasonalForecast(y, y.length, DAY, { kind: 'median', weeks: 3, level: false });
    const mean = seasonalForecast(y, y.length, DAY, { kind: 'mean', weeks: 3, level: false });
    for (let h = 0; h < DAY; h++) {
      assert.equal(median[h], pattern[h]);
      assert.ok(Math.abs((mean[h] as number) - ((pattern[h] as number) - 30)) < 1e-9);
    }
  });
});

describe('Holt–Winters forecasts at earlier origins', () => {
  it('at the end of the history they are the fit\'s own forecasts', () => {
    const rnd = noise(3);
    const y = Array.from({ length: 3 * WEEK }, (_, t) => 100 + 20 * Math.sin((2 * Math.PI * t) / DAY) + 5 * rnd());
    const fit = fitHoltWinters(y);
    const [atEnd] = holtWintersAt(y, fit, [y.length], DAY);
    const own = forecastHoltWinters(fit, DAY);
    for (let h = 0; h < DAY; h++) assert.ok(Math.abs((atEnd as Float64Array)[h] as number - (own[h]?.value as number)) < 1e-9);
  });
});

describe('model selection by backtest', () => {
  it('picks a median rule when holidays hit a different day every week, and it forecasts the next day better than last week\'s values', () => {
    const rnd = noise(11);
    const n = 8 * WEEK;
    const base = (t: number): number => 500 + 200 * Math.sin((2 * Math.PI * t) / DAY) + 80 * Math.sin((2 * Math.PI * t) / WEEK);
    // One "holiday" day a week (a different weekday each week, never the forecast day), at a third of normal.
    const holiday = (t: number): boolean => Math.floor((t % WEEK) / DAY) === (Math.floor(t / WEEK) * 3) % 7 && t < n;
    const at = (t: number): number => base(t) * (holiday(t) ? 0.3 : 1) + 10 * rnd();
    const all = Array.from({ length: n + DAY }, (_, t) => at(t));
    const y = all.slice(0, n);
    const s = selectForecast(y, DAY);
    assert.match(s.name, /^seasonal-median-/);
    const actual = all.slice(n);
    assert.ok(mae(s.points.map((p) => p.value), actual) < mae(seasonalNaive(y, DAY, WEEK), actual));
    assert.equal(s.origins, 14);
    assert.equal(s.candidates[0]?.name, HOLT_WINTERS);
  });

  it('picks a level-corrected rule when the level stepped up two days ago', () => {
    const rnd = noise(5);
    const n = 6 * WEEK;
    const y = Array.from({ length: n }, (_, t) => 300 + 100 * Math.sin((2 * Math.PI * t) / DAY) + 30 * Math.cos((2 * Math.PI * t) / WEEK) + (t >= n - 8 * DAY ? 150 : 0) + 2 * rnd());
    assert.match(selectForecast(y, DAY).name, /\+level$/);
  });

  it('keeps Holt–Winters on a tie (an exactly periodic series) and below nine days of history', () => {
    const y = Array.from({ length: 4 * WEEK }, (_, t) => (t % DAY) * 3 + (t % WEEK));
    assert.equal(selectForecast(y, DAY).name, HOLT_WINTERS);
    const short = Array.from({ length: 7 * DAY }, (_, t) => t % DAY);
    const s = selectForecast(short, DAY);
    assert.equal(s.name, HOLT_WINTERS);
    assert.equal(s.origins, 0);
    assert.equal(backtestOrigins(WEEK + DAY).length, 0);
    assert.equal(backtestOrigins(WEEK + 2 * DAY).length, 1);
  });

  it('is never worse than the seasonal-naive forecast on its own backtest', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), { minLength: 8 * DAY, maxLength: 4 * WEEK }), (y) => {
        const s = selectForecast(y, DAY);
        const naive = s.candidates.find((c) => c.name === 'seasonal-naive-week');
        if (naive && Number.isFinite(naive.mae)) assert.ok(s.mae <= naive.mae, `${s.name} ${s.mae} > ${naive.mae}`);
      }),
      { numRuns: 20 },
    );
  });

  it('intervals contain the forecast and never narrow as the horizon grows, whichever model wins', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 2 * DAY, maxLength: 3 * WEEK }),
        weeklyPattern,
        fc.boolean(),
        fc.integer({ min: 1, max: 400 }),
        (raw, pattern, weekly, horizon) => {
          // Half the cases are a jagged weekly pattern with spikes off its period, which the seasonal rules win.
          const y = weekly ? Array.from({ length: 3 * WEEK + 3 * DAY }, (_, t) => (pattern[t % WEEK] as number) + (t % 37 === 0 ? 80 : 0)) : raw;
          const s = selectForecast(y, horizon);
          seen.add(s.name);
          assert.equal(s.points.length, horizon);
          let width = 0;
          for (const p of s.points) {
            assert.ok(p.lower <= p.value && p.value <= p.upper, `${s.name} h=${p.h}`);
            const w = p.upper - p.lower;
            assert.ok(w >= width - 1e-9 * Math.max(1, width), `${s.name} h=${p.h}: ${w} < ${width}`);
            width = w;
          }
        },
      ),
      { numRuns: 40 },
    );
    assert.ok([...seen].some((name) => name !== HOLT_WINTERS), [...seen].join());
  });
});
