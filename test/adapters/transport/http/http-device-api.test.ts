/**
 * HTTP device API (ThingsBoard paths under /api/v1) driven by curl over loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { curl, curlMany, json, startHttp, type HttpHarness } from './helpers.js';

const JSON_CT = ['-H', 'Content-Type: application/json'];

describe('HTTP device API: requests', () => {
  let h: HttpHarness;
  before(async () => {
    h = await startHttp();
  });
  after(() => h.stop());

  it('answers a telemetry POST with 200 only after the commit', async () => {
    h.api.commitDelayMs = 150;
    const r = await curl(['-X', 'POST', ...JSON_CT, '-d', '{"temperature":25}', h.url('good/telemetry')]);
    h.api.commitDelayMs = 5;
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    assert.ok(r.ms >= 150, `answered after ${r.ms} ms`);
    const stored = h.api.published.at(-1);
    assert.deepEqual(
      { kind: stored?.kind, body: stored?.body, transport: stored?.transport, ct: stored?.contentType },
      { kind: 'telemetry', body: '{"temperature":25}', transport: 'http', ct: 'application/json' },
    );
  });

  it('takes any content type as raw bytes; only JSON and SenML JSON name a codec', async () => {
    assert.equal((await curl(['-d', '{"a":1}', h.url('good/telemetry')])).status, 200);
    assert.equal(h.api.published.at(-1)?.contentType, undefined, 'curl -d sends a form type: profile codec decides');
    assert.equal((await curl(['-H', 'Content-Type: application/senml+json; charset=utf-8', '-d', '[{"n":"t","v":1}]', h.url('good/telemetry')])).status, 200);
    assert.equal(h.api.published.at(-1)?.contentType, 'application/senml+json');
  });

  it('stores client attributes and returns requested keys', async () => {
    assert.equal((await curl(['-X', 'POST', ...JSON_CT, '-d', '{"fw":"2.0"}', h.url('good/attributes')])).status, 200);
    assert.equal(h.api.published.at(-1)?.kind, 'attributes');
    const r = await curl([h.url('good/attributes?clientKeys=fw,model&sharedKeys=mode')]);
    assert.equal(r.status, 200);
    assert.deepEqual(json(r), { client: { fw: '1.0', model: 'T1' }, shared: { mode: 'eco' } });
    assert.deepEqual(json(await curl([h.url('good/attributes?sharedKeys=interval')])), { shared: { interval: 30 } });
  });

  it('answers an unknown token with 401 and the catalogue body, counted and logged', async () => {
    const r = await curl(['-X', 'POST', ...JSON_CT, '-d', '{"a":1}', h.url('wrongtoken/telemetry')]);
    assert.equal(r.status, 401);
    assert.deepEqual(json(r), { error: 'UNAUTHORIZED', message: 'not authorized: unknown access token' });
    assert.ok(h.metrics.rejects.includes('http:UNAUTHORIZED'));
    assert.ok(h.logger.records.some((l) => l.level === 'warn' && (l.obj as { token?: string }).token === 'wron…'));
  });

  it('answers malformed JSON with 400', async () => {
    const r = await curl(['-X', 'POST', ...JSON_CT, '-d', '{"a":', h.url('good/telemetry')]);
    assert.equal(r.status, 400);
    assert.equal((json(r) as { error: string }).error, 'MALFORMED_PAYLOAD');
  });

  it('answers a body over limits.maxPayloadBytes with 413', async () => {
    const r = await curl(['-X', 'POST', ...JSON_CT, '--data-binary', JSON.stringify({ blob: 'x'.repeat(5000) }), h.url('good/telemetry')]);
    assert.equal(r.status, 413);
    assert.equal((json(r) as { error: string }).error, 'PAYLOAD_TOO_LARGE');
    assert.ok(h.metrics.rejects.includes('http:PAYLOAD_TOO_LARGE'));
  });

  it('answers wrong methods with 405', async () => {
    const r = await curl([h.url('good/telemetry')]);
    assert.equal(r.status, 405);
    assert.equal((json(r) as { error: string }).error, 'METHOD_NOT_ALLOWED');
  });

  it('answers client-side RPC with the result', async () => {
    const r = await curl(['-X', 'POST', ...JSON_CT, '-d', '{"method":"getTime","params":{}}', h.url('good/rpc')]);
    assert.equal(r.status, 200);
    assert.deepEqual(json(r), { time: 1_700_000_000_000, echo: {} });
    assert.equal((await curl(['-X', 'POST', ...JSON_CT, '-d', '{"method":"nope"}', h.url('good/rpc')])).status, 404);
    assert.equal((await curl(['-X', 'POST', ...JSON_CT, '-d', 'not json', h.url('good/rpc')])).status, 400);
  });

  it('provisions a device', async () => {
    const body = { deviceName: 'http-1', provisionDeviceKey: 'pk', provisionDeviceSecret: 'ps' };
    const r = await curl(['-X', 'POST', ...JSON_CT, '-d', JSON.stringify(body), h.url('provision')]);
    assert.equal(r.status, 200);
    assert.deepEqual(json(r), { status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'new-token' });
    const missing = await curl(['-X', 'POST', ...JSON_CT, '-d', '{"deviceName":"x"}', h.url('provision')]);
    assert.equal(missing.status, 400);
  });

  it('serves many requests over one kept-alive connection', async () => {
    const out = await curlMany(['-w', '%{http_code} %{num_connects}\\n', '-o', '/dev/null', ...JSON_CT, '-d', '{"k":1}', h.url('good/telemetry'), h.url('good/telemetry'), h.url('good/telemetry')]);
    assert.deepEqual(out.trim().split('\n'), ['200 1', '200 0', '200 0']);
  });
});
