import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import { isPlatformError } from '../../src/domain/errors.js';
import type { Logger } from '../../src/ports.js';
import { AuthService, DEFAULT_ADMIN_EMAIL } from '../../src/services/auth.js';

const logger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => logger };
const unauthorized = (e: unknown) => isPlatformError(e, 'UNAUTHORIZED');

async function setup() {
  const store = createMemoryStore();
  let now = 1_700_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const auth = new AuthService({ store, clock, logger, jwtTtlSeconds: 3600 });
  await store.ensureTenant({ id: DEFAULT_TENANT_ID, name: 'Default' });
  return { store, clock, auth };
}

describe('AuthService', () => {
  it('generates the first admin password once, then does nothing', async () => {
    const { auth } = await setup();
    const first = await auth.ensureAdmin();
    assert.equal(first.created, true);
    assert.equal(first.email, DEFAULT_ADMIN_EMAIL);
    assert.ok((first.generatedPassword ?? '').length >= 12);
    const second = await auth.ensureAdmin({ email: 'x@y.z', password: 'whatever1' });
    assert.equal(second.created, false);
    assert.equal(second.generatedPassword, undefined);
    assert.ok((await auth.login(DEFAULT_ADMIN_EMAIL, first.generatedPassword ?? '')).token);
  });

  it('uses the configured admin and never returns its password', async () => {
    const { auth } = await setup();
    const result = await auth.ensureAdmin({ email: 'Admin@Example.com', password: 'configured-pw' });
    assert.deepEqual(result, { created: true, email: 'admin@example.com' });
    const { token } = await auth.login('admin@example.com', 'configured-pw');
    const principal = await auth.verifyToken(token);
    assert.equal(principal.role, 'admin');
    await assert.rejects(auth.login('admin@example.com', 'wrong-password'), unauthorized);
    await assert.rejects(auth.login('nobody@example.com', 'configured-pw'), unauthorized);
  });

  it('rejects tampered, foreign, alg=none and expired tokens', async () => {
    const { auth, clock, store } = await setup();
    await auth.ensureAdmin({ email: 'a@b.c', password: 'password1' });
    const { token } = await auth.login('a@b.c', 'password1');
    const [h, p, s] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const forged = Buffer.from(JSON.stringify({ ...claims, role: 'admin', sub: 'someone' })).toString('base64url');
    await assert.rejects(auth.verifyToken(`${h}.${forged}.${s}`), unauthorized);
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    await assert.rejects(auth.verifyToken(`${none}.${p}.`), unauthorized);
    const otherSecret = createHmac('sha256', 'guess').update(`${h}.${p}`).digest('base64url');
    await assert.rejects(auth.verifyToken(`${h}.${p}.${otherSecret}`), unauthorized);
    await assert.rejects(auth.verifyToken('garbage'), unauthorized);
    // The secret lives in the store: another instance (cluster node, restart) accepts the token.
    const again = new AuthService({ store, clock, logger });
    assert.equal((await again.verifyToken(token)).tenantId, claims.tid);
    clock.advance(3601 * 1000);
    await assert.rejects(auth.verifyToken(token), unauthorized);
  });

  it('creates API keys shown once and stored as sha256', async () => {
    const { auth, store } = await setup();
    await auth.ensureAdmin({ email: 'a@b.c', password: 'password1' });
    const user = (await store.findUserByEmail('a@b.c'))!;
    const { id, key } = await auth.createApiKey(user.id, 'ci');
    assert.match(key, /^ck_[0-9A-Za-z]{40}$/);
    assert.ok(id);
    const principal = await auth.authenticateRequest({ apiKey: key });
    assert.deepEqual(principal, { userId: user.id, tenantId: user.tenantId, role: 'admin' });
    assert.deepEqual(await auth.authenticateRequest({ authorization: `ApiKey ${key}` }), principal);
    await assert.rejects(auth.authenticateRequest({ apiKey: key + 'x' }), unauthorized);
    await assert.rejects(auth.createApiKey('nobody', 'x'), (e: unknown) => isPlatformError(e, 'NOT_FOUND'));
  });

  it('authenticates Authorization headers', async () => {
    const { auth } = await setup();
    await auth.ensureAdmin({ email: 'a@b.c', password: 'password1' });
    const { token } = await auth.login('a@b.c', 'password1');
    assert.equal((await auth.authenticateRequest({ authorization: `Bearer ${token}` })).role, 'admin');
    assert.equal((await auth.authenticateRequest({ authorization: `bearer  ${token}` })).role, 'admin');
    await assert.rejects(auth.authenticateRequest({}), unauthorized);
    await assert.rejects(auth.authenticateRequest({ authorization: 'Basic abc' }), unauthorized);
    await assert.rejects(auth.authenticateRequest({ authorization: 'Bearer' }), unauthorized);
  });

  it('validates new users', async () => {
    const { auth } = await setup();
    await assert.rejects(auth.createUser({ email: 'not-an-email', password: 'password1' }), (e: unknown) => isPlatformError(e, 'BAD_REQUEST'));
    await assert.rejects(auth.createUser({ email: 'u@x.y', password: 'short' }), (e: unknown) => isPlatformError(e, 'BAD_REQUEST'));
    await auth.createUser({ email: 'u@x.y', password: 'password1' });
    await assert.rejects(auth.createUser({ email: 'U@x.y', password: 'password1' }), (e: unknown) => isPlatformError(e, 'CONFLICT'));
  });
});
