/**
 * POST /api/auth/password checks the current password: wrong guesses count as failed sign-ins of
 * the account, so a stolen session cannot guess the password without limit.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiClient, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let session: ApiClient;

before(async () => {
  tp = await startTestPlatform();
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'holder@test.local', password: 'holder-password-1', role: 'user' })).status, 201);
  session = await apiClient(tp.baseUrl, { email: 'holder@test.local', password: 'holder-password-1' });
});
after(async () => {
  await tp.stop();
});

test('regression: POST /api/auth/password lets a stolen session guess the current password without limit', async () => {
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    const res = await session.request('POST', '/api/auth/password', { currentPassword: `guess-number-${i}-xx`, newPassword: 'taken-over-password-1' });
    statuses.push(res.status);
  }
  const first429 = statuses.indexOf(429);
  assert.ok(first429 > 0 && first429 <= 5, `429 after the account's failure budget (statuses ${statuses.join(',')})`);
  assert.ok(statuses.slice(0, first429).every((s) => s === 403));
  // The lockout is the account's: signing in is refused as well until it ends.
  const login = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'holder@test.local', password: 'holder-password-1' }) });
  assert.equal(login.status, 429);
  assert.ok(Number(login.headers.get('retry-after')) >= 1);
});
