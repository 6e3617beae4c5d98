/** A live WebSocket ends when the session that opened it is revoked (issue 12, item 6). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { apiClient, startTestPlatform, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
before(async () => {
  tp = await startTestPlatform();
});
after(async () => {
  await tp.stop();
});

async function signIn(email: string, password: string): Promise<string> {
  const res = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  return ((await res.json()) as { token: string }).token;
}

function open(token: string): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(`${tp.baseUrl.replace('http', 'ws')}/api/ws`, ['continuum.v1', `bearer.${token}`]);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve, reject) => {
    ws.once('message', () => resolve({ ws, closed }));
    ws.once('error', reject);
  });
}

test("regression: a deleted user's open live WebSocket keeps receiving the tenant's events", async () => {
  const created = await tp.api.request<{ id: string }>('POST', '/api/users', { email: 'watcher@test.local', password: 'watcher-password-1', role: 'user' });
  assert.equal(created.status, 201);
  const { ws, closed } = await open(await signIn('watcher@test.local', 'watcher-password-1'));
  assert.equal(ws.readyState, WebSocket.OPEN);
  assert.equal((await tp.api.request('DELETE', `/api/users/${created.body.id}`)).status, 204);
  assert.deepEqual(await closed, { code: 4401, reason: 'session revoked' });
});

test('logging out ends the live WebSocket opened with that session', async () => {
  await tp.api.request('POST', '/api/users', { email: 'leaver@test.local', password: 'leaver-password-1', role: 'user' });
  const token = await signIn('leaver@test.local', 'leaver-password-1');
  const { closed } = await open(token);
  const leaver = await apiClient(tp.baseUrl, { email: 'leaver@test.local', password: 'leaver-password-1' });
  // Logout revokes every token of the user, the WebSocket's included.
  assert.equal((await leaver.request('POST', '/api/auth/logout')).status, 204);
  assert.equal((await closed).code, 4401);
});
