/**
 * The fuzz properties of the pure surfaces (codecs, device JSON, expression language, MQTT
 * framing) with a fixed seed and a small count: the seeded corpus CI runs on every change. The
 * full campaign (over a million cases, `npm run bench -- fuzz`) is in bench/fuzz; a failure
 * prints the seed, the path and the shrunk counterexample, which replay it exactly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pureSurfaces } from '../../bench/fuzz/surfaces/pure.js';

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_207);
const CASES = Number(process.env.FUZZ_CASES ?? 1500);

for (const surface of pureSurfaces) {
  test(`fuzz: ${surface.name}`, async () => {
    const result = await surface.run(CASES, SEED);
    const f = result.failure;
    assert.equal(f, undefined, f && `${f.kind}: ${f.error}\nseed ${f.seed}, path ${f.path}\ncounterexample: ${f.counterexample}`);
  });
}
