/**
 * The outcome of each numbered push, reported as edgeConfigResult; a push that passes the checks
 * but fails to run is rolled back on the edge (the previous configuration runs again and stays
 * the saved one). ConfigPush on its own, with the shipped example as the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonValue } from '../../src/domain/telemetry.js';
import type { EdgeConfig } from '../../src/edge/config.js';
import { loadEdgeConfig } from '../../src/edge/config.js';
import { ConfigPush, PUSHED_CONFIG_FILE } from '../../src/edge/config-push/remote-config.js';
import { tempDir } from '../support/tmp.js';

const ENV = { CONTINUUM_URL: 'mqtt://127.0.0.1:1', CONTINUUM_GATEWAY_TOKEN: 'tok', MODBUS_HOST: '127.0.0.1', MODBUS_PORT: '15020' };
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };
const rule = (name: string) => ({ name, device: 'plc-1', condition: 'temperature > 80', actions: [{ type: 'log', message: 'hot' }] });

function setup(failOn: string) {
  const dataDir = tempDir();
  const reports: Record<string, JsonValue>[] = [];
  const applied: string[][] = [];
  const push = new ConfigPush({
    file: loadEdgeConfig('examples/edge/modbus-plc.yaml', ENV),
    dataDir,
    env: ENV,
    logger: quiet,
    apply: async (config: EdgeConfig) => {
      const names = config.rules.map((r) => r.name);
      applied.push(names);
      if (names.includes(failOn)) throw new Error('connector could not start');
      return { connectors: { kept: ['plc'], stopped: [], started: [] }, devices: { added: [], removed: [] }, rules: names.length };
    },
    report: (values) => reports.push(values),
  });
  return { push, reports, applied, dataDir };
}

test('applied and refused pushes are reported with their number; one that fails to run is rolled back', async () => {
  const { push, reports, applied, dataDir } = setup('broken');
  push.onShared({ edgeRules: [rule('good')], edgeConfigPush: { version: 1, digest: 'a' } }, false);
  await push.idle();
  assert.deepEqual(pick(reports.at(-1)), { push: 1, status: 'applied', rules: 1 });
  const good = push.version;

  // Refused by the checks: nothing runs, the reason names the path.
  push.onShared({ edgeRules: [{ ...rule('bad'), condition: 'temperature >' }], edgeConfigPush: { version: 2, digest: 'b' } }, false);
  await push.idle();
  const refused = reports.at(-1)?.edgeConfigResult as { push: number; status: string; reason: string };
  assert.equal(refused.push, 2);
  assert.equal(refused.status, 'refused');
  assert.match(refused.reason, /^edgeRules\[0\]\.condition/);
  assert.equal(push.version, good);

  // Passes the checks, fails to run: the previous configuration is applied again and kept.
  push.onShared({ edgeRules: [rule('broken')], edgeConfigPush: { version: 3, digest: 'c' } }, false);
  await push.idle();
  const rolled = reports.at(-1)?.edgeConfigResult as { push: number; status: string; reason: string; rolledBack: boolean };
  assert.deepEqual({ push: rolled.push, status: rolled.status, rolledBack: rolled.rolledBack }, { push: 3, status: 'refused', rolledBack: true });
  assert.match(rolled.reason, /connector could not start/);
  assert.deepEqual(applied.slice(-2), [['broken'], ['good']], 'the broken push ran, then the previous one again');
  assert.equal(push.version, good);
  const saved = JSON.parse(readFileSync(join(dataDir, PUSHED_CONFIG_FILE), 'utf8')) as { pushed: { edgeRules: { name: string }[] } };
  assert.deepEqual(saved.pushed.edgeRules.map((r) => r.name), ['good'], 'the saved push is the previous one');
});

test('a push of values then deleted keys (two messages) is applied as a whole: the second does not undo the first', async () => {
  const { push, reports } = setup('never');
  push.onShared({ edgeRules: [rule('one')], edgeConfigPush: { version: 1, digest: 'a' } }, false);
  // Sent back to back, before the first is applied.
  push.onShared({ edgeRules: [rule('two')], edgeConfigPush: { version: 2, digest: 'b' } }, false);
  push.onShared({}, false, ['edgeConnectors']);
  await push.idle();
  const last = reports.filter((r) => r.edgeConfigResult !== undefined).at(-1)?.edgeConfigResult as { push: number };
  assert.equal(last.push, 2);
  assert.deepEqual(push.config.rules.map((r) => r.name), ['two']);
});

function pick(report: Record<string, JsonValue> | undefined): object {
  const r = report?.edgeConfigResult as { push: number; status: string; rules: number };
  return { push: r.push, status: r.status, rules: r.rules };
}
