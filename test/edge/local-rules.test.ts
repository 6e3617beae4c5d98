import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEdgeConfig, type LocalRuleConfig } from '../../src/edge/config.js';
import type { JsonValue } from '../../src/domain/telemetry.js';
import type { Reading } from '../../src/edge/ports.js';
import { LocalRules } from '../../src/edge/rules/local-rules.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function rulesFrom(yaml: string) {
  const config = parseEdgeConfig(
    `
connectors:
  - type: modbus-tcp
    host: h
    devices:
      - { name: a, registers: [{ key: t, address: 0 }], commands: [{ method: stop, fc: 5, address: 0, type: bool }] }
      - { name: b, registers: [{ key: t, address: 0 }], commands: [{ method: stop, fc: 5, address: 0, type: bool }] }
rules:
${yaml}`,
    {},
    { offline: true },
  );
  const commands: [string, string, JsonValue][] = [];
  const derived: Reading[] = [];
  const rules = new LocalRules(config.rules as LocalRuleConfig[], { command: async (d, m, p) => (commands.push([d, m, p]), { ok: true }), telemetry: (r) => derived.push(r) }, quiet);
  return { rules, commands, derived };
}

test('raise once on the edge, clear once; windows and "for" by reading time; templates rendered', async () => {
  const { rules, commands, derived } = rulesFrom(`
  - name: hot
    device: a
    condition: avg(t, 3) > 80
    for: 200ms
    actions:
      - { type: command, method: stop, params: { value: true, why: "\${deviceName} at \${t}" } }
      - { type: telemetry, values: { tAvg: "\${avg(t, 3)}" } }
    clearActions: [{ type: command, device: b, method: stop, params: { value: false } }]
`);
  const feed = (device: string, ts: number, t: number) => rules.onReading({ device, ts, values: { t } });
  feed('a', 1000, 90);
  feed('a', 1100, 90); // avg > 80 since 1000, but not for 200 ms yet
  feed('b', 1150, 500); // another device: not targeted
  assert.equal(commands.length, 0);
  feed('a', 1200, 90); // held 200 ms: raise
  feed('a', 1300, 95); // still true: no repeat
  await rules.idle();
  assert.deepEqual(commands, [['a', 'stop', { value: true, why: 'a at 90' }]]);
  assert.deepEqual(derived, [{ device: 'a', ts: 1200, values: { tAvg: 90 } }]);
  feed('a', 1400, 0); // avg(90, 95, 0) < 80: clear
  feed('a', 1500, 0); // still false: no repeat
  await rules.idle();
  assert.deepEqual(commands.at(-1), ['b', 'stop', { value: false }], 'clear acts on the device named in the action');
  assert.equal(commands.length, 2);
  assert.equal(rules.stats().firings, 2);
});

test('runtime errors are counted and do not stop other rules', async () => {
  const { rules, commands } = rulesFrom(`
  - { name: broken, condition: 't * "x" > 1', actions: [{ type: log, message: never }] }
  - { name: ok, condition: t > 1, actions: [{ type: command, method: stop, params: { value: true } }] }
`);
  rules.onReading({ device: 'a', ts: 1, values: { t: 5 } });
  await rules.idle();
  assert.equal(rules.stats().errors, 1);
  assert.deepEqual(commands, [['a', 'stop', { value: true }]]);
});

test('detectors run in edge rules: nothing before the minimum history, then a drift stops the machine and the score travels as a feature', async () => {
  const { rules, commands, derived } = rulesFrom(`
  - name: drift
    device: a
    condition: cusum(t, 0.5, 5)
    actions:
      - { type: command, method: stop, params: { value: true } }
      - { type: telemetry, values: { tTrend: "\${slope(t, 10)}", tZ: "\${zscore(t, 10)}" } }
`);
  const t = (i: number): number => 20 + 0.2 * Math.sin(i * 1.7) + (i === 5 ? 50 : 0) + (i >= 40 ? 0.05 * (i - 39) : 0);
  for (let i = 0; i < 30; i++) rules.onReading({ device: 'a', ts: 1000 * i, values: { t: t(i) } });
  await rules.idle();
  assert.equal(commands.length, 0, 'no action during the warm-up, even on the spike at reading 5');
  for (let i = 30; i < 70; i++) rules.onReading({ device: 'a', ts: 1000 * i, values: { t: t(i) } });
  await rules.idle();
  assert.deepEqual(commands, [['a', 'stop', { value: true }]]);
  const feature = derived[0];
  assert.ok(feature && feature.ts >= 40_000, `raised at ${feature?.ts}`);
  assert.ok(typeof feature.values.tTrend === 'number' && feature.values.tTrend > 0, JSON.stringify(feature.values));
});
