import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import { isPlatformError, type PlatformError } from '../../src/domain/errors.js';
import type { Logger, User } from '../../src/ports.js';
import { AuthService, DEFAULT_ADMIN_EMAIL } from '../../src/services/auth.js';
import { hashSecret, sha256Hex, USER_SCRYPT_COST } from '../../src/services/auth-secrets.js';

const quiet: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };
const unauthorized = (e: unknown) => isPlatformError(e, 'UNAUTHORIZED');
const badRequest = (e: unknown) => isPlatformError(e, 'BAD_REQUEST');
const conflict = (e: unknown) => isPlatformError(e, 'CONFLICT');
const PW = 'a-good-password-1';

/** A logger that keeps warn lines, to assert that lockouts are logged. */
function recordingLogger(): Logger & { warnings: { obj: unknown; msg: string | undefined }[] } {
  const warnings: { obj: unknown; msg: string | undefined }[] = [];
  const logger = { ...quiet, warn: (obj: unknown, msg?: string) => void warnings.push({ obj, msg }), child: () => logger, warnings };
  return logger;
}

async function setup(opts: { cost?: number; concurrency?: number; maxQueued?: number; logger?: Logger } = {}) {
  const store = createMemoryStore();
  let now = 1_700_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const auth = new AuthService({
    store,
    clock,
    logger: opts.logger ?? quiet,
    jwtTtlSeconds: 3600,
    passwords: { cost: opts.cost ?? 1024, ...(opts.concurrency ? { concurrency: opts.concurrency } : {}), ...(opts.maxQueued !== undefined ? { maxQueued: opts.maxQueued } : {}) },
  });
  await store.ensureTenant({ id: DEFAULT_TENANT_ID, name: 'Default' });
  return { store, clock, auth };
}

async function withAdmin(opts: Parameters<typeof setup>[0] = {}) {
  const s = await setup(opts);
  await s.auth.ensureAdmin({ email: 'a@b.c', password: PW });
  const admin = (await s.store.findUserByEmail('a@b.c')) as User;
  return { ...s, admin };
}

