/**
 * OTA rollouts at the issue's scale (issue 16): 1,000 simulated devices over MQTT (the
 * simulator's OTA device side, one process) against a platform in this process (SQLite store,
 * ports 0). Two rollouts of a 64 KiB image in 3 waves (10 %, 50 %, 100 %):
 *  1. 5 % injected failures (bad checksum, reboot into the old version, timeout; progress
 *     timeout 5 s): completes; counts add up and match the simulators' own tally;
 *  2. 30 % injected failures with abort at 20 % after 50 devices: aborts itself in the first wave.
 * The test suite runs the same with fewer devices (test/e2e/ota-rollouts.test.ts).
 *
 *   node --import tsx bench/ota-rollout.ts [--devices 1000] [--json FILE]
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { finished, otaFleet, provision, uploadPackage, type DeploymentBody } from '../test/support/ota-rollout.js';
import { startTestPlatform } from '../test/support/platform.js';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { devices: { type: 'string', default: '1000' }, json: { type: 'string' } } });
  const n = Number(values.devices);
  const tp = await startTestPlatform({ config: { ota: { rolloutTickMs: 250 } } });
  const results: Record<string, unknown> = { devices: n };
  try {
    const run = async (label: string, prefix: string, version: string, failRate: number, extra: Record<string, unknown>): Promise<DeploymentBody> => {
      let t = performance.now();
      const devices = await provision(tp.baseUrl, prefix, n);
      const provisionS = (performance.now() - t) / 1000;
      const pkg = await uploadPackage(tp.api, tp.baseUrl, version, 65_536);
      const sim = otaFleet(devices, tp.ports.mqtt, failRate);
      try {
        while (sim.stats().connected < n) await new Promise((r) => setTimeout(r, 100));
        t = performance.now();
        const res = await tp.api.request<{ id: string }>('POST', '/api/ota/deployments', { packageId: pkg, target: { deviceIds: devices.map((d) => d.id) }, waves: [10, 50, 100], ...extra });
        assert.equal(res.status, 201, JSON.stringify(res.body));
        const done = await finished(tp.api, res.body.id, 600_000);
        const seconds = (performance.now() - t) / 1000;
        const tally = sim.stats().ota;
        results[label] = { seconds: Math.round(seconds * 10) / 10, provisionS: Math.round(provisionS * 10) / 10, status: done.status, reason: done.reason, wave: done.wave, counts: done.counts, perWave: done.perWave.map((w) => w.total), failures: done.failures, simulators: tally };
        console.log(`${label}: ${done.status} in ${seconds.toFixed(1)} s (wave ${done.wave + 1}/${done.waves}) ${JSON.stringify(done.counts)} failures ${JSON.stringify(done.failures)} simulators ${JSON.stringify(tally)}`);
        return done;
      } finally {
        await sim.stop();
      }
    };
    const a = await run('fail5', 'bench-ota-a', '2.0.0', 0.05, { timeouts: { progressMs: 5_000 } });
    assert.equal(a.status, 'completed');
    assert.equal(a.counts.updated + a.counts.failed, n);
    const b = await run('fail30', 'bench-ota-b', '3.0.0', 0.3, { timeouts: { progressMs: 5_000 }, abort: { percent: 20, after: 50 } });
    assert.equal(b.status, 'aborted');
    assert.equal(b.wave, 0);
  } finally {
    await tp.stop();
  }
  if (values.json) writeFileSync(values.json, JSON.stringify(results, null, 2));
}

await main();
