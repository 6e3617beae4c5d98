/**
 * The Prometheus-compatible read API for Grafana (issue 18 item 9): range and instant queries over
 * telemetry with an API key as bearer token, Prometheus's JSON shapes, bad_data for what it does
 * not support, and the caller's tenant only.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestPlatform, type TestPlatform } from '../support/platform.js';

const T0 = 1_700_000_000_000; // a whole minute

describe('Prometheus API for Grafana', () => {
  let p: TestPlatform;
  let key: string;
  let keyB: string;
  async function prom(path: string, bearer = key): Promise<{ status: number; body: { status: string; errorType?: string; error?: string; data?: { resultType: string; result: { metric: Record<string, string>; values?: [number, string][]; value?: [number, string] }[] } } }> {
    const res = await fetch(`${p.baseUrl}/api/prom/api/v1/${path}`, { headers: bearer ? { authorization: `Bearer ${bearer}` } : {} });
    return { status: res.status, body: (await res.json()) as never };
  }
  const q = (query: string) => encodeURIComponent(query);

  before(async () => {
    p = await startTestPlatform();
    const device = await p.api.createDevice('boiler 1');
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${p.baseUrl}/api/v1/${device.accessToken}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ts: T0 + i * 30_000, values: { temperature: 20 + i, state: 'ok' } }) });
      assert.equal(res.status, 200);
    }
    key = (await p.api.request<{ key: string }>('POST', '/api/auth/api-keys', { name: 'grafana', role: 'viewer' })).body.key;
    const tenant = await p.api.request<{ id: string }>('POST', '/api/tenants', { name: 'Grafana B' });
    const admin = { email: 'prom-b@test.local', password: 'prom-b-password-1' };
    await p.api.request('POST', `/api/tenants/${tenant.body.id}/users`, { ...admin, role: 'tenant-admin' });
    const b = await apiClient(p.baseUrl, admin);
    keyB = (await b.request<{ key: string }>('POST', '/api/auth/api-keys', { name: 'grafana-b' })).body.key;
  });
  after(async () => {
    await p.stop();
  });

  it('query_range: one series, each step the average of the points in the step before it, times in seconds and values as strings', async () => {
    const res = await prom(`query_range?query=${q('temperature{device="boiler 1"}')}&start=${T0 / 1000}&end=${(T0 + 120_000) / 1000}&step=60`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.data?.resultType, 'matrix');
    const [series] = res.body.data?.result ?? [];
    assert.deepEqual(series?.metric.__name__, 'temperature');
    assert.equal(series?.metric.device, 'boiler 1');
    // t0: the point at t0 (20); t0+60 s: 30 s (21) and 60 s (22); t0+120 s: 90 s (23) and 120 s (24).
    assert.deepEqual(series?.values, [[T0 / 1000, '20'], [(T0 + 60_000) / 1000, '21.5'], [(T0 + 120_000) / 1000, '23.5']]);
    // RFC 3339 times and duration steps as Grafana may send them.
    const iso = await prom(`query_range?query=${q('{__name__="temperature",device="boiler 1"}')}&start=${new Date(T0).toISOString()}&end=${new Date(T0 + 60_000).toISOString()}&step=1m`);
    assert.equal(iso.body.data?.result[0]?.values?.length, 2);
  });

  it('query: the latest value at the time, looking back 5 minutes', async () => {
    const res = await prom(`query?query=${q('temperature{device="boiler 1"}')}&time=${(T0 + 100_000) / 1000}`);
    assert.deepEqual(res.body.data?.result[0]?.value, [(T0 + 100_000) / 1000, '23']);
    const stale = await prom(`query?query=${q('temperature{device="boiler 1"}')}&time=${(T0 + 3_600_000) / 1000}`);
    assert.deepEqual(stale.body.data?.result, []);
  });

  it('bad_data for what is not a supported selector; 401 without a credential; another tenant sees no series', async () => {
    for (const query of ['rate(temperature{device="boiler 1"}[5m])', 'temperature{device=~"boiler.*"}', 'temperature', 'temperature{device="x"', '{device="boiler 1"}']) {
      const res = await prom(`query_range?query=${q(query)}&start=${T0 / 1000}&end=${(T0 + 60_000) / 1000}&step=60`);
      assert.deepEqual([res.status, res.body.status, res.body.errorType], [400, 'error', 'bad_data'], query);
    }
    const tooMany = await prom(`query_range?query=${q('temperature{device="boiler 1"}')}&start=0&end=${T0 / 1000}&step=1`);
    assert.equal(tooMany.status, 400);
    assert.equal((await prom(`query?query=${q('temperature{device="boiler 1"}')}`, '')).status, 401);
    const other = await prom(`query_range?query=${q('temperature{device="boiler 1"}')}&start=${T0 / 1000}&end=${(T0 + 120_000) / 1000}&step=60`, keyB);
    assert.deepEqual([other.status, other.body.data?.result], [200, []]);
  });
});
