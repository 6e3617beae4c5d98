/** NAB's scoring rules as bench/nab/score.ts applies them, on a file small enough to check by hand. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalize, parseNabTime, prepareFile, PROFILES, probationaryLength, scaledSigmoid, scoreFile } from '../../bench/nab/score.js';

const MIN = 60_000;
const ts = Array.from({ length: 100 }, (_, i) => i * MIN);
// One window over rows 40..49; rows 0..14 are probationary (15% of 100).
const file = prepareFile('f.csv', ts, [[40 * MIN, 49 * MIN]]);
const detect = (...rows: number[]): Uint8Array => {
  const d = new Uint8Array(100);
  for (const r of rows) d[r] = 1;
  return d;
};
const score = (d: Uint8Array, profile: keyof typeof PROFILES = 'standard'): number => normalize([file], scoreFile(file, d, PROFILES[profile]).raw, PROFILES[profile]);

test('NAB scoring: early detection is worth most, late little, none nothing; false positives cost fpWeight', () => {
  assert.equal(probationaryLength(100), 15);
  assert.equal(probationaryLength(100_000), 750);
  assert.equal(score(detect()), 0, 'the null detector');
  assert.ok(Math.abs(score(detect(40)) - 100) < 1e-9, 'a detection at the left edge is perfect');
  // Right edge: position −1/10 → scaledSigmoid(−0.1) / scaledSigmoid(−1) of the way from −1 (missed) to 1.
  const late = (scaledSigmoid(-0.1) / scaledSigmoid(-1) + 1) / 2;
  assert.ok(Math.abs(score(detect(49)) - 100 * late) < 1e-9);
  // Only the best detection of a window counts; a detection in probation counts for nothing.
  assert.equal(score(detect(40, 45, 49)), score(detect(40)));
  assert.equal(score(detect(5)), 0);
  // A false positive far after the window costs fpWeight × 1, relative to the range (perfect − null) = 2.
  assert.ok(Math.abs(score(detect(40, 80)) - 100 * (1 - 0.11 / 2)) < 1e-9);
  assert.ok(Math.abs(score(detect(40, 80), 'lowFP') - 100 * (1 - 0.22 / 2)) < 1e-9);
  const o = scoreFile(file, detect(40, 80, 90), PROFILES.standard);
  assert.deepEqual([o.detectedWindows, o.falsePositives], [1, 2]);
});

test('NAB timestamps are read as UTC, with or without fractions', () => {
  assert.equal(parseNabTime('2014-02-19 10:50:00.000000'), Date.UTC(2014, 1, 19, 10, 50));
  assert.equal(parseNabTime('2014-02-19 10:50:00'), Date.UTC(2014, 1, 19, 10, 50));
  assert.throws(() => parseNabTime('yesterday'));
});
