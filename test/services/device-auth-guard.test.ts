/**
 * The brute-force guard in the registry (one place for every transport): failures count per
 * client address and per credential, a lockout is logged and counted once, a success clears the
 * credential, the state is bounded, and a device's password guessed from many addresses is
 * locked even though no single address reaches its limit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import { isPlatformError } from '../../src/domain/errors.js';
import { DEFAULT_DEVICE_AUTH_LIMITS } from '../../src/services/device-auth-guard.js';
import { RegistryService } from '../../src/services/registry.js';
import { countingMetrics, recordingLogger } from '../adapters/transport/http/fake-device-api.js';

const T = DEFAULT_TENANT_ID;
const LIMITS = { ...DEFAULT_DEVICE_AUTH_LIMITS, maxFailuresPerAddress: 5, maxFailuresPerCredential: 3, windowMs: 60_000, lockoutMs: 10_000, maxLockoutMs: 40_000, maxKeys: 50 };

async function setup() {
  let now = 1_700_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const logger = recordingLogger();
  const metrics = countingMetrics();
  const registry = new RegistryService({ store: createMemoryStore(), clock, logger, metrics, codecNames: ['json'], deviceAuthLimits: LIMITS });
  await registry.init();
  return { registry, clock, logger, metrics };
}

const rateLimited = (err: unknown): boolean => isPlatformError(err, 'RATE_LIMITED') && (err.retryAfterSeconds ?? 0) > 0;
const lockoutLines = (logger: ReturnType<typeof recordingLogger>) => logger.records.filter((r) => r.level === 'warn' && /locked out/.test(r.msg ?? ''));

describe('device authentication guard', () => {
  it('locks a basic credential guessed from many addresses; the right password waits too; it works after the lockout', async () => {
    const { registry, clock, logger, metrics } = await setup();
    await registry.createDevice({ tenantId: T, name: 'pump', basic: { username: 'pump', password: 'right-password' } });
    for (let i = 0; i < LIMITS.maxFailuresPerCredential; i++) {
      await assert.rejects(registry.authenticate({ basic: { username: 'pump', password: `guess-${i}` } }, { transport: 'mqtt', address: `10.0.0.${i}` }), (e) =>
        isPlatformError(e, 'BAD_CREDENTIALS'),
      );
    }
    await assert.rejects(registry.authenticate({ basic: { username: 'pump', password: 'right-password' } }, { transport: 'mqtt', address: '10.0.0.99' }), rateLimited);
    // One log line and one count for the lockout, naming transport, address and the credential (no secret).
    const lines = lockoutLines(logger);
    assert.equal(lines.length, 1);
    assert.deepEqual({ ...lines[0]?.obj, retryAfterSeconds: undefined }, { transport: 'mqtt', address: '10.0.0.2', credential: 'basic pump/', lockedOut: 'credential', retryAfterSeconds: undefined });
    assert.deepEqual(metrics.rejects, ['mqtt:RATE_LIMITED']);
    assert.doesNotMatch(JSON.stringify(logger.records), /guess-|right-password/);
    // Another device is not affected.
    await registry.createDevice({ tenantId: T, name: 'valve', basic: { username: 'valve', password: 'valve-password' } });
    assert.equal((await registry.authenticate({ basic: { username: 'valve', password: 'valve-password' } }, { transport: 'mqtt', address: '10.0.0.98' })).name, 'valve');
    clock.advance(LIMITS.lockoutMs + 1);
    assert.equal((await registry.authenticate({ basic: { username: 'pump', password: 'right-password' } }, { transport: 'mqtt', address: '10.0.0.99' })).name, 'pump');
  });

  it('locks an address spraying tokens; a token verified before still answers from the cache; the lockout is logged once', async () => {
    const { registry, logger } = await setup();
    const { accessToken } = await registry.createDevice({ tenantId: T, name: 'meter' });
    const { accessToken: other } = await registry.createDevice({ tenantId: T, name: 'other' });
    const attacker = { transport: 'coap', address: '192.0.2.7' } as const;
    await registry.authenticate({ token: accessToken! }, attacker);
    for (let i = 0; i < LIMITS.maxFailuresPerAddress; i++) {
      await assert.rejects(registry.authenticate({ token: `spray-${i}` }, attacker), (e) => isPlatformError(e, 'UNAUTHORIZED'));
    }
    await assert.rejects(registry.authenticate({ token: 'spray-x' }, attacker), rateLimited);
    await assert.rejects(registry.authenticate({ token: other! }, attacker), rateLimited, 'an unverified credential waits');
    assert.equal((await registry.authenticate({ token: accessToken! }, attacker)).name, 'meter', 'a verified one does not');
    assert.equal((await registry.authenticate({ token: other! }, { transport: 'coap', address: '192.0.2.8' })).name, 'other', 'other addresses are not affected');
    const lines = lockoutLines(logger);
    assert.equal(lines.length, 1);
    assert.equal((lines[0]?.obj as { credential?: string }).credential, 'token s…', 'a hint of the token tried, never all of it');
  });

  it('honest authentications never count, and the state stays bounded under a spray from many addresses', async () => {
    const { registry } = await setup();
    const tokens: string[] = [];
    for (let i = 0; i < 20; i++) tokens.push((await registry.createDevice({ tenantId: T, name: `d${i}` })).accessToken!);
    for (let round = 0; round < 10; round++) {
      registry.invalidate((await registry.authenticate({ token: tokens[round]! })).deviceId);
      for (const token of tokens) await registry.authenticate({ token }, { transport: 'http', address: '127.0.0.1' });
    }
    for (let i = 0; i < 1000; i++) {
      await assert.rejects(registry.authenticate({ token: `t${i}` }, { transport: 'http', address: `198.51.100.${i % 250}:${i}` }));
    }
    const guard = (registry as unknown as { guard: { size: number } }).guard;
    assert.ok(guard.size <= 2 * LIMITS.maxKeys, `${guard.size} keys`);
  });

  it('provisioning: a wrong secret counts against the provision key; a right one clears it', async () => {
    const { registry } = await setup();
    await registry.createProfile({ tenantId: T, name: 'prov', provisionKey: 'KEY', provisionSecret: 'SECRET' });
    const client = { transport: 'http', address: '203.0.113.1' } as const;
    for (let i = 0; i < LIMITS.maxFailuresPerCredential - 1; i++) {
      assert.equal((await registry.provision({ provisionDeviceKey: 'KEY', provisionDeviceSecret: 'nope' }, client)).status, 'NOT_FOUND');
    }
    assert.equal((await registry.provision({ provisionDeviceKey: 'KEY', provisionDeviceSecret: 'SECRET', deviceName: 'p1' }, client)).status, 'SUCCESS');
    for (let i = 0; i < LIMITS.maxFailuresPerCredential; i++) {
      assert.equal((await registry.provision({ provisionDeviceKey: 'KEY', provisionDeviceSecret: 'nope' }, client)).status, 'NOT_FOUND');
    }
    await assert.rejects(registry.provision({ provisionDeviceKey: 'KEY', provisionDeviceSecret: 'SECRET', deviceName: 'p2' }, client), rateLimited);
  });
});
