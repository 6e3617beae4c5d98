/**
 * REST and WebSocket for alarms, commands, the device twin and live updates, over real HTTP
 * with the real services on the memory store (devices simulated on the session hub).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { createPrometheusMetrics } from '../../src/adapters/metrics/prometheus.js';
import { buildHttpApp } from '../../src/api/index.js';
import { AuthService } from '../../src/services/auth.js';
import { TelemetryQueryService } from '../../src/services/telemetry-query.js';
import { FakeDevice, harness, OTHER_TENANT, T, until, type Harness } from '../services/actions-harness.js';
import { ADMIN, silentLogger } from './helpers.js';

describe('management API: alarms, commands, twin, live updates', () => {
  let h: Harness;
  let url: string;
  let token: string;
  let close: () => Promise<void>;

  before(async () => {
    h = await harness();
    const auth = new AuthService({ store: h.store, clock: h.clock, logger: silentLogger, passwords: { cost: 1024 } });
    await auth.ensureAdmin(ADMIN);
    const app = await buildHttpApp(
      {
        registry: h.registry,
        auth,
        telemetry: new TelemetryQueryService({ store: h.store, registry: h.registry, clock: h.clock }),
        attributes: h.attributes,
        status: h.status,
        rpc: h.rpc,
        alarms: h.alarms,
        commands: h.commands,
        twin: h.twin,
        live: h.live,
        metrics: createPrometheusMetrics(),
        ready: () => true,
      },
      { logger: false, maxBodyBytes: 1024 * 1024 },
    );
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    token = (await auth.login(ADMIN.email, ADMIN.password)).token;
    close = async () => {
      await app.close();
      await h.close();
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

  it('lists, reads, acknowledges and clears alarms', async () => {
    const d = await h.device('boiler');
    const raised = await h.alarms.raise({ tenantId: T, deviceId: d.deviceId, type: 'HighTemp', severity: 'major', details: { t: 90 } });
    const active = await call('GET', `/api/alarms?deviceId=${d.deviceId}&status=active`);
    assert.equal(active.status, 200);
    assert.equal(active.body.total, 1);
    const { createdAt, updatedAt, ...item } = active.body.items[0];
    assert.deepEqual(item, { id: raised.id, type: 'HighTemp', severity: 'major', status: 'active', deviceId: d.deviceId, count: 1, details: { t: 90 }, acknowledgedAt: null, clearedAt: null });
    assert.equal(createdAt, updatedAt);
    const ack = await call('POST', `/api/alarms/${raised.id}/ack`);
    assert.equal(ack.status, 200);
    assert.equal(ack.body.status, 'acknowledged');
    assert.equal((await call('GET', `/api/alarms?deviceId=${d.deviceId}&status=active`)).body.total, 0);
    assert.equal((await call('GET', `/api/alarms?deviceId=${d.deviceId}&status=active,acknowledged`)).body.total, 1);
    const cleared = await call('POST', `/api/alarms/${raised.id}/clear`);
    assert.equal(cleared.body.status, 'cleared');
    assert.equal((await call('POST', `/api/alarms/${raised.id}/ack`)).status, 409);
    const one = await call('GET', `/api/alarms/${raised.id}`);
    assert.equal(one.body.status, 'cleared');
    assert.equal(typeof one.body.clearedAt, 'number');
    const history = await call('GET', `/api/alarms/${raised.id}/history`);
    assert.deepEqual(history.body.items.map((e: { action: string }) => e.action), ['raised', 'acknowledged', 'cleared']);
    assert.match(history.body.items[1].by, /^user:/);
  });

  it('answers 400 for bad filters and 404 for unknown or foreign alarms', async () => {
    assert.equal((await call('GET', '/api/alarms?status=open')).status, 400);
    assert.equal((await call('GET', '/api/alarms?severity=fatal')).status, 400);
    assert.equal((await call('GET', '/api/alarms?limit=0')).status, 400);
    const missing = await call('POST', '/api/alarms/nope/ack');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'ALARM_NOT_FOUND');
    const theirs = await h.device('their-boiler', { tenantId: OTHER_TENANT });
    const alarm = await h.alarms.raise({ tenantId: OTHER_TENANT, deviceId: theirs.deviceId, type: 'X', severity: 'minor' });
    assert.equal((await call('GET', `/api/alarms/${alarm.id}`)).status, 404);
    assert.equal((await call('GET', `/api/alarms?deviceId=${theirs.deviceId}`)).status, 404);
    const unauthenticated = await fetch(`${url}/api/alarms`);
    assert.equal(unauthenticated.status, 401);
  });

  it('sends commands: two-way waits for the reply; persistent is queued; both readable and listed', async () => {
    const online = new FakeDevice(h, await h.device('valve')).connect().listen((r) => ({ ok: r.method }));
    const sent = await call('POST', `/api/devices/${online.identity.deviceId}/commands`, { method: 'open', params: { pct: 30 }, timeoutMs: 2000 });
    assert.equal(sent.status, 201);
    assert.equal(sent.body.status, 'SUCCESSFUL');
    assert.deepEqual(sent.body.response, { ok: 'open' });
    assert.match(sent.body.origin, /^user:/);
    const offline = await h.device('sleeper');
    const queued = await call('POST', `/api/devices/${offline.deviceId}/commands`, { method: 'wake', persistent: true, expiresInMs: 60_000 });
    assert.equal(queued.status, 201);
    assert.equal(queued.body.status, 'QUEUED');
    assert.equal(queued.body.response, undefined);
    const got = await call('GET', `/api/commands/${queued.body.id}`);
    assert.equal(got.body.status, 'QUEUED');
    assert.equal(got.body.expiresAt - got.body.createdAt, 60_000);
    const list = await call('GET', `/api/commands?deviceId=${offline.deviceId}&status=QUEUED&limit=5`);
    assert.deepEqual(list.body.items.map((c: { id: string }) => c.id), [queued.body.id]);
    const timeout = await call('POST', `/api/devices/${offline.deviceId}/commands`, { method: 'now', timeoutMs: 100 });
    assert.equal(timeout.status, 201);
    assert.equal(timeout.body.status, 'FAILED', 'non-persistent to an offline device');
    assert.equal((await call('POST', `/api/devices/${offline.deviceId}/commands`, { method: 'x', bogus: 1 })).status, 400);
    assert.equal((await call('GET', '/api/commands?status=DONE')).status, 400);
    assert.equal((await call('GET', '/api/commands/nope')).body.error, 'COMMAND_NOT_FOUND');
    const theirs = await h.device('theirs', { tenantId: OTHER_TENANT });
    assert.equal((await call('POST', `/api/devices/${theirs.deviceId}/commands`, { method: 'x' })).status, 404);
  });

  it('shows the device twin with its delta', async () => {
    const d = await h.device('thermostat');
    await h.attributes.set(T, d.deviceId, 'shared', { target: 21, mode: 'eco' });
    await h.attributes.set(T, d.deviceId, 'client', { target: 19, mode: 'eco', rssi: -70 });
    const twin = await call('GET', `/api/devices/${d.deviceId}/twin`);
    assert.equal(twin.status, 200);
    assert.equal(twin.body.desired.target.value, 21);
    assert.equal(twin.body.reported.rssi.value, -70);
    assert.deepEqual(twin.body.delta, { target: { desired: 21, reported: 19 } });
    assert.equal((await call('GET', '/api/devices/nope/twin')).status, 404);
  });

  it('WebSocket: authenticates, subscribes, pushes telemetry and command states, unsubscribes', async () => {
    const d = await h.device('ws-device');
    // No token: refused once the first message is not an authentication.
    const anon = new WebSocket(`${url.replace('http', 'ws')}/api/ws`);
    const anonAnswer = await nextJson(anon, () => anon.send(JSON.stringify({ id: 1, subscribe: { type: 'telemetry' } })));
    assert.equal(anonAnswer.error.code, 'UNAUTHORIZED');
    anon.close();
    const bad = new WebSocket(`${url.replace('http', 'ws')}/api/ws`, ['continuum.v1', 'bearer.not-a-jwt']);
    const closed = await new Promise<number>((resolve) => bad.on('close', (code) => resolve(code)));
    assert.equal(closed, 4401);

    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/ws`);
    const authed = await nextJson(ws, () => ws.send(JSON.stringify({ id: 'a', token })));
    assert.deepEqual(authed, { id: 'a', result: { authenticated: true } });
    const sub = await nextJson(ws, () => ws.send(JSON.stringify({ id: 2, subscribe: { type: 'telemetry', deviceId: d.deviceId } })));
    const subscriptionId = sub.result.subscriptionId;
    const push = await nextJson(ws, () =>
      void h.bus.publish('telemetry', `telemetry.${T}.${d.deviceId}`, { tenantId: T, deviceId: d.deviceId, points: [{ key: 'temp', ts: 5, value: 21.5 }] }),
    );
    assert.deepEqual(push, { type: 'telemetry', subscriptionId, deviceId: d.deviceId, data: { temp: [{ ts: 5, value: 21.5 }] }, ts: 5 });
    const cmdSub = await nextJson(ws, () => ws.send(JSON.stringify({ id: 3, subscribe: { type: 'commands' } })));
    assert.ok(cmdSub.result.subscriptionId);
    const state = await nextJson(ws, () => void h.commands.send({ tenantId: T, deviceId: d.deviceId, method: 'later', persistent: true }));
    assert.equal(state.type, 'commands');
    assert.equal(state.data.status, 'QUEUED');
    const foreign = await h.device('ws-theirs', { tenantId: OTHER_TENANT });
    const refused = await nextJson(ws, () => ws.send(JSON.stringify({ id: 4, subscribe: { type: 'status', deviceId: foreign.deviceId } })));
    assert.equal(refused.error.code, 'DEVICE_NOT_FOUND');
    const invalid = await nextJson(ws, () => ws.send(JSON.stringify({ id: 5, subscribe: { type: 'weather' } })));
    assert.equal(invalid.error.code, 'BAD_REQUEST');
    const unsub = await nextJson(ws, () => ws.send(JSON.stringify({ id: 6, unsubscribe: subscriptionId })));
    assert.deepEqual(unsub, { id: 6, result: {} });
    ws.close();
    await until(() => ws.readyState === WebSocket.CLOSED);
  });

  it('regression: the live WebSocket takes the session token in the URL, where logs and proxies keep it', async () => {
    const ws = new WebSocket(`${url.replace('http', 'ws')}/api/ws?token=${encodeURIComponent(token)}`);
    // The first thing the server does: close with a reason (the old code answered {authenticated: true}).
    const first = await new Promise<unknown>((resolve) => {
      ws.once('message', (data) => resolve({ message: JSON.parse(data.toString()) }));
      ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    assert.deepEqual(first, { code: 4400, reason: 'token in the URL is refused: send subprotocol bearer.<token> or a first message' });
    ws.terminate();
  });

  it('WebSocket authenticates with subprotocols continuum.v1 + bearer.<JWT or API key>, answering continuum.v1', async () => {
    const d = await h.device('ws-subprotocol');
    const key = await call('POST', '/api/auth/api-keys', { name: 'live' });
    assert.equal(key.status, 201, JSON.stringify(key.body));
    for (const credential of [token, key.body.key as string]) {
      const ws = new WebSocket(`${url.replace('http', 'ws')}/api/ws`, ['continuum.v1', `bearer.${credential}`]);
      const authed = await nextJson(ws, () => undefined);
      assert.deepEqual(authed, { result: { authenticated: true } });
      // The credential is never echoed back in the handshake.
      assert.equal(ws.protocol, 'continuum.v1');
      const sub = await nextJson(ws, () => ws.send(JSON.stringify({ id: 1, subscribe: { type: 'telemetry', deviceId: d.deviceId } })));
      assert.ok(sub.result.subscriptionId, JSON.stringify(sub));
      ws.close();
      await until(() => ws.readyState === WebSocket.CLOSED);
    }
    // Without a protocol to answer, the server answers none: the client fails the handshake.
    const only = new WebSocket(`${url.replace('http', 'ws')}/api/ws`, [`bearer.${token}`]);
    const failure = await new Promise<Error>((resolve) => only.once('error', resolve));
    assert.match(failure.message, /subprotocol/i);
  });
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test-only
function nextJson(ws: WebSocket, action: () => void): Promise<any> {
  return new Promise((resolve, reject) => {
    const onMessage = (data: WebSocket.RawData): void => {
      ws.off('message', onMessage);
      resolve(JSON.parse(data.toString()));
    };
    ws.on('message', onMessage);
    ws.once('error', reject);
    if (ws.readyState === WebSocket.OPEN) action();
    else ws.once('open', action);
  });
}
