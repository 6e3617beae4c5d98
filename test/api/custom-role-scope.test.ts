/**
 * A custom role's optional scope {customerId} (issue 15 item 3) narrows its users through the one
 * access hook (src/api/access.ts) like a customer user: lists hold the customer's devices only and
 * any other id answers 404, on REST and on the live WebSocket.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';
import { openLiveSocket } from '../support/live-socket.js';

let tp: TestPlatform;
let scoped: ApiClient;
let token: string;
let inside: { id: string };
let outside: { id: string };
const USER = { email: 'field@scope.test', password: 'scoped-password-1' };

before(async () => {
  tp = await startTestPlatform();
  const customer = await tp.api.request<{ id: string }>('POST', '/api/customers', { name: 'Route 7' });
  inside = await tp.api.createDevice('vending-7');
  outside = await tp.api.createDevice('vending-9');
  assert.equal((await tp.api.request('POST', `/api/customers/${customer.body.id}/devices`, { deviceIds: [inside.id] })).status, 204);
  const role = await tp.api.request<{ role: string }>('POST', '/api/roles', { name: 'route staff', permissions: ['devices:read', 'telemetry:read'], scope: { customerId: customer.body.id } });
  assert.equal(role.status, 201);
  assert.equal((await tp.api.request('POST', '/api/users', { ...USER, role: role.body.role })).status, 201);
  scoped = await apiClient(tp.baseUrl, USER);
  const login = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(USER) });
  token = ((await login.json()) as { token: string }).token;
});
after(async () => {
  await tp.stop();
});

test("a custom role scoped to a customer lists and reads that customer's devices only; other ids answer 404", async () => {
  const list = await scoped.request<{ items: { id: string }[] }>('GET', '/api/devices?limit=100&offset=0');
  assert.deepEqual(list.body.items.map((d) => d.id), [inside.id]);
  assert.equal((await scoped.request('GET', `/api/devices/${inside.id}`)).status, 200);
  assert.equal((await scoped.request('GET', `/api/devices/${outside.id}`)).status, 404);
  assert.equal((await scoped.request('GET', `/api/devices/${outside.id}/telemetry/latest`)).status, 404);
});

test('the same scope holds on the live WebSocket', async () => {
  const ws = await openLiveSocket(tp.baseUrl, token);
  const answer = (id: number, deviceId: string) => ws.subscribeTelemetry(id, deviceId);
  assert.ok('result' in (await answer(1, inside.id)));
  assert.ok('error' in (await answer(2, outside.id)));
  ws.close();
});
