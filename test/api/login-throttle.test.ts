/**
 * Brute force against POST /api/auth/login (issue 12 item 7): repeated failures answer 429 with
 * Retry-After before the 30th attempt, the lockout is in the audit log, and hashing stays bounded.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, startTestPlatform, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;

before(async () => {
  tp = await startTestPlatform();
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'victim@test.local', password: 'victim-password-1', role: 'user' })).status, 201);
});
after(async () => {
  await tp.stop();
});

const attempt = (email: string, password: string) =>
  fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });

test('regression: 40 wrong passwords get no 429', async () => {
  const statuses: number[] = [];
  let retryAfter: string | null = null;
  for (let i = 0; i < 40; i++) {
    const res = await attempt('victim@test.local', `wrong-password-${i}`);
    statuses.push(res.status);
    if (res.status === 429) {
      retryAfter ??= res.headers.get('retry-after');
      const body = (await res.json()) as { error: string; message: string };
      assert.equal(body.error, 'RATE_LIMITED');
      assert.match(body.message, /too many failed sign-ins/);
    } else await res.text();
  }
  const first429 = statuses.indexOf(429);
  assert.ok(first429 >= 0 && first429 < 29, `429 before the 30th attempt (statuses ${statuses.join(',')})`);
  assert.ok(statuses.slice(0, first429).every((s) => s === 401));
  assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 900, `Retry-After ${retryAfter}`);
  // The right password is refused too while the account is locked.
  assert.equal((await attempt('victim@test.local', 'victim-password-1')).status, 429);
  // The lockout is recorded for the admins, with the address.
  const audit = await tp.api.request<{ items: { action: string; actorName: string; address: string; outcome: string }[] }>('GET', '/api/audit?action=auth.lockout');
  const [lockout] = audit.body.items;
  assert.ok(lockout, 'auth.lockout recorded');
  assert.deepEqual([lockout.actorName, lockout.outcome], ['victim@test.local', 'denied']);
  assert.match(lockout.address, /127\.0\.0\.1/);
  // Attempts refused while locked cost no hashing and count no further failures against the
  // address: another account still signs in from it.
  assert.equal((await attempt(ADMIN.email, ADMIN.password)).status, 200);
});

test('many concurrent sign-ins: hashing is bounded, the surplus gets 503 with Retry-After', async () => {
  const small = await startTestPlatform({
    config: { auth: { adminEmail: ADMIN.email, adminPassword: ADMIN.password, jwtTtlSeconds: 3600, passwordHashCost: 16384, passwordHashConcurrency: 1 } },
  });
  try {
    const answers = await Promise.all(
      Array.from({ length: 40 }, async () => {
        const res = await fetch(`${small.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
        await res.text();
        return { status: res.status, retryAfter: res.headers.get('retry-after') };
      }),
    );
    const refused = answers.filter((a) => a.status === 503);
    assert.ok(refused.length > 0, 'some are refused at once');
    assert.ok(refused.every((a) => a.retryAfter === '1'));
    assert.ok(answers.filter((a) => a.status === 200).length >= 9, 'one running and eight queued get through');
    assert.ok(answers.every((a) => a.status === 200 || a.status === 503));
  } finally {
    await small.stop();
  }
});
