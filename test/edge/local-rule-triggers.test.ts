/**
 * Local rule triggers in process (LocalRules with recorded effects): attributes (changed keys in
 * the message, attr() from the cache), connectivity (changes only, across a replaced rule set),
 * schedule (`every`, acting at each tick the condition holds, for every device without `device`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEdgeConfig, type LocalRuleConfig } from '../../src/edge/config.js';
import type { JsonValue } from '../../src/domain/telemetry.js';
import { LocalRules, type RuleEffects } from '../../src/edge/rules/local-rules.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rulesFrom(yaml: string, attrs: Record<string, JsonValue> = {}) {
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
  const log: string[] = [];
  const effects: RuleEffects = {
    command: async (d, m, p) => (log.push(`${d}.${m}(${JSON.stringify(p)})`), { ok: true }),
    telemetry: (r) => log.push(`${r.device} telemetry ${JSON.stringify(r.values)}`),
    alarms: { raise: (d, type, severity) => log.push(`${d} raise ${type} ${severity}`), clear: (d, type) => log.push(`${d} clear ${type}`) },
    attr: (_d, k) => attrs[k],
    devices: () => ['a', 'b'],
  };
  return { make: () => new LocalRules(config.rules as LocalRuleConfig[], effects, quiet), log };
}

test('attributes trigger: the changed keys are the message; attr() reads the cache', async () => {
  const attrs: Record<string, JsonValue> = { limit: 10 };
  const { make, log } = rulesFrom(
    `
  - name: setpoint
    device: a
    trigger: attributes
    condition: setpoint != null && setpoint <= attr("limit")
    actions: [{ type: command, method: stop, params: { value: "\${setpoint}" } }]
`,
    attrs,
  );
  const rules = make();
  rules.onAttributes('a', { setpoint: 50 });
  rules.onAttributes('a', {});
  rules.onAttributes('b', { setpoint: 5 });
  rules.onAttributes('a', { setpoint: 7 });
  await rules.idle();
  assert.deepEqual(log, ['a.stop({"value":7})'], 'over the limit: nothing; other device: nothing; empty change: not evaluated');
});

test('connectivity trigger: fires on changes only, raises and auto-clears an alarm, and a replaced rule set keeps the view', async () => {
  const { make, log } = rulesFrom(`
  - name: lost
    trigger: connectivity
    condition: event == "offline"
    actions: [{ type: alarm, alarmType: Lost, severity: critical }]
`);
  const rules = make();
  rules.onConnectivity('a', true);
  rules.onConnectivity('a', false);
  rules.onConnectivity('a', false);
  await rules.idle();
  const next = make();
  next.inheritConnectivity(rules);
  next.onConnectivity('a', false);
  next.onConnectivity('a', true);
  await next.idle();
  // The new set had no state of its own for `a`: its "online" is a clear of nothing raised by it.
  assert.deepEqual(log, ['a raise Lost critical']);
  rules.onConnectivity('b', false);
  rules.onConnectivity('b', true);
  await rules.idle();
  assert.deepEqual(log, ['a raise Lost critical', 'b raise Lost critical', 'b clear Lost']);
});

test('schedule trigger (every): acts at each tick the condition holds, for every device without `device`; stop() ends it', async () => {
  const { make, log } = rulesFrom(`
  - name: tick
    trigger: schedule
    schedule: { every: 1s }
    condition: deviceName == "a" || t > 5
    actions: [{ type: telemetry, values: { tick: 1 } }]
`);
  const rules = make();
  rules.onReading({ device: 'b', ts: Date.now(), values: { t: 1 } });
  await sleep(2300);
  rules.stop();
  await sleep(1200);
  await rules.idle();
  assert.deepEqual(log, ['a telemetry {"tick":1}', 'a telemetry {"tick":1}']);
});
