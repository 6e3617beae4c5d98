import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import type { StoredCommand } from '../../src/ports.js';
import { FakeDevice, harness, OTHER_TENANT, rejectsWith, T, until, type Harness } from './actions-harness.js';

describe('CommandService', () => {
  let h: Harness;
  afterEach(() => h.close());

  const statusOf = async (id: string): Promise<string | undefined> => (await h.store.getCommand(id))?.status;

  it('two-way to an online device: SENT → DELIVERED → SUCCESSFUL with the reply, every state on the bus', async () => {
    h = await harness();
    const d = new FakeDevice(h, await h.device('valve')).connect().listen((r) => ({ ok: true, echo: r.params }));
    const events = h.record('command');
    const c = await h.commands.send({ tenantId: T, deviceId: d.identity.deviceId, method: 'open', params: { pct: 40 }, origin: 'rule:r1' });
    assert.equal(c.status, 'SUCCESSFUL');
    assert.deepEqual(c.response, { ok: true, echo: { pct: 40 } });
    assert.deepEqual(d.requests.map((r) => [r.method, r.params]), [['open', { pct: 40 }]]);
    assert.deepEqual(events.map((e) => e.command.status), ['QUEUED', 'SENT', 'DELIVERED', 'SUCCESSFUL']);
    const stored = await h.commands.get(T, c.id);
    assert.equal(stored.origin, 'rule:r1');
    assert.equal(stored.persistent, false);
  });

  it('a reply carrying "error" ends FAILED; silence ends TIMEOUT; an offline device FAILED at once', async () => {
    h = await harness();
    const d = new FakeDevice(h, await h.device('valve')).connect().listen((r) => (r.method === 'bad' ? { error: 'jammed' } : undefined));
    const failed = await h.commands.send({ tenantId: T, deviceId: d.identity.deviceId, method: 'bad' });
    assert.equal(failed.status, 'FAILED');
    assert.equal(failed.error, 'jammed');
    const started = Date.now();
    const silent = await h.commands.send({ tenantId: T, deviceId: d.identity.deviceId, method: 'quiet', timeoutMs: 150 });
    assert.equal(silent.status, 'TIMEOUT');
    assert.ok(Date.now() - started >= 140);
    assert.equal(silent.retries, 0);
    const offline = await h.device('offline');
    const nobody = await h.commands.send({ tenantId: T, deviceId: offline.deviceId, method: 'x' });
    assert.equal(nobody.status, 'FAILED');
    assert.match(nobody.error ?? '', /not connected/);
  });

  it('one-way: answers once sent and ends DELIVERED', async () => {
    h = await harness();
    const d = new FakeDevice(h, await h.device('lamp')).connect().listen();
    const c = await h.commands.send({ tenantId: T, deviceId: d.identity.deviceId, method: 'blink', oneway: true });
    assert.equal(c.status, 'DELIVERED');
    assert.equal(d.requests.length, 1);
    // Not listening: the request waits in the session hub; it is delivered when the device subscribes.
    const sleepy = new FakeDevice(h, await h.device('sleepy')).connect();
    const queued = await h.commands.send({ tenantId: T, deviceId: sleepy.identity.deviceId, method: 'blink', oneway: true, timeoutMs: 2000 });
    assert.equal(queued.status, 'SENT');
    sleepy.listen();
    await until(async () => (await statusOf(queued.id)) === 'DELIVERED');
  });

  it('persistent: QUEUED while offline, SENT on connect, DELIVERED on subscribe, SUCCESSFUL on reply', async () => {
    h = await harness();
    const identity = await h.device('sleeper');
    const c = await h.commands.send({ tenantId: T, deviceId: identity.deviceId, method: 'setInterval', params: { s: 60 }, persistent: true });
    assert.equal(c.status, 'QUEUED');
    const second = await h.commands.send({ tenantId: T, deviceId: identity.deviceId, method: 'second', persistent: true });
    const d = new FakeDevice(h, identity).connect();
    await until(async () => (await statusOf(c.id)) === 'SENT' && (await statusOf(second.id)) === 'SENT', 3000, 'SENT');
    d.listen((r) => ({ done: r.method }));
    await until(async () => (await statusOf(c.id)) === 'SUCCESSFUL' && (await statusOf(second.id)) === 'SUCCESSFUL', 3000, 'SUCCESSFUL');
    assert.deepEqual(d.requests.map((r) => r.method), ['setInterval', 'second'], 'in creation order');
    assert.deepEqual((await h.commands.get(T, c.id)).response, { done: 'setInterval' });
    assert.deepEqual(await h.store.pendingCommands(), []);
  });

  it('persistent: a silent device is retried maxRetries times, then TIMEOUT', async () => {
    h = await harness({ commands: { maxRetries: 2 } });
    const d = new FakeDevice(h, await h.device('mute')).connect().listen();
    const c = await h.commands.send({ tenantId: T, deviceId: d.identity.deviceId, method: 'ping', persistent: true, timeoutMs: 100 });
    await until(async () => (await statusOf(c.id)) === 'TIMEOUT', 3000, 'TIMEOUT');
    const final = await h.commands.get(T, c.id);
    assert.equal(final.retries, 2);
    assert.equal(d.requests.length, 3);
    assert.match(final.error ?? '', /no reply within 100 ms/);
  });

  it('persistent: a device that went away between retries gets the retry when it is back', async () => {
    h = await harness({ commands: { maxRetries: 1 } });
    const identity = await h.device('flaky');
    const d = new FakeDevice(h, identity).connect().listen();
    const c = await h.commands.send({ tenantId: T, deviceId: identity.deviceId, method: 'ping', persistent: true, timeoutMs: 100 });
    await until(() => d.requests.length === 1);
    d.disconnect();
    await until(async () => (await statusOf(c.id)) === 'QUEUED', 3000, 'requeued');
    assert.equal((await h.commands.get(T, c.id)).retries, 1);
    const back = new FakeDevice(h, identity).connect().listen(() => 'pong');
    await until(async () => (await statusOf(c.id)) === 'SUCCESSFUL', 3000, 'SUCCESSFUL');
    assert.equal(back.requests.length, 1);
  });

  it('persistent: ends EXPIRED when expiresAt passes before the device shows up', async () => {
    h = await harness();
    const identity = await h.device('gone');
    const events = h.record('command');
    const c = await h.commands.send({ tenantId: T, deviceId: identity.deviceId, method: 'x', persistent: true, expiresInMs: 80 });
    await until(async () => (await statusOf(c.id)) === 'EXPIRED', 3000, 'EXPIRED');
    assert.deepEqual(events.map((e) => e.command.status), ['QUEUED', 'EXPIRED']);
    const d = new FakeDevice(h, identity).connect().listen(() => 'late');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(d.requests.length, 0, 'an expired command is never sent');
  });

  it('reaches a child device through its gateway session', async () => {
    h = await harness();
    const gw = await h.device('gw');
    const child = await h.device('plc-1', { gatewayId: gw.deviceId });
    const got: [string, string][] = [];
    h.sessions.openGateway(gw, {
      onChildRpcRequest: (name, r) => {
        got.push([name, r.method]);
        queueMicrotask(() => void h.bus.publish('rpcResponse', `rpcResponse.${T}.${child.deviceId}`, { deviceId: child.deviceId, requestId: r.id, response: 1 }));
      },
    });
    const c = await h.commands.send({ tenantId: T, deviceId: child.deviceId, method: 'read', persistent: true });
    assert.equal(c.status, 'QUEUED', 'the child is not connected yet');
    h.sessions.open(child, 'gateway', {}, true); // v1/gateway/connect
    await until(async () => (await statusOf(c.id)) === 'SUCCESSFUL');
    assert.deepEqual(got, [['plc-1', 'read']]);
  });

  it('after a restart, SENT commands go out again and expired ones end EXPIRED', async () => {
    const store = createMemoryStore();
    const first = await harness({ store });
    const identity = await first.device('survivor');
    const now = Date.now();
    const base: StoredCommand = {
      id: randomUUID(),
      tenantId: T,
      deviceId: identity.deviceId,
      method: 'resume',
      params: {},
      oneway: false,
      persistent: true,
      status: 'SENT',
      retries: 0,
      maxRetries: 2,
      timeoutMs: 1000,
      createdAt: now,
      updatedAt: now,
      expiresAt: now + 60_000,
      version: 1,
    };
    await store.insertCommand(base);
    const stale = { ...base, id: randomUUID(), status: 'DELIVERED' as const, expiresAt: now - 1 };
    await store.insertCommand(stale);
    await first.commands.stop();
    // A new service over the same store, as after a restart.
    h = await harness({ store });
    assert.equal((await store.getCommand(base.id))?.status, 'QUEUED');
    assert.equal((await store.getCommand(stale.id))?.status, 'EXPIRED');
    const d = new FakeDevice(h, identity).connect().listen(() => 'resumed');
    await until(async () => (await store.getCommand(base.id))?.status === 'SUCCESSFUL');
    assert.equal(d.requests.length, 1);
  });

  it('never crosses tenants, and validates input', async () => {
    h = await harness();
    const theirs = await h.device('theirs', { tenantId: OTHER_TENANT });
    await rejectsWith(h.commands.send({ tenantId: T, deviceId: theirs.deviceId, method: 'x' }), 'DEVICE_NOT_FOUND');
    const their = await h.commands.send({ tenantId: OTHER_TENANT, deviceId: theirs.deviceId, method: 'x', persistent: true });
    await rejectsWith(h.commands.get(T, their.id), 'COMMAND_NOT_FOUND');
    await rejectsWith(h.commands.list(T, { deviceId: theirs.deviceId }), 'DEVICE_NOT_FOUND');
    assert.equal((await h.commands.list(T)).total, 0);
    assert.equal((await h.commands.list(OTHER_TENANT, { statuses: ['QUEUED'] })).total, 1);
    const mine = await h.device('mine');
    await rejectsWith(h.commands.send({ tenantId: T, deviceId: mine.deviceId, method: '' }), 'BAD_REQUEST');
    await rejectsWith(h.commands.send({ tenantId: T, deviceId: mine.deviceId, method: 'x', timeoutMs: 0 }), 'BAD_REQUEST');
    await rejectsWith(h.commands.send({ tenantId: T, deviceId: mine.deviceId, method: 'x', expiresInMs: -5 }), 'BAD_REQUEST');
  });
});
