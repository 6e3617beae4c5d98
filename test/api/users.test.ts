/**
 * Users and revocation over the real API (issue 12 item 6 and the contract): GET/POST/PATCH/DELETE
 * /api/users, logout, own password change, API keys listed, deleted and expiring. Every change
 * takes effect on the next request with an older token.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sha256Hex } from '../../src/services/auth-secrets.js';
import { ADMIN, startTestPlatform, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;

interface Res<T = Record<string, unknown>> {
  status: number;
  body: T;
}

async function send<T = Record<string, unknown>>(credential: { token?: string; key?: string }, method: string, path: string, body?: unknown): Promise<Res<T>> {
  const res = await fetch(`${tp.baseUrl}${path}`, {
    method,
    headers: {
      ...(credential.token ? { authorization: `Bearer ${credential.token}` } : {}),
      ...(credential.key ? { 'x-api-key': credential.key } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

async function login(email: string, password: string): Promise<string> {
  const res = await send<{ token: string }>({}, 'POST', '/api/auth/login', { email, password });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.token;
}

let admin: string;
let seq = 0;

/** A fresh user with a token and an API key. */
async function newUser(role: 'user' | 'admin' = 'user') {
  const email = `u${++seq}@test.local`;
  const password = `password-of-${email}`;
  const created = await send<{ id: string }>({ token: admin }, 'POST', '/api/users', { email, password, role });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const token = await login(email, password);
  const key = (await send<{ key: string }>({ token }, 'POST', '/api/auth/api-keys', { name: 'laptop' })).body.key;
  return { id: created.body.id, email, password, token, key };
}

before(async () => {
  tp = await startTestPlatform();
  admin = await login(ADMIN.email, ADMIN.password);
});
after(async () => {
  await tp.stop();
});

describe('user administration', () => {
  test('POST /api/users answers 201 with the user; GET /api/users lists the tenant without password hashes', async () => {
    const created = await send({ token: admin }, 'POST', '/api/users', { email: 'Listed@Test.local', password: 'listed-password-1', role: 'user' });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.body).sort(), ['createdAt', 'disabled', 'email', 'id', 'role', 'tenantId']);
    assert.equal(created.body.email, 'listed@test.local');
    const list = await send<Record<string, unknown>[]>({ token: admin }, 'GET', '/api/users');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.map((u) => u.email).slice(0, 1), [ADMIN.email]);
    assert.ok(list.body.some((u) => u.id === created.body.id));
    assert.ok(!JSON.stringify(list.body).includes('scrypt'), 'no password hash in the answer');
    assert.ok(list.body.every((u) => !('passwordHash' in u) && !('tokenVersion' in u)));
  });

  test("regression: a deleted user's JWT keeps working", async () => {
    const u = await newUser();
    assert.equal((await send(u, 'GET', '/api/devices')).status, 200);
    assert.equal((await send({ token: admin }, 'DELETE', `/api/users/${u.id}`)).status, 204);
    assert.equal((await send({ token: u.token }, 'GET', '/api/devices')).status, 401);
    assert.equal((await send({ key: u.key }, 'GET', '/api/devices')).status, 401);
    assert.equal((await send({ token: admin }, 'DELETE', `/api/users/${u.id}`)).status, 404);
  });

  test('a disabled user gets 401 with its token and its API key, and cannot sign in', async () => {
    const u = await newUser();
    const patched = await send({ token: admin }, 'PATCH', `/api/users/${u.id}`, { disabled: true });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.disabled, true);
    assert.equal((await send({ token: u.token }, 'GET', '/api/auth/me')).status, 401);
    assert.equal((await send({ key: u.key }, 'GET', '/api/auth/me')).status, 401);
    assert.equal((await send({}, 'POST', '/api/auth/login', { email: u.email, password: u.password })).status, 401);
    assert.equal((await send({ token: admin }, 'PATCH', `/api/users/${u.id}`, { disabled: false })).status, 200);
    assert.equal((await send({ key: u.key }, 'GET', '/api/auth/me')).status, 200);
  });

  test('a role change takes effect on the next request: the demoted admin gets 403 (API key) and 401 (old token)', async () => {
    const u = await newUser('admin');
    assert.equal((await send({ key: u.key }, 'POST', '/api/devices', { name: 'made-by-admin' })).status, 201);
    assert.equal((await send({ token: admin }, 'PATCH', `/api/users/${u.id}`, { role: 'user' })).status, 200);
    const denied = await send({ key: u.key }, 'POST', '/api/devices', { name: 'made-by-operator' });
    assert.equal(denied.status, 403);
    assert.match(String(denied.body.message), /needs the permission devices:write, which the role operator does not have/);
    assert.equal((await send({ token: u.token }, 'GET', '/api/devices')).status, 401);
    const fresh = await login(u.email, u.password);
    assert.equal((await send<{ role: string }>({ token: fresh }, 'GET', '/api/auth/me')).body.role, 'operator');
  });

  test('an admin resets a password: the policy applies, the old password and tokens stop working', async () => {
    const u = await newUser();
    const weak = await send({ token: admin }, 'PATCH', `/api/users/${u.id}`, { password: 'short' });
    assert.equal(weak.status, 400);
    assert.match(String(weak.body.message), /at least 12 characters/);
    assert.equal((await send({ token: admin }, 'PATCH', `/api/users/${u.id}`, { password: 'set-by-the-admin-1' })).status, 200);
    assert.equal((await send({ token: u.token }, 'GET', '/api/devices')).status, 401);
    assert.equal((await send({}, 'POST', '/api/auth/login', { email: u.email, password: u.password })).status, 401);
    await login(u.email, 'set-by-the-admin-1');
  });

  test("the tenant's last enabled admin cannot be deleted, demoted or disabled (409)", async () => {
    const me = await send<{ id: string }>({ token: admin }, 'GET', '/api/auth/me');
    // Other admins made by earlier tests are demoted or deleted first.
    const users = (await send<{ id: string; role: string }[]>({ token: admin }, 'GET', '/api/users')).body;
    for (const u of users) if ((u.role === 'tenant-admin' || u.role === 'sysadmin') && u.id !== me.body.id) assert.equal((await send({ token: admin }, 'DELETE', `/api/users/${u.id}`)).status, 204);
    for (const [method, body] of [['PATCH', { role: 'user' }], ['PATCH', { disabled: true }], ['DELETE', undefined]] as const) {
      const res = await send({ token: admin }, method, `/api/users/${me.body.id}`, body);
      assert.equal(res.status, 409, method);
      assert.match(String(res.body.message), /last enabled admin/);
    }
    assert.equal((await send({ token: admin }, 'GET', '/api/devices')).status, 200, 'still an admin');
  });

  test('weak passwords are refused with the reason', async () => {
    for (const [password, reason] of [['eleven-char', /at least 12/], ['zzzzzzzzzzzzzz', /repeat/], ['weak@test.local', /e-mail/]] as const) {
      const res = await send({ token: admin }, 'POST', '/api/users', { email: 'weak@test.local', password });
      assert.equal(res.status, 400, password);
      assert.match(String(res.body.message), reason);
    }
  });
});

