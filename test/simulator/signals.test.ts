/** The signal helpers are pure: same seed, same signal; shapes land where their parameters say. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alongRoute, daily, distanceM, faultActive, gaussian, routeLengthM, seededRandom, walk } from '../../src/simulator/signals.js';

const H = 3_600_000;

test('a device name seeds the same sequence every run; different names differ', () => {
  const a = seededRandom('meter-1');
  const b = seededRandom('meter-1');
  const c = seededRandom('meter-2');
  const seqA = Array.from({ length: 5 }, a);
  assert.deepEqual(seqA, Array.from({ length: 5 }, b));
  assert.notDeepEqual(seqA, Array.from({ length: 5 }, c));
  assert.ok(seqA.every((x) => x >= 0 && x < 1));
});

test('gaussian noise has the asked spread', () => {
  const r = seededRandom(7);
  const xs = Array.from({ length: 20_000 }, () => gaussian(r, 2));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / xs.length);
  assert.ok(Math.abs(mean) < 0.1, `mean ${mean}`);
  assert.ok(Math.abs(sd - 2) < 0.1, `sd ${sd}`);
});

test('the daily cycle peaks at its peak hour and bottoms out twelve hours later', () => {
  const day = Date.UTC(2026, 0, 1);
  const cycle = { mean: 20, amplitude: 5, peakHour: 15 };
  assert.equal(daily(day + 15 * H, cycle), 25);
  assert.ok(Math.abs(daily(day + 3 * H, cycle) - 15) < 1e-9);
});

test('a random walk stays in its bounds and reverts towards its mean', () => {
  const r = seededRandom('walk');
  let v = 240;
  for (let i = 0; i < 1000; i++) v = walk(v, 60_000, r, { sigmaPerHour: 2, reversion: 1, mean: 230, min: 200, max: 250 });
  assert.ok(v >= 200 && v <= 250);
  assert.ok(Math.abs(v - 230) < 8, `ended at ${v}`);
});

test('a scheduled fault is active for its duration once per period, shifted by the offset', () => {
  const s = { everyHours: 6, durationMinutes: 30 };
  assert.equal(faultActive(0, s), true);
  assert.equal(faultActive(29 * 60_000, s), true);
  assert.equal(faultActive(31 * 60_000, s), false);
  assert.equal(faultActive(6 * H + 1, s), true);
  assert.equal(faultActive(0, { ...s, offsetHours: 1 }), false);
  assert.equal(faultActive(H + 1, { ...s, offsetHours: 1 }), true);
});

test('movement along a route: waypoints, midpoints, heading, and the loop back to the start', () => {
  const route = [
    { lat: 52.0, lon: 4.0 },
    { lat: 52.0, lon: 4.1 },
    { lat: 52.1, lon: 4.1 },
  ];
  const first = distanceM(route[0]!, route[1]!);
  assert.ok(Math.abs(first - 6_850) < 50, `leg ${first}`); // 0.1° of longitude at 52° N
  const mid = alongRoute(route, first / 2);
  assert.ok(Math.abs(mid.lon - 4.05) < 1e-9 && mid.lat === 52);
  assert.ok(Math.abs(mid.heading - 90) < 0.1, `heading ${mid.heading}`);
  const total = routeLengthM(route);
  const again = alongRoute(route, total + first / 2);
  assert.ok(Math.abs(again.lon - mid.lon) < 1e-9);
  const end = alongRoute(route, 1e9, false);
  assert.deepEqual([end.lat, end.lon], [52.1, 4.1]);
});
