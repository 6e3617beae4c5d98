/**
 * Local rule state survives an edge restart. Against real peers: the edge process is SIGKILLed
 * while a condition holds (the rule has switched a coil on the pymodbus PLC), the coil is reset
 * behind its back, and the restarted edge must not switch it again; it clears and raises as
 * usual afterwards. Then the store itself: a `for` timer and a window carry over a restart, and a
 * rule whose definition changed starts from a fresh state.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonValue } from '../../src/domain/telemetry.js';
import { parseEdgeConfig, type LocalRuleConfig } from '../../src/edge/config.js';
import { LocalRules } from '../../src/edge/rules/local-rules.js';
import { RuleStateStore } from '../../src/edge/rules/state-store.js';
import { eventually, tempDir, waitForExit } from '../support/platform.js';
import { mbpoll, readCoil, startPlc, writeFloat, type Plc } from './support.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let plc: Plc;

before(async () => {
  plc = await startPlc();
});
after(async () => {
  await plc?.stop();
});

/** `probeFrom`: a second rule that logs once on the first reading at or after that time: proof the edge has evaluated a reading. */
function edgeYaml(probeFrom: number): string {
  return `
connectors:
  - type: modbus-tcp
    host: 127.0.0.1
    port: ${plc.port}
    devices:
      - name: rs-plc
        pollMs: 100
        registers: [{ key: temperature, address: 10, type: float32, wordOrder: big }]
        commands: [{ method: setCoil1, fc: 5, address: 1, type: bool }]
rules:
  - name: hot
    condition: temperature > 80
    actions: [{ type: command, method: setCoil1, params: { value: true } }]
    clearActions: [{ type: command, method: setCoil1, params: { value: false } }]
  - name: probe
    condition: ts >= ${probeFrom}
    actions: [{ type: log, message: evaluated }]
`;
}

interface Fired {
  rule: string;
  edge: string;
}

function spawnEdge(configFile: string, dataDir: string) {
  const child = spawn(process.execPath, ['bin/continuum.mjs', 'edge', '--offline', '--config', configFile, '--data-dir', dataDir, '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const fired = (): Fired[] =>
    output
      .split('\n')
      .filter((l) => l.includes('"local rule fired"'))
      .map((l) => JSON.parse(l) as Fired);
  const has = (rule: string, edge: string) => (fired().some((f) => f.rule === rule && f.edge === edge) ? true : undefined);
  return { child, output: () => output, fired, has };
}

test('restart during a held condition fires no second time (edge SIGKILLed and restarted)', async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const configFile = join(dir, 'edge.yaml');
  await writeFloat(plc.port, 10, 21.5);
  writeFileSync(configFile, edgeYaml(Number.MAX_SAFE_INTEGER));
  const first = spawnEdge(configFile, dataDir);
  try {
    await writeFloat(plc.port, 10, 85);
    await eventually(async () => first.has('hot', 'raise'), 20_000, `first edge raises: ${first.output()}`);
    await eventually(async () => ((await readCoil(plc.port, 1)) === 1 ? true : undefined), 5000, 'coil 1 on');
  } finally {
    first.child.kill('SIGKILL');
    await waitForExit(first.child);
  }

  // Behind the edge's back: a second firing would show as the coil on again.
  await mbpoll(plc.port, ['-t', '0', '-r', '2'], ['0']);
  assert.equal(await readCoil(plc.port, 1), 0);
  writeFileSync(configFile, edgeYaml(Date.now()));
  const second = spawnEdge(configFile, dataDir);
  try {
    await eventually(async () => second.has('probe', 'raise'), 20_000, `restarted edge evaluates readings: ${second.output()}`);
    assert.ok(/"restored":1\b/.test(second.output()), `hot's state restored: ${second.output()}`);
    assert.equal(second.fired().filter((f) => f.rule === 'hot').length, 0, 'no second raise while the condition still holds');
    assert.equal(await readCoil(plc.port, 1), 0, 'coil not switched again');

    // It still clears and raises as before.
    await writeFloat(plc.port, 10, 21.5);
    await eventually(async () => second.has('hot', 'clear'), 10_000, 'clear after the restart');
    await writeFloat(plc.port, 10, 85);
    await eventually(async () => ((await readCoil(plc.port, 1)) === 1 ? true : undefined), 10_000, 'raised again after a clear');
    assert.deepEqual(second.fired().filter((f) => f.rule === 'hot').map((f) => f.edge), ['clear', 'raise']);
  } finally {
    second.child.kill('SIGTERM');
    await waitForExit(second.child);
    await writeFloat(plc.port, 10, 21.5);
  }
});

function rulesFrom(yaml: string, store: RuleStateStore) {
  const config = parseEdgeConfig(
    `
connectors:
  - type: modbus-tcp
    host: h
    devices: [{ name: a, registers: [{ key: t, address: 0 }], commands: [{ method: stop, fc: 5, address: 0, type: bool }] }]
rules:
${yaml}`,
    {},
    { offline: true },
  );
  const commands: [string, string, JsonValue][] = [];
  const rules = new LocalRules(config.rules as LocalRuleConfig[], { command: async (d, m, p) => (commands.push([d, m, p]), { ok: true }), telemetry: () => undefined }, quiet, store);
  return { rules, commands };
}

const rule = (threshold: number) => `
  - name: hot
    condition: avg(t, 3) > ${threshold}
    for: 1s
    actions: [{ type: command, method: stop, params: { value: true } }]
`;

test('a "for" timer and a window carry over a restart; a changed rule starts fresh', async () => {
  const file = join(tempDir(), 'edge-rules.db');
  let store = new RuleStateStore(file, quiet);
  const before = rulesFrom(rule(80), store);
  before.rules.onReading({ device: 'a', ts: 1000, values: { t: 90 } });
  before.rules.onReading({ device: 'a', ts: 1500, values: { t: 90 } });
  await before.rules.idle();
  assert.equal(before.commands.length, 0, 'held 500 ms of 1 s');
  store.close();

  store = new RuleStateStore(file, quiet);
  const after = rulesFrom(rule(80), store);
  // avg(90, 90, 65) > 80 only with the stored window, held 1 s only with the stored timer.
  after.rules.onReading({ device: 'a', ts: 2000, values: { t: 65 } });
  await after.rules.idle();
  assert.deepEqual(after.commands, [['a', 'stop', { value: true }]]);
  store.close();

  store = new RuleStateStore(file, quiet);
  const changed = rulesFrom(rule(70), store);
  // A fresh state: not active, so it raises once its own timer (from 2500) has run 1 s.
  changed.rules.onReading({ device: 'a', ts: 2500, values: { t: 90 } });
  changed.rules.onReading({ device: 'a', ts: 3000, values: { t: 90 } });
  await changed.rules.idle();
  assert.equal(changed.commands.length, 0, 'the changed rule did not inherit the old timer');
  changed.rules.onReading({ device: 'a', ts: 3500, values: { t: 90 } });
  await changed.rules.idle();
  assert.equal(changed.commands.length, 1, 'and did not inherit "already fired"');
  store.close();
});