describe("the caller's own session", () => {
  test('logout revokes every token of the caller', async () => {
    const u = await newUser();
    const second = await login(u.email, u.password);
    assert.equal((await send({ token: u.token }, 'POST', '/api/auth/logout')).status, 204);
    assert.equal((await send({ token: u.token }, 'GET', '/api/devices')).status, 401);
    assert.equal((await send({ token: second }, 'GET', '/api/devices')).status, 401);
    assert.equal((await send({ key: u.key }, 'GET', '/api/devices')).status, 200, 'API keys are revoked one by one');
  });

  test('a password change revokes the other tokens and returns a new one', async () => {
    const u = await newUser();
    const other = await login(u.email, u.password);
    const wrong = await send({ token: u.token }, 'POST', '/api/auth/password', { currentPassword: 'not-my-password', newPassword: 'my-new-password-1' });
    assert.equal(wrong.status, 403);
    const changed = await send<{ token: string }>({ token: u.token }, 'POST', '/api/auth/password', { currentPassword: u.password, newPassword: 'my-new-password-1' });
    assert.equal(changed.status, 200);
    assert.equal((await send({ token: other }, 'GET', '/api/devices')).status, 401);
    assert.equal((await send({ token: u.token }, 'GET', '/api/devices')).status, 401);
    assert.equal((await send({ token: changed.body.token }, 'GET', '/api/devices')).status, 200);
    await login(u.email, 'my-new-password-1');
  });

  test('API keys: listed without the key, deleted ones and expired ones answer 401', async () => {
    const u = await newUser();
    const listed = await send<{ id: string; name: string }[]>({ token: u.token }, 'GET', '/api/auth/api-keys');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.map((k) => k.name), ['laptop']);
    assert.ok(!JSON.stringify(listed.body).includes(u.key));
    const id = listed.body[0]?.id ?? '';
    // An operator deletes its own key; an admin cannot delete it through its own key routes.
    assert.equal((await send({ token: admin }, 'DELETE', `/api/auth/api-keys/${id}`)).status, 404);
    assert.equal((await send({ token: u.token }, 'DELETE', `/api/auth/api-keys/${id}`)).status, 204);
    assert.equal((await send({ key: u.key }, 'GET', '/api/devices')).status, 401);

    const expiresAt = Date.now() + 3_600_000;
    const made = await send<{ key: string; expiresAt: number }>({ token: u.token }, 'POST', '/api/auth/api-keys', { name: 'ci', expiresAt });
    assert.equal(made.status, 201);
    assert.equal(made.body.expiresAt, expiresAt);
    assert.equal((await send({ key: made.body.key }, 'GET', '/api/devices')).status, 200);
    assert.equal((await send({ token: u.token }, 'POST', '/api/auth/api-keys', { name: 'past', expiresAt: Date.now() - 1000 })).status, 400);
    // A key whose time is up (written as the store holds it, an hour ago).
    const expired = `ck_${randomUUID().replace(/-/g, '')}`;
    await tp.platform.store.insertApiKey({ id: randomUUID(), userId: u.id, name: 'old', keyHash: sha256Hex(expired), createdAt: Date.now() - 7_200_000, expiresAt: Date.now() - 3_600_000 });
    const res = await send({ key: expired }, 'GET', '/api/devices');
    assert.equal(res.status, 401);
    assert.match(String(res.body.message), /expired/);
  });

  test('an operator uses its own password, logout and API key routes but no user administration', async () => {
    const u = await newUser();
    assert.equal((await send({ token: u.token }, 'GET', '/api/auth/api-keys')).status, 200);
    for (const [method, path, body] of [
      ['GET', '/api/users', undefined],
      ['POST', '/api/users', { email: 'x@test.local', password: 'operator-made-1' }],
      ['PATCH', `/api/users/${u.id}`, { role: 'admin' }],
      ['DELETE', `/api/users/${u.id}`, undefined],
    ] as const) {
      assert.equal((await send({ token: u.token }, method, path, body)).status, 403, `${method} ${path}`);
    }
    const changed = await send<{ token: string }>({ token: u.token }, 'POST', '/api/auth/password', { currentPassword: u.password, newPassword: 'operator-changed-1' });
    assert.equal(changed.status, 200);
    assert.equal((await send({ token: changed.body.token }, 'POST', '/api/auth/logout')).status, 204);
  });
});