describe('AuthService', () => {
  it('generates the first admin password once, then does nothing', async () => {
    const { auth } = await setup();
    const first = await auth.ensureAdmin();
    assert.equal(first.created, true);
    assert.equal(first.email, DEFAULT_ADMIN_EMAIL);
    assert.ok((first.generatedPassword ?? '').length >= 12);
    const second = await auth.ensureAdmin({ email: 'x@y.z', password: 'whatever-password-1' });
    assert.equal(second.created, false);
    assert.equal(second.generatedPassword, undefined);
    assert.ok((await auth.login(DEFAULT_ADMIN_EMAIL, first.generatedPassword ?? '')).token);
  });

  it('uses the configured admin and never returns its password; a short configured one is refused by name', async () => {
    const { auth } = await setup();
    const result = await auth.ensureAdmin({ email: 'Admin@Example.com', password: 'configured-pw' });
    assert.deepEqual(result, { created: true, email: 'admin@example.com' });
    const { token } = await auth.login('admin@example.com', 'configured-pw');
    const principal = await auth.verifyToken(token);
    assert.equal(principal.role, 'sysadmin');
    await assert.rejects(auth.login('admin@example.com', 'wrong-password'), unauthorized);
    await assert.rejects(auth.login('nobody@example.com', 'configured-pw'), unauthorized);
    const other = await setup();
    await assert.rejects(other.auth.ensureAdmin({ password: 'pw' }), (e: PlatformError) => badRequest(e) && /CONTINUUM_ADMIN_PASSWORD.*at least 12/.test(e.message));
  });

  it('rejects tampered, foreign, alg=none and expired tokens', async () => {
    const { auth, clock, store } = await withAdmin();
    const { token } = await auth.login('a@b.c', PW);
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'tenant-admin', sub: 'someone' })).toString('base64url');
    await assert.rejects(auth.verifyToken(`${h}.${forged}.${s}`), unauthorized);
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    await assert.rejects(auth.verifyToken(`${none}.${p}.`), unauthorized);
    const otherSecret = createHmac('sha256', 'guess').update(`${h}.${p}`).digest('base64url');
    await assert.rejects(auth.verifyToken(`${h}.${p}.${otherSecret}`), unauthorized);
    await assert.rejects(auth.verifyToken('garbage'), unauthorized);
    // The secret lives in the store: another instance (cluster node, restart) accepts the token.
    const again = new AuthService({ store, clock, logger: quiet });
    assert.equal((await again.verifyToken(token)).tenantId, claims.tid);
    clock.advance(3601 * 1000);
    await assert.rejects(auth.verifyToken(token), unauthorized);
  });

  it('creates API keys shown once and stored as sha256', async () => {
    const { auth, admin: user } = await withAdmin();
    const { id, key } = await auth.createApiKey(user.id, 'ci');
    assert.match(key, /^ck_[0-9A-Za-z]{40}$/);
    assert.ok(id);
    const principal = await auth.authenticateRequest({ apiKey: key });
    assert.deepEqual(principal, { userId: user.id, tenantId: user.tenantId, role: 'sysadmin', email: user.email });
    assert.deepEqual(await auth.authenticateRequest({ authorization: `ApiKey ${key}` }), principal);
    await assert.rejects(auth.authenticateRequest({ apiKey: key + 'x' }), unauthorized);
    await assert.rejects(auth.createApiKey('nobody', 'x'), (e: unknown) => isPlatformError(e, 'NOT_FOUND'));
    assert.deepEqual((await auth.listApiKeys(user.id)).map((k) => [k.id, k.name, 'keyHash' in k]), [[id, 'ci', false]]);
  });

  it('authenticates Authorization headers', async () => {
    const { auth } = await withAdmin();
    const { token } = await auth.login('a@b.c', PW);
    assert.equal((await auth.authenticateRequest({ authorization: `Bearer ${token}` })).role, 'sysadmin');
    assert.equal((await auth.authenticateRequest({ authorization: `bearer  ${token}` })).role, 'sysadmin');
    await assert.rejects(auth.authenticateRequest({}), unauthorized);
    await assert.rejects(auth.authenticateRequest({ authorization: 'Basic abc' }), unauthorized);
    await assert.rejects(auth.authenticateRequest({ authorization: 'Bearer' }), unauthorized);
  });

  it('validates new users', async () => {
    const { auth } = await setup();
    await assert.rejects(auth.createUser({ email: 'not-an-email', password: PW }), badRequest);
    await assert.rejects(auth.createUser({ email: 'u@x.y', password: 'short' }), badRequest);
    await auth.createUser({ email: 'u@x.y', password: PW });
    await assert.rejects(auth.createUser({ email: 'U@x.y', password: PW }), conflict);
  });
});

