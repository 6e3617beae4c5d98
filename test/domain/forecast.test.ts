import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DAY, WEEK, fitHoltWinters, forecastHoltWinters, seasonalNaive } from '../../src/domain/forecast/holt-winters.js';
import { HOUR_MS, deviationAt, expectedAt, hourOfWeek, learnBaseline } from '../../src/domain/forecast/seasonal-baseline.js';

const MONDAY = Date.UTC(2024, 0, 1); // a Monday, 00:00 UTC

/** A pure seasonal series: a daily and a weekly pattern, `weeks` weeks long, on top of a level. */
const seasonal = fc.record({
  level: fc.integer({ min: -1000, max: 1000 }),
  daily: fc.array(fc.integer({ min: -50, max: 50 }), { minLength: DAY, maxLength: DAY }),
  weekly: fc.array(fc.integer({ min: -20, max: 20 }), { minLength: WEEK, maxLength: WEEK }),
  weeks: fc.integer({ min: 2, max: 5 }),
});

function series(s: { level: number; daily: number[]; weekly: number[] }, n: number): number[] {
  return Array.from({ length: n }, (_, t) => s.level + (s.daily[t % DAY] as number) + (s.weekly[t % WEEK] as number));
}

describe('Holt–Winters', () => {
  it('forecasts a pure daily+weekly seasonal series exactly, whatever parameters the backtest picks', () => {
    fc.assert(
      fc.property(seasonal, fc.integer({ min: 1, max: 2 * WEEK }), (s, horizon) => {
        const n = s.weeks * WEEK;
        const all = series(s, n + horizon);
        const fit = fitHoltWinters(all.slice(0, n));
        const fcst = forecastHoltWinters(fit, horizon);
        for (const p of fcst) assert.ok(Math.abs(p.value - (all[n + p.h - 1] as number)) < 1e-6, `h=${p.h}: ${p.value} vs ${all[n + p.h - 1]}`);
        // No error in the backtest: the interval collapses to the forecast.
        assert.ok(fit.sigma < 1e-6);
      }),
      { numRuns: 30 },
    );
  });

  it('forecasts a pure daily series exactly from under two weeks (daily season only)', () => {
    const daily = Array.from({ length: DAY }, (_, i) => Math.sin((2 * Math.PI * i) / DAY) * 10 + 50);
    const y = Array.from({ length: 5 * DAY }, (_, t) => daily[t % DAY] as number);
    const fit = fitHoltWinters(y);
    assert.equal(fit.weekly, false);
    for (const p of forecastHoltWinters(fit, 48)) assert.ok(Math.abs(p.value - (daily[(5 * DAY + p.h - 1) % DAY] as number)) < 1e-9);
  });

  it('prediction intervals contain the forecast and never narrow as the horizon grows', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: 2 * DAY, maxLength: 3 * WEEK }),
        fc.integer({ min: 1, max: 400 }),
        (y, horizon) => {
          const fcst = forecastHoltWinters(fitHoltWinters(y), horizon);
          assert.equal(fcst.length, horizon);
          let width = 0;
          for (const p of fcst) {
            assert.ok(p.lower <= p.value && p.value <= p.upper);
            const w = p.upper - p.lower;
            assert.ok(w >= width - 1e-9 * Math.max(1, width), `h=${p.h}: ${w} < ${width}`);
            width = w;
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('gaps (NaN hours) take the forecast and do not break an exact fit', () => {
    const s = { level: 10, daily: Array.from({ length: DAY }, (_, i) => i), weekly: Array.from({ length: WEEK }, (_, i) => (i % 7) - 3) };
    const y = series(s, 3 * WEEK + 20);
    const holes = y.map((v, t) => (t > WEEK && t % 11 === 0 ? NaN : v));
    const fcst = forecastHoltWinters(fitHoltWinters(holes.slice(0, 3 * WEEK)), 20);
    for (const p of fcst) assert.ok(Math.abs(p.value - (y[3 * WEEK + p.h - 1] as number)) < 1e-6);
  });

  it('tracks a noisy series with a trend better than the seasonal-naive forecast', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 2;
    const n = 6 * WEEK;
    const y = Array.from({ length: n + DAY }, (_, t) => 100 + 0.05 * t + 20 * Math.sin((2 * Math.PI * t) / DAY) + 5 * Math.sin((2 * Math.PI * t) / WEEK) + 3 * rnd());
    const fit = fitHoltWinters(y.slice(0, n));
    const hw = forecastHoltWinters(fit, DAY).map((p) => p.value);
    const naive = seasonalNaive(y.slice(0, n), DAY, WEEK);
    const err = (f: number[]): number => f.reduce((a, v, i) => a + Math.abs(v - (y[n + i] as number)), 0);
    assert.ok(err(hw) < err(naive), `${err(hw)} vs ${err(naive)}`);
  });

  it('refuses less than two days of history', () => {
    assert.throws(() => fitHoltWinters(new Array<number>(DAY).fill(1)), RangeError);
  });
});

describe('seasonal baseline (hour of week)', () => {
  it('slot 0 is Monday 00:00 UTC and slots advance by the hour', () => {
    assert.equal(hourOfWeek(MONDAY), 0);
    assert.equal(hourOfWeek(MONDAY + 25 * HOUR_MS + 59_000), 25);
    assert.equal(hourOfWeek(MONDAY - HOUR_MS), 167);
  });

  it('answers null until a slot has two weeks of values, then the slot mean', () => {
    const one = learnBaseline(Array.from({ length: WEEK }, (_, i) => ({ ts: MONDAY + i * HOUR_MS, value: i })));
    assert.equal(expectedAt(one, MONDAY + 5 * HOUR_MS), null);
    assert.equal(deviationAt(one, MONDAY + 5 * HOUR_MS, 3), null);
    const two = learnBaseline(Array.from({ length: 2 * WEEK }, (_, i) => ({ ts: MONDAY + i * HOUR_MS, value: (i % WEEK) + (i < WEEK ? 0 : 2) })));
    assert.equal(expectedAt(two, MONDAY + 5 * HOUR_MS + 30 * 60_000), 6);
  });

  it('deviation is the residual in robust σ: a seasonal series plus noise scores a spike high, its own values low', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -10, max: 10 }), { minLength: 4 * WEEK, maxLength: 4 * WEEK }), (noise) => {
        const pts = noise.map((e, i) => ({ ts: MONDAY + i * HOUR_MS, value: 100 * Math.sin((2 * Math.PI * i) / DAY) + e }));
        const b = learnBaseline(pts);
        const at = MONDAY + 4 * WEEK * HOUR_MS + 3 * HOUR_MS;
        const exp = expectedAt(b, at) as number;
        assert.ok(Math.abs(exp - 100 * Math.sin((2 * Math.PI * 3) / DAY)) <= 10);
        if (b.sigma > 0) assert.ok((deviationAt(b, at, exp + 20 * b.sigma) as number) > 19.99);
      }),
      { numRuns: 30 },
    );
  });
});
