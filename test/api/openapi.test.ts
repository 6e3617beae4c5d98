/**
 * The OpenAPI document of a whole platform (management API, device HTTP API, health) is usable by
 * client generators: every operation has a unique camelCase operationId, at least one tag and a
 * summary, and the device API's paths list only the methods they really answer (the 405 routes
 * for the other methods are not operations).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

interface Operation {
  operationId?: string;
  tags?: string[];
  summary?: string;
  security?: unknown[];
}
type Doc = { paths: Record<string, Record<string, Operation>> };

const METHODS = new Set(['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace']);

let tp: TestPlatform;
let doc: Doc;

before(async () => {
  tp = await startTestPlatform();
  const res = await fetch(`${tp.baseUrl}/api/openapi.json`);
  assert.equal(res.status, 200);
  doc = (await res.json()) as Doc;
});

after(async () => {
  await tp?.stop();
});

function operations(): { route: string; op: Operation }[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.has(method))
      .map(([method, op]) => ({ route: `${method.toUpperCase()} ${path}`, op })),
  );
}

test('every operation has a unique camelCase operationId, a tag and a summary', () => {
  const ops = operations();
  assert.ok(ops.length > 80, `the whole platform is documented (${ops.length} operations)`);
  const seen = new Map<string, string>();
  for (const { route, op } of ops) {
    assert.match(op.operationId ?? '', /^[a-z][a-zA-Z0-9]*$/, `${route}: operationId "${op.operationId ?? ''}"`);
    const id = op.operationId as string;
    assert.equal(seen.get(id), undefined, `${route}: operationId ${id} is also ${seen.get(id) ?? ''}`);
    seen.set(id, route);
    assert.ok(Array.isArray(op.tags) && op.tags.length > 0 && op.tags.every((t) => t.length > 0), `${route}: a tag`);
    assert.ok(typeof op.summary === 'string' && op.summary.trim().length > 0, `${route}: a summary`);
  }
});

test('operationIds are the stable names clients are generated with', () => {
  const byRoute = new Map(operations().map(({ route, op }) => [route, op.operationId]));
  for (const [route, id] of [
    ['GET /api/devices', 'listDevices'],
    ['GET /api/devices/{id}', 'getDevice'],
    ['POST /api/devices', 'createDevice'],
    ['POST /api/auth/login', 'login'],
    ['GET /api/dashboards/{id}', 'getDashboard'],
    ['POST /api/ota/deployments/{id}/pause', 'pauseDeployment'],
    ['POST /api/v1/{token}/telemetry', 'postDeviceTelemetry'],
  ]) {
    assert.equal(byRoute.get(route as string), id, route);
  }
});

test('the device API lists only its real methods, authenticated by the token in the path', async () => {
  const methods = (path: string): string[] => Object.keys(doc.paths[path] ?? {}).filter((m) => METHODS.has(m)).sort();
  assert.deepEqual(methods('/api/v1/{token}/telemetry'), ['post']);
  assert.deepEqual(methods('/api/v1/{token}/attributes'), ['get', 'post']);
  assert.deepEqual(methods('/api/v1/{token}/attributes/updates'), ['get']);
  assert.deepEqual(methods('/api/v1/{token}/rpc'), ['get', 'post']);
  assert.deepEqual(methods('/api/v1/{token}/rpc/{id}'), ['post']);
  assert.deepEqual(methods('/api/v1/{token}/firmware'), ['get']);
  assert.deepEqual(methods('/api/v1/{token}/software'), ['get']);
  assert.deepEqual(methods('/api/v1/provision'), ['post']);
  for (const { route, op } of operations().filter((o) => o.route.includes(' /api/v1/'))) {
    assert.deepEqual(op.tags, ['device-api'], route);
    assert.deepEqual(op.security, [], `${route}: no bearer/API key (the device token is in the path)`);
  }
  // Hidden from the document, the other methods still answer 405 with Allow.
  const res = await fetch(`${tp.baseUrl}/api/v1/some-token/telemetry`, { method: 'GET' });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'POST');
});
