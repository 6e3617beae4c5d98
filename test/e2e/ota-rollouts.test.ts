/**
 * OTA rollouts end to end against the real MQTT transport (port 0), with the simulator's OTA
 * devices (fetch fw_* attributes, download chunks, verify SHA-256, report states, reboot into the
 * new version, fail on purpose at a rate): a rollout in 3 waves with 5 % failures completes and
 * its counts add up to the simulators' own tally; one with 30 % failures aborts itself after the
 * first wave. 1,000 devices: bench/ota-rollout.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';
import { finished, otaFleet, provision, uploadPackage } from '../support/ota-rollout.js';

let tp: TestPlatform;

before(async () => {
  tp = await startTestPlatform({ config: { ota: { rolloutTickMs: 200 } } });
});
after(async () => {
  await tp.stop();
});

test('a rollout in 3 waves with 5% injected failures completes, and its counts add up', async () => {
  const N = 200;
  const devices = await provision(tp.baseUrl, 'ota-a', N);
  const pkg = await uploadPackage(tp.api, tp.baseUrl, '2.0.0');
  const sim = otaFleet(devices, tp.ports.mqtt, 0.05);
  try {
    const started = Date.now();
    const res = await tp.api.request<{ id: string }>('POST', '/api/ota/deployments', {
      packageId: pkg,
      target: { deviceIds: devices.map((d) => d.id) },
      waves: [10, 50, 100],
      timeouts: { notifiedMs: 20_000, progressMs: 3_000 },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    const done = await finished(tp.api, res.body.id, 120_000);
    const ms = Date.now() - started;
    const tally = sim.stats().ota;
    assert.ok(tally);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.equal(done.waves, 3);
    assert.deepEqual(done.perWave.map((w) => w.total), [20, 80, 100]);
    assert.equal(done.counts.total, N);
    assert.equal(done.counts.updated + done.counts.failed, N, JSON.stringify(done.counts));
    assert.equal(done.counts.updated, tally.updated, 'UPDATED only for devices that came back on the target version');
    assert.equal(done.counts.failed, tally.failedOnPurpose, JSON.stringify(done.failures));
    assert.ok(done.counts.failed > 0 && done.counts.failed < N * 0.15, `~5% failed: ${done.counts.failed}`);
    console.log(`rollout of ${N}: ${ms} ms, ${done.counts.updated} updated, ${done.counts.failed} failed ${JSON.stringify(done.failures)}`);
  } finally {
    await sim.stop();
  }
});

test('a rollout with 30% failures aborts itself after the first wave', async () => {
  const N = 100;
  const devices = await provision(tp.baseUrl, 'ota-b', N);
  const pkg = await uploadPackage(tp.api, tp.baseUrl, '3.0.0');
  const sim = otaFleet(devices, tp.ports.mqtt, 0.3, ['checksum', 'old-version']);
  try {
    const res = await tp.api.request<{ id: string }>('POST', '/api/ota/deployments', {
      packageId: pkg,
      target: { deviceIds: devices.map((d) => d.id) },
      waves: [20, 60, 100],
      abort: { percent: 15, after: 20 },
    });
    assert.equal(res.status, 201);
    const done = await finished(tp.api, res.body.id, 60_000);
    assert.equal(done.status, 'aborted', JSON.stringify(done));
    assert.match(done.reason ?? '', /failed/);
    assert.equal(done.wave, 0, 'the second wave never started');
    assert.equal((done.perWave[0]?.updated ?? 0) + (done.perWave[0]?.failed ?? 0), 20);
    assert.equal(done.perWave[1]?.canceled, 40, 'devices of later waves were never told');
    assert.equal(done.perWave[2]?.canceled, 40);
    assert.equal(sim.stats().ota?.started, 20, 'only the first wave tried');
  } finally {
    await sim.stop();
  }
});
