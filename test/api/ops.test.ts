import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sameSecret } from '../../src/api/metrics-access.js';
import { METRICS_TOKEN, startTestApi, type TestApi } from './helpers.js';

describe('management API: operations and documentation', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi({ maxBodyBytes: 4096 });
  });
  after(() => api.close());

  it('answers health and readiness without authentication', async () => {
    const health = await fetch(`${api.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    assert.equal((await fetch(`${api.url}/readyz`)).status, 200);
    api.ready = false;
    assert.equal((await fetch(`${api.url}/readyz`)).status, 503);
    api.ready = true;
  });

  it('regression: /metrics is open to everyone', async () => {
    const anonymous = await fetch(`${api.url}/metrics`);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.headers.get('www-authenticate'), 'Bearer realm="metrics"');
    assert.equal((await anonymous.json()).error, 'UNAUTHORIZED');
    assert.equal((await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } })).status, 401, 'a wrong token');
    assert.equal((await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN.slice(0, -1)}` } })).status, 401, 'a prefix of the token');
    const operator = await api.auth.createUser({ email: 'operator@example.com', password: 'operator password 1', role: 'user' });
    const operatorJwt = (await api.auth.issueToken(operator)).token;
    const forbidden = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${operatorJwt}` } });
    assert.equal(forbidden.status, 403, 'an operator is not an admin');
    assert.equal((await fetch(`${api.url}/metrics`, { headers: { authorization: `bearer ${METRICS_TOKEN}` } })).status, 200, 'the scraper token');
    assert.equal((await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${api.token}` } })).status, 200, "an admin's JWT");
    const admin = await api.store.findUserByEmail('admin@example.com');
    const key = (await api.auth.createApiKey(admin?.id ?? '', 'scraper')).key;
    assert.equal((await fetch(`${api.url}/metrics`, { headers: { 'x-api-key': key } })).status, 200, "an admin's API key");
  });

  it('compares the metrics token through equal-length digests (timingSafeEqual never sees the lengths differ)', () => {
    assert.equal(sameSecret(METRICS_TOKEN, METRICS_TOKEN), true);
    assert.equal(sameSecret('', METRICS_TOKEN), false);
    assert.equal(sameSecret(METRICS_TOKEN + 'x'.repeat(1000), METRICS_TOKEN), false);
  });

  it('serves /metrics anonymously only when metrics.public is set; without a token admins still can', async () => {
    const open = await startTestApi({ metricsAccess: { public: true } });
    const closed = await startTestApi({ metricsAccess: { public: false } });
    try {
      assert.equal((await fetch(`${open.url}/metrics`)).status, 200);
      assert.equal((await fetch(`${closed.url}/metrics`)).status, 401);
      assert.equal((await fetch(`${closed.url}/metrics`, { headers: { authorization: 'Bearer anything-at-all-long-enough' } })).status, 401, 'no token configured: no token accepted');
      assert.equal((await fetch(`${closed.url}/metrics`, { headers: { authorization: `Bearer ${closed.token}` } })).status, 200);
    } finally {
      await open.close();
      await closed.close();
    }
  });

  it('serves Prometheus metrics', async () => {
    api.metrics.messageIn('mqtt', 'telemetry');
    api.metrics.messageIn('mqtt', 'telemetry');
    api.metrics.reject('coap', 'UNAUTHORIZED');
    api.metrics.connections('mqtt', 3);
    api.metrics.storeCommit(500, 0.004);
    const res = await fetch(`${api.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /continuum_messages_in_total\{transport="mqtt",kind="telemetry"\} 2/);
    assert.match(text, /continuum_rejects_total\{transport="coap",reason="UNAUTHORIZED"\} 1/);
    assert.match(text, /continuum_connections\{transport="mqtt"\} 3/);
    assert.match(text, /continuum_store_rows_total 500/);
    assert.match(text, /continuum_store_commit_seconds_count 1/);
    assert.match(text, /process_cpu_user_seconds_total/);
  });

  it('lists every route in /api/openapi.json and serves /api/docs', async () => {
    const res = await fetch(`${api.url}/api/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    assert.match(doc.openapi, /^3\./);
    const routes = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    for (const route of [
      'POST /api/auth/login',
      'GET /api/auth/me',
      'POST /api/auth/api-keys',
      'POST /api/devices',
      'GET /api/devices',
      'GET /api/devices/{id}',
      'PATCH /api/devices/{id}',
      'DELETE /api/devices/{id}',
      'GET /api/devices/{id}/credentials',
      'PUT /api/devices/{id}/credentials',
      'POST /api/devices/import',
      'POST /api/profiles',
      'GET /api/profiles',
      'GET /api/profiles/{id}',
      'GET /api/devices/{id}/telemetry',
      'GET /api/devices/{id}/telemetry/latest',
      'GET /api/devices/{id}/telemetry/keys',
      'GET /api/devices/{id}/forecast',
      'GET /api/devices/{id}/attributes',
      'POST /api/devices/{id}/attributes/{scope}',
      'DELETE /api/devices/{id}/attributes/{scope}',
      'GET /api/devices/{id}/status',
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
    ]) {
      assert.ok(routes.includes(route), `${route} missing from ${routes.join(', ')}`);
    }
    assert.ok(!routes.some((r) => r.includes('/api/docs')), 'docs routes are hidden');
    assert.ok(doc.components.schemas.Device);
    assert.ok(doc.components.schemas.Error);
    const docs = await fetch(`${api.url}/api/docs`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
  });

  it('answers JSON errors for unknown routes and oversized bodies', async () => {
    const missing = await api.call('GET', '/api/nothing-here');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'NOT_FOUND');
    const big = await api.call('POST', '/api/devices', { name: 'x', label: 'y'.repeat(10_000) });
    assert.equal(big.status, 413);
    assert.equal(big.body.error, 'PAYLOAD_TOO_LARGE');
  });

  it('echoes a request id', async () => {
    const res = await fetch(`${api.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(res.headers.get('x-request-id'), 'abc-123');
    const generated = await fetch(`${api.url}/healthz`);
    assert.match(generated.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });
});
