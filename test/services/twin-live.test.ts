import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import type { SharedAttributeUpdate } from '../../src/ports/device-api.js';
import type { LiveMessage } from '../../src/services/live.js';
import { jsonEqual } from '../../src/services/twin.js';
import { harness, OTHER_TENANT, rejectsWith, T, until, type Harness } from './actions-harness.js';

describe('TwinService', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('desired vs reported with a delta of differing and missing keys', async () => {
    h = await harness();
    const d = await h.device('thermostat');
    await h.attributes.set(T, d.deviceId, 'shared', { target: 21, mode: { name: 'eco', level: 2 }, fan: 'auto' });
    await h.attributes.set(T, d.deviceId, 'client', { target: 19, mode: { level: 2, name: 'eco' }, firmware: '1.2' });
    const twin = await h.twin.get(d.deviceId);
    assert.deepEqual(Object.keys(twin.desired).sort(), ['fan', 'mode', 'target']);
    assert.equal(twin.desired.target?.value, 21);
    assert.equal(typeof twin.desired.target?.ts, 'number');
    assert.deepEqual(Object.keys(twin.reported).sort(), ['firmware', 'mode', 'target']);
    assert.deepEqual(twin.delta, { fan: { desired: 'auto' }, target: { desired: 21, reported: 19 } });
  });

  it('jsonEqual ignores key order and tells arrays from objects', () => {
    assert.ok(jsonEqual({ a: [1, { b: 2, c: 3 }] }, { a: [1, { c: 3, b: 2 }] }));
    assert.ok(!jsonEqual({ 0: 1 }, [1]));
    assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: 2 }));
    assert.ok(!jsonEqual(null, {}));
  });

  it('a reconnecting persistent session gets the shared attributes changed while it was away', async () => {
    h = await harness();
    const identity = await h.device('sleepy');
    const got: SharedAttributeUpdate[] = [];
    const listen = { onSharedAttributes: (u: SharedAttributeUpdate) => got.push(u) };
    await h.attributes.set(T, identity.deviceId, 'shared', { before: 1 });
    h.clock.advance(10);
    // First connection: nothing is pushed (the device asks for its attributes itself).
    const first = h.sessions.open(identity, 'mqtt', {}, true);
    first.setHandlers(listen);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, []);
    h.clock.advance(10);
    first.close();
    h.clock.advance(10);
    await h.attributes.set(T, identity.deviceId, 'shared', { missed: 'yes', also: 2 });
    const second = h.sessions.open(identity, 'mqtt', {}, true);
    assert.deepEqual(got, [], 'not before it subscribes');
    second.setHandlers(listen);
    await until(() => got.length === 1);
    assert.deepEqual(got, [{ values: { also: 2, missed: 'yes' } }]);
    // Non-persistent sessions (HTTP long poll, CoAP observe) get no catch-up.
    got.length = 0;
    h.sessions.open(identity, 'http', listen, false);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, []);
  });

  it('the catch-up uses the disconnect time an earlier run persisted', async () => {
    const store = createMemoryStore();
    const first = await harness({ store });
    const identity = await first.device('survivor');
    first.sessions.open(identity, 'mqtt', {}, true).close();
    await first.status.flush();
    first.clock.advance(10);
    await first.attributes.set(T, identity.deviceId, 'shared', { setWhileDown: true });
    await first.commands.stop();
    h = await harness({ store }); // a fresh StatusService: no live entry for the device
    const got: SharedAttributeUpdate[] = [];
    const session = h.sessions.open(identity, 'mqtt', {}, true);
    session.setHandlers({ onSharedAttributes: (u) => got.push(u) });
    await until(() => got.length === 1);
    assert.deepEqual(got, [{ values: { setWhileDown: true } }]);
  });
});

describe('LiveService', () => {
  let h: Harness;
  afterEach(() => h.close());

  it('filters by device and profile and never shows another tenant', async () => {
    h = await harness();
    const profile = await h.registry.createProfile({ tenantId: T, name: 'meters' });
    const a = await h.device('a', { profileId: profile.id });
    const b = await h.device('b');
    const theirs = await h.device('theirs', { tenantId: OTHER_TENANT });
    const all: LiveMessage[] = [];
    const onlyA: LiveMessage[] = [];
    const byProfile: LiveMessage[] = [];
    const alarms: LiveMessage[] = [];
    await h.live.subscribe(T, { type: 'telemetry' }, (m) => all.push(m));
    const stop = await h.live.subscribe(T, { type: 'telemetry', deviceId: a.deviceId }, (m) => onlyA.push(m));
    await h.live.subscribe(T, { type: 'telemetry', profileId: profile.id }, (m) => byProfile.push(m));
    await h.live.subscribe(T, { type: 'alarms' }, (m) => alarms.push(m));
    const publish = (tenantId: string, deviceId: string, v: number): void =>
      void h.bus.publish('telemetry', `telemetry.${tenantId}.${deviceId}`, { tenantId, deviceId, points: [{ key: 'v', ts: 1000 + v, value: v }] });
    publish(T, a.deviceId, 1);
    publish(T, b.deviceId, 2);
    publish(OTHER_TENANT, theirs.deviceId, 3);
    stop();
    publish(T, a.deviceId, 4);
    await h.alarms.raise({ tenantId: T, deviceId: b.deviceId, type: 'X', severity: 'minor' });
    await until(() => byProfile.length === 2 && alarms.length === 1);
    assert.deepEqual(all.map((m) => m.data), [{ v: [{ ts: 1001, value: 1 }] }, { v: [{ ts: 1002, value: 2 }] }, { v: [{ ts: 1004, value: 4 }] }]);
    assert.deepEqual(onlyA.map((m) => [m.type, m.deviceId, m.ts]), [['telemetry', a.deviceId, 1001]]);
    assert.deepEqual(byProfile.map((m) => m.deviceId), [a.deviceId, a.deviceId]);
    assert.equal((alarms[0]?.data as { action: string; type: string }).type, 'X');
    assert.equal((alarms[0]?.data as { action: string }).action, 'raised');
    await rejectsWith(h.live.subscribe(T, { type: 'status', deviceId: theirs.deviceId }, () => undefined), 'DEVICE_NOT_FOUND');
    const otherProfile = await h.registry.defaultProfile(OTHER_TENANT);
    await rejectsWith(h.live.subscribe(T, { type: 'status', profileId: otherProfile.id }, () => undefined), 'PROFILE_NOT_FOUND');
  });
});