describe('revocation (issue 12 item 6)', () => {
  it("regression: a deleted user's JWT keeps working", async () => {
    const { auth, admin } = await withAdmin();
    const op = await auth.createUser({ email: 'op@b.c', password: PW, role: 'operator' });
    const { token } = await auth.login('op@b.c', PW);
    const { key } = await auth.createApiKey(op.id, 'laptop');
    assert.equal((await auth.verifyToken(token)).userId, op.id);
    await auth.users.remove(admin.tenantId, op.id);
    await assert.rejects(auth.verifyToken(token), (e: PlatformError) => unauthorized(e) && /no longer exists/.test(e.message));
    await assert.rejects(auth.verifyApiKey(key), unauthorized);
  });

  it('regression: the role is trusted from the token — the stored role decides, also for a change made by another node', async () => {
    const { auth, store, clock, admin } = await withAdmin();
    const { key } = await auth.createApiKey(admin.id, 'ci');
    const { token } = await auth.login('a@b.c', PW);
    assert.equal((await auth.verifyToken(token)).role, 'sysadmin');
    // Another node changed the row (no cache invalidation here): seen once the cache entry is a second old.
    await store.updateUser(admin.id, { role: 'operator' });
    clock.advance(1001);
    assert.equal((await auth.verifyToken(token)).role, 'operator');
    assert.equal((await auth.verifyApiKey(key)).role, 'operator');
  });

  it('a disabled user is refused with its token, its API keys and its password; enabling restores keys, not tokens', async () => {
    const { auth, admin } = await withAdmin();
    const op = await auth.createUser({ email: 'op@b.c', password: PW, role: 'operator' });
    const { token } = await auth.login('op@b.c', PW);
    const { key } = await auth.createApiKey(op.id, 'laptop');
    await auth.users.update(admin.tenantId, op.id, { disabled: true });
    await assert.rejects(auth.verifyToken(token), unauthorized);
    await assert.rejects(auth.verifyApiKey(key), (e: PlatformError) => unauthorized(e) && /disabled/.test(e.message));
    await assert.rejects(auth.login('op@b.c', PW), (e: PlatformError) => unauthorized(e) && /disabled/.test(e.message));
    await auth.users.update(admin.tenantId, op.id, { disabled: false });
    assert.equal((await auth.verifyApiKey(key)).userId, op.id);
    await assert.rejects(auth.verifyToken(token), unauthorized, 'the earlier session stays ended');
  });

  it('a role change ends earlier sessions; the API key of a demoted admin carries the new role at once', async () => {
    const { auth, admin } = await withAdmin();
    const second = await auth.createUser({ email: 'second@b.c', password: PW, role: 'tenant-admin' });
    const { token } = await auth.login('second@b.c', PW);
    const { key } = await auth.createApiKey(second.id, 'ci');
    await auth.users.update(admin.tenantId, second.id, { role: 'operator' });
    await assert.rejects(auth.verifyToken(token), (e: PlatformError) => unauthorized(e) && /revoked/.test(e.message));
    assert.equal((await auth.verifyApiKey(key)).role, 'operator');
    assert.equal((await auth.verifyToken((await auth.login('second@b.c', PW)).token)).role, 'operator');
  });

  it('logout revokes every token of the caller, and only of the caller', async () => {
    const { auth, admin } = await withAdmin();
    await auth.createUser({ email: 'op@b.c', password: PW });
    const first = (await auth.login('a@b.c', PW)).token;
    const second = (await auth.login('a@b.c', PW)).token;
    const other = (await auth.login('op@b.c', PW)).token;
    await auth.users.revokeTokens(admin.id);
    await assert.rejects(auth.verifyToken(first), unauthorized);
    await assert.rejects(auth.verifyToken(second), unauthorized);
    assert.ok(await auth.verifyToken(other));
    assert.ok(await auth.verifyToken((await auth.login('a@b.c', PW)).token), 'signing in again works');
  });

  it('a password change needs the current password, applies the policy and revokes the other tokens', async () => {
    const { auth, admin } = await withAdmin();
    const old = (await auth.login('a@b.c', PW)).token;
    await assert.rejects(auth.users.changeOwnPassword(admin.id, 'not-the-password', 'another-password-2'), (e: unknown) => isPlatformError(e, 'FORBIDDEN'));
    await assert.rejects(auth.users.changeOwnPassword(admin.id, PW, 'short'), badRequest);
    const user = await auth.users.changeOwnPassword(admin.id, PW, 'another-password-2');
    await assert.rejects(auth.verifyToken(old), unauthorized);
    assert.ok(await auth.verifyToken((await auth.issueToken(user)).token));
    await assert.rejects(auth.login('a@b.c', PW), unauthorized);
    assert.ok(await auth.login('a@b.c', 'another-password-2'));
  });

  it('API keys: deleted ones and expired ones answer 401; only the owner deletes', async () => {
    const { auth, clock, admin } = await withAdmin();
    const op = await auth.createUser({ email: 'op@b.c', password: PW });
    const kept = await auth.createApiKey(admin.id, 'kept');
    const deleted = await auth.createApiKey(admin.id, 'deleted');
    const expiring = await auth.createApiKey(admin.id, 'expiring', clock.now() + 60_000);
    await assert.rejects(auth.createApiKey(admin.id, 'past', clock.now() - 1), badRequest);
    await assert.rejects(auth.deleteApiKey(op.id, deleted.id), (e: unknown) => isPlatformError(e, 'NOT_FOUND'));
    await auth.deleteApiKey(admin.id, deleted.id);
    await assert.rejects(auth.verifyApiKey(deleted.key), unauthorized);
    assert.ok(await auth.verifyApiKey(expiring.key));
    clock.advance(60_000);
    await assert.rejects(auth.verifyApiKey(expiring.key), (e: PlatformError) => unauthorized(e) && /expired/.test(e.message));
    assert.ok(await auth.verifyApiKey(kept.key));
  });

  it("refuses to delete, demote or disable the tenant's last enabled admin", async () => {
    const { auth, admin } = await withAdmin();
    for (const change of [{ role: 'operator' as const }, { disabled: true }]) {
      await assert.rejects(auth.users.update(admin.tenantId, admin.id, change), (e: PlatformError) => conflict(e) && /last enabled admin/.test(e.message));
    }
    await assert.rejects(auth.users.remove(admin.tenantId, admin.id), conflict);
    const second = await auth.createUser({ email: 'second@b.c', password: PW, role: 'tenant-admin' });
    await auth.users.update(admin.tenantId, second.id, { disabled: true });
    await assert.rejects(auth.users.remove(admin.tenantId, admin.id), conflict, 'a disabled admin does not count');
    await auth.users.update(admin.tenantId, second.id, { disabled: false });
    // Two at once: serialized, so exactly one succeeds.
    const results = await Promise.allSettled([auth.users.remove(admin.tenantId, admin.id), auth.users.remove(admin.tenantId, second.id)]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected']);
    assert.equal((await auth.users.list(admin.tenantId)).filter((u) => u.role === 'tenant-admin').length, 1);
  });

  it("another tenant's user is not found", async () => {
    const { auth, store } = await withAdmin();
    await store.ensureTenant({ id: 't2', name: 'Other' });
    const foreign = await auth.createUser({ email: 'x@t2.c', password: PW, tenantId: 't2' });
    await assert.rejects(auth.users.update(DEFAULT_TENANT_ID, foreign.id, { disabled: true }), (e: unknown) => isPlatformError(e, 'NOT_FOUND'));
    await assert.rejects(auth.users.remove(DEFAULT_TENANT_ID, foreign.id), (e: unknown) => isPlatformError(e, 'NOT_FOUND'));
  });
});

describe('passwords and brute force (issue 12 item 7)', () => {
  it('regression: 40 wrong passwords get no 429', async () => {
    const logger = recordingLogger();
    const { auth } = await withAdmin({ logger });
    const outcomes: string[] = [];
    let retryAfter: number | undefined;
    for (let i = 0; i < 40; i++) {
      try {
        await auth.login('a@b.c', `wrong-password-${i}`, '192.0.2.7');
        outcomes.push('ok');
      } catch (err) {
        outcomes.push((err as PlatformError).code);
        if (isPlatformError(err, 'RATE_LIMITED')) retryAfter ??= err.retryAfterSeconds;
      }
    }
    const firstLimited = outcomes.indexOf('RATE_LIMITED');
    assert.ok(firstLimited >= 0 && firstLimited < 29, `429 before the 30th attempt (first at ${firstLimited + 1})`);
    assert.ok(retryAfter !== undefined && retryAfter >= 1 && retryAfter <= 15 * 60);
    // While locked, even the right password is refused (checked before any hashing).
    await assert.rejects(auth.login('a@b.c', PW, '192.0.2.7'), (e: unknown) => isPlatformError(e, 'RATE_LIMITED'));
    const lockouts = logger.warnings.filter((w) => /locked out/.test(w.msg ?? ''));
    assert.equal(lockouts.length, 1, 'one log line per lockout');
    assert.deepEqual(lockouts[0]?.obj, { email: 'a@b.c', address: '192.0.2.7', scope: 'account', lockedForSeconds: 60 });
  });

  it('locks an address that tries many accounts, and unlocks after the lockout', async () => {
    const { auth, clock } = await withAdmin();
    const codes: string[] = [];
    for (let i = 0; i < 25; i++) {
      await auth.login(`user${i}@b.c`, 'guess-password-1', '198.51.100.9').catch((e: PlatformError) => codes.push(e.code));
    }
    assert.equal(codes.indexOf('RATE_LIMITED'), 20, 'the 21st attempt from the address is refused');
    assert.ok(await auth.login('a@b.c', PW, '198.51.100.10'), 'another address is not affected');
    clock.advance(61_000);
    assert.ok(await auth.login('a@b.c', PW, '198.51.100.9'));
  });

  it('bounds concurrent password hashing: a flood gets UNAVAILABLE with Retry-After instead of queueing without end', async () => {
    const { auth } = await withAdmin({ cost: 4096, concurrency: 1, maxQueued: 2 });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => auth.login('a@b.c', PW)));
    const refused = results.filter((r) => r.status === 'rejected' && isPlatformError(r.reason, 'UNAVAILABLE'));
    const ok = results.filter((r) => r.status === 'fulfilled');
    assert.equal(ok.length, 3, 'one running and two queued');
    assert.equal(refused.length, 17);
    assert.equal((refused[0] as PromiseRejectedResult).reason.retryAfterSeconds, 1);
  });

  it('refuses weak passwords on create, change and reset; an existing shorter one keeps working until changed', async () => {
    const { auth, store, admin } = await withAdmin();
    const cases: [string, RegExp][] = [
      ['eleven-char', /at least 12 characters/],
      ['x'.repeat(257), /at most 256/],
      ['aaaaaaaaaaaaaaaa', /repeat one character/],
      ['long-name@b.c', /e-mail address/],
      ['Long-Name@B.c', /e-mail address/],
    ];
    for (const [password, message] of cases) {
      await assert.rejects(auth.createUser({ email: 'long-name@b.c', password }), (e: PlatformError) => badRequest(e) && message.test(e.message), password);
    }
    await assert.rejects(auth.users.update(admin.tenantId, admin.id, { password: 'short' }), badRequest);
    await assert.rejects(auth.users.resetPassword('a@b.c', 'aaaaaaaaaaaaa'), badRequest);
    await store.insertUser({ id: 'legacy', tenantId: DEFAULT_TENANT_ID, email: 'legacy@b.c', passwordHash: await hashSecret('pw8chars', 1024), role: 'operator', createdAt: 1, disabled: false, tokenVersion: 0 });
    assert.ok(await auth.login('legacy@b.c', 'pw8chars'));
  });

  it('verifies a hash made with older parameters, then stores one with the current parameters', async () => {
    const { auth, store } = await setup({ cost: 2048 });
    const old = await hashSecret(PW, 1024);
    await store.insertUser({ id: 'u1', tenantId: DEFAULT_TENANT_ID, email: 'old@b.c', passwordHash: old, role: 'tenant-admin', createdAt: 1, disabled: false, tokenVersion: 0 });
    const { token } = await auth.login('old@b.c', PW);
    const rehashed = (await store.getUser('u1'))?.passwordHash ?? '';
    assert.match(rehashed, /^scrypt\$2048\$8\$1\$/);
    assert.notEqual(rehashed, old);
    assert.ok(await auth.verifyToken(token), 'the rehash does not end the session');
    assert.ok(await auth.login('old@b.c', PW));
    assert.equal((await store.getUser('u1'))?.passwordHash, rehashed, 'no second rehash');
  });

  it('hashes new passwords at scrypt N = 2^17 by default (OWASP)', async () => {
    assert.equal(USER_SCRYPT_COST, 131072);
    const store = createMemoryStore();
    await store.ensureTenant({ id: DEFAULT_TENANT_ID, name: 'Default' });
    const auth = new AuthService({ store, clock: { now: () => Date.now() }, logger: quiet });
    const user = await auth.createUser({ email: 'd@b.c', password: PW });
    assert.match(user.passwordHash, /^scrypt\$131072\$8\$1\$/);
    assert.equal(sha256Hex('x').length, 64);
  });
});
