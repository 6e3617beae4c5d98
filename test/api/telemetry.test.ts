import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PlatformError } from '../../src/domain/errors.js';
import type { RpcApi } from '../../src/api/deps.js';
import { startTestApi, type TestApi } from './helpers.js';

describe('management API: telemetry, attributes, RPC', () => {
  let api: TestApi;
  let deviceId: string;
  const rpcCalls: Parameters<RpcApi['call']>[0][] = [];
  const rpc: RpcApi = {
    async call(req) {
      rpcCalls.push(req);
      if (req.method === 'slow') throw new PlatformError('RPC_TIMEOUT');
      if (req.method === 'away') throw new PlatformError('DEVICE_OFFLINE');
      return req.oneway ? undefined : { echo: req.params };
    },
  };

  before(async () => {
    api = await startTestApi({ rpc });
    deviceId = (await api.call('POST', '/api/devices', { name: 'sensor' })).body.id;
    const rows = [];
    for (let i = 0; i < 10; i++) {
      rows.push({ deviceId, key: 'temp', ts: 1000 + i * 100, value: 20 + i });
      rows.push({ deviceId, key: 'hum', ts: 1000 + i * 100, value: 50 });
    }
    rows.push({ deviceId, key: 'state', ts: 1500, value: 'on' });
    await api.store.appendTelemetry(rows);
  });
  after(() => api.close());

  it('returns raw points per key, newest first by default', async () => {
    const res = await api.call('GET', `/api/devices/${deviceId}/telemetry?keys=temp,hum&from=1000&to=1300&limit=2`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      temp: [
        { ts: 1300, value: 23 },
        { ts: 1200, value: 22 },
      ],
      hum: [
        { ts: 1300, value: 50 },
        { ts: 1200, value: 50 },
      ],
    });
    const asc = await api.call('GET', `/api/devices/${deviceId}/telemetry?keys=temp&from=1000&to=1100&order=asc`);
    assert.deepEqual(asc.body, { temp: [{ ts: 1000, value: 20 }, { ts: 1100, value: 21 }] });
  });

  it('reads every key when keys is absent', async () => {
    const res = await api.call('GET', `/api/devices/${deviceId}/telemetry`);
    assert.deepEqual(Object.keys(res.body).sort(), ['hum', 'state', 'temp']);
    assert.equal(res.body.temp.length, 10);
    assert.deepEqual(res.body.state, [{ ts: 1500, value: 'on' }]);
  });

  it('aggregates in buckets', async () => {
    const res = await api.call('GET', `/api/devices/${deviceId}/telemetry?keys=temp&from=1000&to=1999&interval=500&agg=max`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { temp: [{ ts: 1000, value: 24 }, { ts: 1500, value: 29 }] });
    const count = await api.call('GET', `/api/devices/${deviceId}/telemetry?keys=temp&from=1000&to=1999&interval=1000&agg=count`);
    assert.deepEqual(count.body, { temp: [{ ts: 1000, value: 10 }] });
  });

  it('rejects bad ranges and too many buckets', async () => {
    const tooMany = await api.call('GET', `/api/devices/${deviceId}/telemetry?keys=temp&from=0&to=100000000&interval=1`);
    assert.equal(tooMany.status, 400);
    assert.match(tooMany.body.message, /buckets/);
    assert.equal((await api.call('GET', `/api/devices/${deviceId}/telemetry?from=10&to=5`)).status, 400);
    assert.equal((await api.call('GET', `/api/devices/${deviceId}/telemetry?agg=avg`)).status, 400);
    assert.equal((await api.call('GET', `/api/devices/${deviceId}/telemetry?interval=0`)).status, 400);
    assert.equal((await api.call('GET', `/api/devices/${deviceId}/telemetry?agg=median&interval=10`)).status, 400);
    assert.equal((await api.call('GET', '/api/devices/nope/telemetry')).status, 404);
  });

  it('returns latest values and keys', async () => {
    const latest = await api.call('GET', `/api/devices/${deviceId}/telemetry/latest`);
    assert.deepEqual(latest.body, { temp: { ts: 1900, value: 29 }, hum: { ts: 1900, value: 50 }, state: { ts: 1500, value: 'on' } });
    const some = await api.call('GET', `/api/devices/${deviceId}/telemetry/latest?keys=state`);
    assert.deepEqual(some.body, { state: { ts: 1500, value: 'on' } });
    const keys = await api.call('GET', `/api/devices/${deviceId}/telemetry/keys`);
    assert.deepEqual(keys.body, ['hum', 'state', 'temp']);
  });

  it('writes shared and server attributes through the AttributeApi, never client ones', async () => {
    const res = await api.call('POST', `/api/devices/${deviceId}/attributes/shared`, { targetTemp: 21.5, mode: { eco: true } });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {});
    assert.deepEqual(api.attributes.calls.at(-1), {
      op: 'set',
      tenantId: (await api.registry.getDevice(deviceId))?.tenantId,
      deviceId,
      scope: 'shared',
      arg: { targetTemp: 21.5, mode: { eco: true } },
    });
    assert.equal((await api.call('POST', `/api/devices/${deviceId}/attributes/server`, { note: 'x' })).status, 200);
    const client = await api.call('POST', `/api/devices/${deviceId}/attributes/client`, { a: 1 });
    assert.equal(client.status, 400);
    assert.equal(client.body.path, 'params.scope');
    assert.equal((await api.call('POST', `/api/devices/${deviceId}/attributes/shared`, {})).status, 400);

    const all = await api.call('GET', `/api/devices/${deviceId}/attributes`);
    assert.deepEqual(all.body, {
      client: {},
      shared: { targetTemp: { value: 21.5, lastUpdateTs: api.clock.now() }, mode: { value: { eco: true }, lastUpdateTs: api.clock.now() } },
      server: { note: { value: 'x', lastUpdateTs: api.clock.now() } },
    });
    const shared = await api.call('GET', `/api/devices/${deviceId}/attributes?scope=shared&keys=mode`);
    assert.deepEqual(shared.body, { shared: { mode: { value: { eco: true }, lastUpdateTs: api.clock.now() } } });

    const del = await api.call('DELETE', `/api/devices/${deviceId}/attributes/shared?keys=mode,targetTemp`);
    assert.equal(del.status, 200);
    assert.deepEqual(api.attributes.calls.at(-1)?.arg, ['mode', 'targetTemp']);
  });

  it('calls RPC and maps timeouts and offline devices', async () => {
    const ok = await api.call('POST', `/api/devices/${deviceId}/rpc`, { method: 'getState', params: { a: 1 }, timeoutMs: 5000 });
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { response: { echo: { a: 1 } } });
    assert.equal(rpcCalls.at(-1)?.timeoutMs, 5000);
    const oneway = await api.call('POST', `/api/devices/${deviceId}/rpc`, { method: 'blink', oneway: true });
    assert.deepEqual(oneway.body, { response: null });
    const slow = await api.call('POST', `/api/devices/${deviceId}/rpc`, { method: 'slow' });
    assert.equal(slow.status, 408);
    assert.equal(slow.body.error, 'RPC_TIMEOUT');
    const away = await api.call('POST', `/api/devices/${deviceId}/rpc`, { method: 'away' });
    assert.equal(away.status, 409);
    assert.equal(away.body.error, 'DEVICE_OFFLINE');
  });
});
