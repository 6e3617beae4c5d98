/** Rules over REST: the contract, validation with positions, the action catalogue, backtest without side effects. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createPrometheusMetrics } from '../../src/adapters/metrics/prometheus.js';
import { buildHttpApp } from '../../src/api/index.js';
import type { Device } from '../../src/domain/device.js';
import { AuthService } from '../../src/services/auth.js';
import { TelemetryQueryService } from '../../src/services/telemetry-query.js';
import { fixture, MIN, T0, type Fixture } from '../services/rules/fixture.js';
import { ADMIN, FixedStatuses, silentLogger } from './helpers.js';

describe('management API: rules', () => {
  let f: Fixture;
  let url: string;
  let token: string;
  let meter: Device;
  let close: () => Promise<void>;

  before(async () => {
    f = await fixture();
    const auth = new AuthService({ store: f.store, clock: f.clock, logger: silentLogger, passwords: { cost: 1024 } });
    await auth.ensureAdmin(ADMIN);
    const app = await buildHttpApp(
      {
        registry: f.registry,
        auth,
        telemetry: new TelemetryQueryService({ store: f.store, registry: f.registry, clock: f.clock }),
        attributes: f.attributes,
        status: new FixedStatuses(),
        rules: f.rules.service,
        metrics: createPrometheusMetrics(),
        ready: () => true,
      },
      { logger: false, maxBodyBytes: 1024 * 1024 },
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    token = (await auth.login(ADMIN.email, ADMIN.password)).token;
    meter = await f.device('meter-rest');
    close = async () => {
      await app.close();
      await f.stop();
    };
  });
  after(() => close());

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-only: bodies are asserted field by field
  async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }

  const contract = () => ({
    name: 'Low battery',
    deviceId: meter.id,
    trigger: 'telemetry',
    condition: 'batteryLevel < 10',
    actions: [
      { type: 'alarm', alarmType: 'LowBattery', severity: 'major' },
      { type: 'command', method: 'setSaving', params: { on: true } },
    ],
  });

  it('creates a rule with the contract body, then reads, lists, replaces and deletes it', async () => {
    const created = await call('POST', '/api/rules', contract());
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      { name: created.body.name, enabled: created.body.enabled, deviceId: created.body.deviceId, trigger: created.body.trigger, actions: created.body.actions },
      { name: 'Low battery', enabled: true, deviceId: meter.id, trigger: 'telemetry', actions: contract().actions },
    );
    const id = created.body.id as string;
    assert.equal((await call('GET', `/api/rules/${id}`)).body.condition, 'batteryLevel < 10');
    const list = await call('GET', '/api/rules');
    assert.ok(list.body.items.some((r: { id: string }) => r.id === id));

    const replaced = await call('PUT', `/api/rules/${id}`, { ...contract(), condition: 'batteryLevel < 15', for: '5m' });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.body.condition, 'batteryLevel < 15');
    assert.equal(replaced.body.createdAt, created.body.createdAt);

    assert.equal((await call('DELETE', `/api/rules/${id}`)).status, 204);
    const gone = await call('GET', `/api/rules/${id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.error, 'RULE_NOT_FOUND');
  });

  it('rejects a malformed condition with the position of the error', async () => {
    const res = await call('POST', '/api/rules', { ...contract(), condition: 'batteryLevel <\n  10 && foo(1)' });
    assert.equal(res.status, 400);
    assert.equal(res.body.error, 'INVALID_RULE');
    assert.equal(res.body.path, 'condition');
    assert.deepEqual(res.body.position, { line: 2, column: 9, offset: 23 });
    assert.match(res.body.message, /unknown function "foo"/);
    const syntax = await call('POST', '/api/rules/validate', { ...contract(), condition: 'batteryLevel = 10' });
    assert.deepEqual([syntax.status, syntax.body.position], [400, { line: 1, column: 14, offset: 13 }]);
  });

  it('rejects unknown actions and bad action parameters, naming the field', async () => {
    const unknown = await call('POST', '/api/rules', { ...contract(), actions: [{ type: 'fax', to: '1' }] });
    assert.deepEqual([unknown.status, unknown.body.path], [400, 'actions[0].type']);
    const severity = await call('POST', '/api/rules', { ...contract(), actions: [{ type: 'alarm', alarmType: 'X', severity: 'catastrophic' }] });
    assert.deepEqual([severity.status, severity.body.path], [400, 'actions[0].severity']);
    const template = await call('POST', '/api/rules', { ...contract(), actions: [{ type: 'alarm', alarmType: 'X', details: { msg: 'at ${batteryLevel +}' } }] });
    assert.deepEqual([template.status, template.body.path, template.body.position?.column], [400, 'actions[0].details.msg', 20]);
    const topic = await call('POST', '/api/rules', { ...contract(), actions: [{ type: 'mqttPublish', topic: 'v1/devices/me/rpc/request/1', payload: 'x' }] });
    assert.deepEqual([topic.status, topic.body.path], [400, 'actions[0]']);
    const device = await call('POST', '/api/rules', { ...contract(), deviceId: 'no-such-device' });
    assert.deepEqual([device.status, device.body.error], [404, 'DEVICE_NOT_FOUND']);
    const shape = await call('POST', '/api/rules', { ...contract(), unexpected: 1 });
    assert.equal(shape.status, 400);
  });

  it('validates without saving and tells what the rule reads', async () => {
    const res = await call('POST', '/api/rules/validate', { ...contract(), condition: 'avg(batteryLevel, "1h") < 10 && !attr("mains")' });
    assert.equal(res.status, 200);
    assert.equal(res.body.valid, true);
    assert.deepEqual(res.body.reads.windows, [{ agg: 'avg', key: 'batteryLevel', spec: { kind: 'time', ms: 3_600_000 } }]);
    assert.deepEqual(res.body.reads.attributes, [{ name: 'mains' }]);
  });

  it('lists the action types with their parameter schemas and defaults', async () => {
    const res = await call('GET', '/api/rules/actions');
    assert.equal(res.status, 200);
    const types = res.body.items.map((a: { type: string }) => a.type);
    for (const t of ['alarm', 'clearAlarm', 'command', 'setAttribute', 'telemetry', 'webhook', 'mqttPublish']) assert.ok(types.includes(t), t);
    const command = res.body.items.find((a: { type: string }) => a.type === 'command');
    assert.deepEqual(command.defaults, { persistent: true, oneway: false });
    assert.equal(command.configSchema.properties.method.type, 'string');
  });

  it('a rule of another tenant is not found', async () => {
    await f.store.ensureTenant({ id: 'other-tenant', name: 'other' });
    await f.store.saveRule({ id: 'foreign-rule', tenantId: 'other-tenant', name: 'x', enabled: true, trigger: 'telemetry', condition: 'true', actions: [], createdAt: 1, updatedAt: 1 });
    assert.equal((await call('GET', '/api/rules/foreign-rule')).status, 404);
    assert.equal((await call('DELETE', '/api/rules/foreign-rule')).status, 404);
  });

  it('backtests over stored history: when it would have fired and what it would have done, with no side effects', async () => {
    const d = await f.device('meter-history');
    const rows = [];
    // battery drains 1 %/minute from 20 %, is recharged at minute 15
    for (let i = 0; i < 20; i++) rows.push({ deviceId: d.id, key: 'batteryLevel', ts: T0 + i * MIN, value: i < 15 ? 20 - i : 90 });
    await f.store.appendTelemetry(rows);
    const rule = await call('POST', '/api/rules', { ...contract(), deviceId: d.id, enabled: false, actions: [...contract().actions, { type: 'webhook', url: 'https://hooks.example.com/notify', body: { text: '${deviceName} at ${batteryLevel}%' } }] });
    assert.equal(rule.status, 201);
    const sentBefore = f.commands.sent.length;
    const res = await call('POST', `/api/rules/${rule.body.id}/backtest`, { from: new Date(T0).toISOString(), to: T0 + 30 * MIN });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.evaluated, 20);
    assert.deepEqual(
      res.body.fired.map((x: { ts: number; edge: string; actions: { type: string }[] }) => [x.ts, x.edge, x.actions.map((a) => a.type)]),
      [
        [T0 + 11 * MIN, 'raise', ['alarm', 'command', 'webhook']],
        [T0 + 15 * MIN, 'clear', ['clearAlarm']],
      ],
    );
    assert.deepEqual(res.body.fired[0].actions[2].body, { text: 'meter-history at 9%' });
    assert.equal(f.commands.sent.length, sentBefore, 'no command was sent');
    assert.deepEqual(f.alarms.log, [], 'no alarm was raised');
    const bad = await call('POST', `/api/rules/${rule.body.id}/backtest`, { from: 'yesterday', to: T0 });
    assert.equal(bad.status, 400);
  });

  it('validates a detector rule (reporting its minimum history) and backtests it with the explanation in the alarm details', async () => {
    const v = await call('POST', '/api/rules/validate', { ...contract(), condition: 'abs(zscore(vibration, 20)) > 5' });
    assert.equal(v.status, 200);
    assert.deepEqual(v.body.reads.detectors, [{ fn: 'zscore', key: 'vibration', params: [20], slot: 'zscore("vibration",20)', minHistory: 20, threshold: 5 }]);
    const d = await f.device('pump-history');
    // 40 minutes of vibration around 1 with a wobble, then a jump to 3 at minute 40.
    const rows = Array.from({ length: 45 }, (_, i) => ({ deviceId: d.id, key: 'vibration', ts: T0 + i * MIN, value: i < 40 ? 1 + 0.05 * Math.sin(i * 1.7) : 3 }));
    await f.store.appendTelemetry(rows);
    const rule = await call('POST', '/api/rules', { name: 'vibration', deviceId: d.id, enabled: false, trigger: 'telemetry', condition: 'abs(zscore(vibration, 20)) > 5', actions: [{ type: 'alarm', alarmType: 'Vibration' }] });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    const res = await call('POST', `/api/rules/${rule.body.id}/backtest`, { from: T0, to: T0 + 60 * MIN });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const raise = res.body.fired.find((x: { edge: string }) => x.edge === 'raise');
    assert.equal(raise.ts, T0 + 40 * MIN);
    const details = raise.actions[0].details;
    assert.equal(details.detector, 'zscore(vibration, 20)');
    assert.equal(details.threshold, 5);
    assert.ok(details.score > 5 && Math.abs(details.baseline - 1) < 0.1, JSON.stringify(details));
  });
});
