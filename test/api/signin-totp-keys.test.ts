/**
 * The TOTP second factor of local accounts (codes computed with otpauth, as an authenticator
 * app would) and API keys scoped to a role: the role ceiling at creation, the key's role on use,
 * expiry, and a key that stops working when its owner is demoted below it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as OTPAuth from 'otpauth';
import { DATABASE_FILE } from '../../src/apps/data-dir.js';
import { startTestPlatform, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
const PASSWORD = 'operator-password-1';

before(async () => {
  tp = await startTestPlatform();
});
after(() => tp.stop());

async function send(credential: { token?: string; key?: string }, method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
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
  return { status: res.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
}

async function newUser(email: string, role: string): Promise<{ id: string; token: string }> {
  const created = await tp.api.request<{ id: string }>('POST', '/api/users', { email, password: PASSWORD, role });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const login = await send({}, 'POST', '/api/auth/login', { email, password: PASSWORD });
  assert.equal(login.status, 200);
  return { id: created.body.id, token: login.body.token as string };
}

describe('TOTP second factor', () => {
  test('enrol, confirm, sign in with a code, refuse a wrong or replayed code, recovery codes once, remove', async () => {
    const email = 'totp@example.com';
    const { token } = await newUser(email, 'user');
    const enrolled = await send({ token }, 'POST', '/api/auth/totp/enroll');
    assert.equal(enrolled.status, 200);
    const uri = enrolled.body.uri as string;
    assert.match(uri, /^otpauth:\/\/totp\/Continuum:totp%40example\.com\?/);
    const totp = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(enrolled.body.secret as string) });

    // Sealed in the database, never the base32 secret itself.
    const db = new Database(join(tp.dataDir, DATABASE_FILE), { readonly: true });
    const stored = db.prepare('SELECT secret FROM user_totp').pluck().get() as string;
    db.close();
    assert.ok(!stored.includes(enrolled.body.secret as string));

    // Not active until confirmed: the password alone still signs in.
    assert.equal((await send({}, 'POST', '/api/auth/login', { email, password: PASSWORD })).status, 200);
    const wrong = totp.generate({ timestamp: Date.now() + 10 * 60_000 });
    assert.equal((await send({ token }, 'POST', '/api/auth/totp/confirm', { code: wrong })).status, 403);
    const confirmed = await send({ token }, 'POST', '/api/auth/totp/confirm', { code: totp.generate() });
    assert.equal(confirmed.status, 200);
    const recovery = confirmed.body.recoveryCodes as string[];
    assert.equal(recovery.length, 10);

    const noCode = await send({}, 'POST', '/api/auth/login', { email, password: PASSWORD });
    assert.equal(noCode.status, 401);
    assert.equal(noCode.body.error, 'SECOND_FACTOR_REQUIRED');
    const badCode = await send({}, 'POST', '/api/auth/login', { email, password: PASSWORD, totp: wrong });
    assert.equal(badCode.status, 401);
    assert.equal(badCode.body.error, 'SECOND_FACTOR_REQUIRED');
    // The confirming code's time step is used: the next step's code (one step of drift allowed) signs in once.
    const next = totp.generate({ timestamp: Date.now() + 30_000 });
    assert.equal((await send({}, 'POST', '/api/auth/login', { email, password: PASSWORD, totp: next })).status, 200);
    assert.equal((await send({}, 'POST', '/api/auth/login', { email, password: PASSWORD, totp: next })).body.error, 'SECOND_FACTOR_REQUIRED', 'a code works once');
    // A wrong password with a good code is still a wrong password.
    assert.equal((await send({}, 'POST', '/api/auth/login', { email, password: 'not-the-password', totp: recovery[1] })).body.error, 'UNAUTHORIZED');

    const withRecovery = await send({}, 'POST', '/api/auth/login', { email, password: PASSWORD, totp: recovery[0] });
    assert.equal(withRecovery.status, 200);
    assert.equal((await send({}, 'POST', '/api/auth/login', { email, password: PASSWORD, totp: recovery[0] })).status, 401, 'a recovery code works once');
    const session = withRecovery.body.token as string;
    assert.deepEqual((await send({ token: session }, 'GET', '/api/auth/totp')).body, { active: true, pending: false, recoveryCodesLeft: 9 });

    assert.equal((await send({ token: session }, 'DELETE', '/api/auth/totp', { password: 'not-the-password' })).status, 403);
    assert.equal((await send({ token: session }, 'DELETE', '/api/auth/totp', { password: PASSWORD })).status, 204);
    assert.equal((await send({}, 'POST', '/api/auth/login', { email, password: PASSWORD })).status, 200);
  });

  test('the TOTP routes need a signed-in caller', async () => {
    assert.equal((await send({}, 'POST', '/api/auth/totp/enroll')).status, 401);
    assert.equal((await send({}, 'POST', '/api/auth/totp/confirm', { code: '123456' })).status, 401);
    assert.equal((await send({}, 'DELETE', '/api/auth/totp', { password: 'x' })).status, 401);
  });
});

describe('API keys scoped to a role', () => {
  test('an operator cannot mint a tenant-admin key (403) but can mint operator and viewer keys', async () => {
    const op = await newUser('keys-op@example.com', 'user');
    assert.equal((await send({ token: op.token }, 'POST', '/api/auth/api-keys', { name: 'too high', role: 'tenant-admin' })).status, 403);
    assert.equal((await send({ token: op.token }, 'POST', '/api/auth/api-keys', { name: 'legacy too high', role: 'admin' })).status, 403);
    assert.equal((await send({ token: op.token }, 'POST', '/api/auth/api-keys', { name: 'not mine', role: 'customer-user' })).status, 403);
    const viewer = await send({ token: op.token }, 'POST', '/api/auth/api-keys', { name: 'read only', role: 'viewer', expiresInDays: 30 });
    assert.equal(viewer.status, 201);
    assert.equal(viewer.body.role, 'viewer');
    const key = viewer.body.key as string;
    // The key's role, not the owner's: reads yes, operating no.
    assert.equal((await send({ key }, 'GET', '/api/devices')).status, 200);
    const device = await tp.api.createDevice(`keys-${Date.now()}`);
    assert.equal((await send({ key }, 'POST', `/api/devices/${device.id}/commands`, { method: 'ping', params: {} })).status, 403);
    const list = await send({ token: op.token }, 'GET', '/api/auth/api-keys');
    const listed = (list.body as unknown as { name: string; role?: string; expiresAt?: number }[]).find((k) => k.name === 'read only');
    assert.equal(listed?.role, 'viewer');
    assert.ok(listed?.expiresAt && listed.expiresAt > Date.now() + 29 * 24 * 3600_000);
  });

  test('an expired key is refused', async () => {
    const op = await newUser('keys-exp@example.com', 'user');
    const created = await send({ token: op.token }, 'POST', '/api/auth/api-keys', { name: 'short', expiresAt: Date.now() + 300 });
    assert.equal(created.status, 201);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const res = await send({ key: created.body.key as string }, 'GET', '/api/devices');
    assert.equal(res.status, 401);
    assert.match(res.body.message as string, /expired/);
  });

  test("a key stops working when its owner is demoted below the key's role, and when the owner is disabled", async () => {
    const boss = await newUser('keys-boss@example.com', 'admin');
    const created = await send({ token: boss.token }, 'POST', '/api/auth/api-keys', { name: 'admin key', role: 'admin' });
    assert.equal(created.status, 201);
    assert.equal(created.body.role, 'tenant-admin', 'stored under its current name');
    const key = created.body.key as string;
    assert.equal((await send({ key }, 'GET', '/api/users')).status, 200);
    assert.equal((await tp.api.request('PATCH', `/api/users/${boss.id}`, { role: 'user' })).status, 200);
    assert.equal((await send({ key }, 'GET', '/api/devices')).status, 401);
    assert.equal((await tp.api.request('PATCH', `/api/users/${boss.id}`, { role: 'admin' })).status, 200);
    assert.equal((await send({ key }, 'GET', '/api/users')).status, 200);
    assert.equal((await tp.api.request('PATCH', `/api/users/${boss.id}`, { disabled: true })).status, 200);
    assert.equal((await send({ key }, 'GET', '/api/devices')).status, 401);
  });
});
