import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMemoryStore } from '../../src/adapters/store/memory/index.js';
import { DEFAULT_TENANT_ID } from '../../src/domain/device.js';
import { isPlatformError, type ErrorCode } from '../../src/domain/errors.js';
import type { Logger } from '../../src/ports.js';
import { RegistryService } from '../../src/services/registry.js';

const logger: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => logger };
const T = DEFAULT_TENANT_ID;

async function setup() {
  const store = createMemoryStore();
  let now = 1_700_000_000_000;
  const clock = { now: () => now, advance: (ms: number) => (now += ms) };
  const registry = new RegistryService({ store, clock, logger, codecNames: ['json', 'senml'] });
  await registry.init();
  return { store, registry, clock };
}

async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isPlatformError(err, code), `expected ${code}, got ${String(err)}`);
    return true;
  });
}

describe('RegistryService profiles', () => {
  it('init creates the default tenant profile once', async () => {
    const { registry } = await setup();
    await registry.init();
    const profiles = await registry.listProfiles(T);
    assert.deepEqual(profiles.map((p) => [p.name, p.codec]), [['default', 'json']]);
    assert.equal((await registry.defaultProfile(T)).id, profiles[0]?.id);
  });

  it('validates codec, duplicates and provisioning keys', async () => {
    const { registry } = await setup();
    await rejectsWith(registry.createProfile({ tenantId: T, name: 'x', codec: 'protobuf' }), 'BAD_REQUEST');
    await rejectsWith(registry.createProfile({ tenantId: T, name: 'default' }), 'CONFLICT');
    await rejectsWith(registry.createProfile({ tenantId: T, name: 'p', provisionKey: 'k' }), 'BAD_REQUEST');
    await registry.createProfile({ tenantId: T, name: 'p', codec: 'senml', provisionKey: 'k', provisionSecret: 's' });
    await rejectsWith(registry.createProfile({ tenantId: T, name: 'q', provisionKey: 'k', provisionSecret: 's2' }), 'CONFLICT');
    const ensured = await registry.ensureProfile(T, 'thermostat');
    assert.equal((await registry.ensureProfile(T, 'thermostat')).id, ensured.id);
  });
});

describe('RegistryService devices', () => {
  it('creates a device with a generated 20-character base62 token and authenticates it', async () => {
    const { registry } = await setup();
    const { device, accessToken, credentials } = await registry.createDevice({ tenantId: T, name: 'pump-1', label: 'Pump' });
    assert.match(accessToken ?? '', /^[0-9A-Za-z]{20}$/);
    assert.equal(credentials.length, 1);
    const identity = await registry.authenticate({ token: accessToken ?? '' });
    assert.deepEqual(identity, { deviceId: device.id, tenantId: T, name: 'pump-1', profileId: device.profileId, codec: 'json', isGateway: false });
    await rejectsWith(registry.authenticate({ token: 'nope' }), 'UNAUTHORIZED');
  });

  it('validates names and rejects duplicates', async () => {
    const { registry } = await setup();
    await rejectsWith(registry.createDevice({ tenantId: T, name: '' }), 'BAD_REQUEST');
    await rejectsWith(registry.createDevice({ tenantId: T, name: 'x'.repeat(256) }), 'BAD_REQUEST');
    await registry.createDevice({ tenantId: T, name: 'x'.repeat(255) });
    await registry.createDevice({ tenantId: T, name: 'dup' });
    await rejectsWith(registry.createDevice({ tenantId: T, name: 'dup' }), 'DEVICE_NAME_TAKEN');
    await rejectsWith(registry.createDevice({ tenantId: T, name: 'p', profileId: 'missing' }), 'PROFILE_NOT_FOUND');
  });

  it('uses a given token, and drops cached identities on credential change, update and delete', async () => {
    const { registry } = await setup();
    const { device } = await registry.createDevice({ tenantId: T, name: 'd', accessToken: 'my-token' });
    assert.equal((await registry.authenticate({ token: 'my-token' })).name, 'd');
    await registry.updateDevice(device.id, { name: 'renamed' });
    assert.equal((await registry.authenticate({ token: 'my-token' })).name, 'renamed');
    await registry.setCredentials(device.id, { accessToken: 'other' });
    await rejectsWith(registry.authenticate({ token: 'my-token' }), 'UNAUTHORIZED');
    assert.equal((await registry.authenticate({ token: 'other' })).deviceId, device.id);
    assert.equal(await registry.deleteDevice(device.id), true);
    await rejectsWith(registry.authenticate({ token: 'other' }), 'UNAUTHORIZED');
  });

  it('matches MQTT basic credentials the ThingsBoard way', async () => {
    const { registry } = await setup();
    const a = await registry.createDevice({ tenantId: T, name: 'a', basic: { clientId: 'c1', username: 'u1', password: 'secret-pw1' } });
    const b = await registry.createDevice({ tenantId: T, name: 'b', basic: { username: 'only-user' } });
    const c = await registry.createDevice({ tenantId: T, name: 'c', basic: { clientId: 'only-client', password: 'pw-long-1' } });
    assert.equal(a.accessToken, undefined);
    assert.equal(a.credentials[0]?.type === 'MQTT_BASIC' && a.credentials[0].passwordHash?.startsWith('scrypt$'), true);
    assert.equal((await registry.authenticate({ basic: { clientId: 'c1', username: 'u1', password: 'secret-pw1' } })).deviceId, a.device.id);
    await rejectsWith(registry.authenticate({ basic: { clientId: 'c1', username: 'u1', password: 'wrong' } }), 'BAD_CREDENTIALS');
    await rejectsWith(registry.authenticate({ basic: { clientId: 'c1', username: 'u1' } }), 'BAD_CREDENTIALS');
    await rejectsWith(registry.authenticate({ basic: { clientId: 'c1', username: 'other', password: 'secret-pw1' } }), 'BAD_CREDENTIALS');
    assert.equal((await registry.authenticate({ basic: { clientId: 'any', username: 'only-user' } })).deviceId, b.device.id);
    assert.equal((await registry.authenticate({ basic: { clientId: 'only-client', password: 'pw-long-1' } })).deviceId, c.device.id);
    // A cached success never serves a different password.
    await rejectsWith(registry.authenticate({ basic: { clientId: 'only-client', password: 'px' } }), 'BAD_CREDENTIALS');
    await rejectsWith(registry.authenticate({ basic: {} }), 'BAD_CREDENTIALS');
  });

  it('normalizes certificate fingerprints', async () => {
    const { registry } = await setup();
    const hex = 'ab'.repeat(32);
    const { device } = await registry.createDevice({ tenantId: T, name: 'x509', certificateFingerprint: hex.toUpperCase() });
    const colons = hex.toUpperCase().match(/../g)?.join(':') ?? '';
    assert.equal((await registry.authenticate({ fingerprint: colons })).deviceId, device.id);
    await rejectsWith(registry.authenticate({ fingerprint: 'cd'.repeat(32) }), 'UNAUTHORIZED');
    await rejectsWith(registry.authenticate({ fingerprint: 'garbage' }), 'UNAUTHORIZED');
  });

  it('lists, searches and pages; locates gateway children', async () => {
    const { registry } = await setup();
    const gw = await registry.createDevice({ tenantId: T, name: 'gw', isGateway: true });
    for (let i = 0; i < 5; i++) await registry.createDevice({ tenantId: T, name: `sensor-${i}`, gatewayId: gw.device.id });
    const page = await registry.listDevices({ tenantId: T, search: 'SENSOR', limit: 2, offset: 1 });
    assert.equal(page.total, 5);
    assert.deepEqual(page.items.map((d) => d.name), ['sensor-1', 'sensor-2']);
    const child = (await registry.findDeviceByName(T, 'sensor-3'))!;
    assert.deepEqual(await registry.locateChild(child.id), { gatewayId: gw.device.id, name: 'sensor-3' });
    assert.equal(await registry.locateChild(gw.device.id), undefined);
    await rejectsWith(registry.createDevice({ tenantId: T, name: 'orphan', gatewayId: 'nope' }), 'DEVICE_NOT_FOUND');
  });

  it('trusts a cached identity only for the TTL (changes made by another node)', async () => {
    const { registry, store, clock } = await setup();
    const { device } = await registry.createDevice({ tenantId: T, name: 'ttl', accessToken: 'ttl-token' });
    await registry.authenticate({ token: 'ttl-token' });
    // Another cluster node replaces the token: this node's cache does not see the change…
    await store.setCredential({ type: 'ACCESS_TOKEN', deviceId: device.id, tokenHash: 'new-token-hash', hint: 'n…' });
    assert.equal((await registry.authenticate({ token: 'ttl-token' })).deviceId, device.id);
    // …until the entry expires (60 s by default).
    clock.advance(60_001);
    await rejectsWith(registry.authenticate({ token: 'ttl-token' }), 'UNAUTHORIZED');
  });

  it('bounds the authentication cache', async () => {
    const store = createMemoryStore();
    const registry = new RegistryService({ store, clock: { now: () => 0 }, logger, codecNames: ['json'], authCacheSize: 3 });
    await registry.init();
    const tokens: string[] = [];
    for (let i = 0; i < 10; i++) tokens.push((await registry.createDevice({ tenantId: T, name: `d${i}` })).accessToken ?? '');
    for (const t of tokens) await registry.authenticate({ token: t });
    const cache = (registry as unknown as { identities: { size: number } }).identities;
    assert.equal(cache.size, 3);
  });
});

describe('RegistryService provisioning', () => {
  async function withProfile() {
    const ctx = await setup();
    const profile = await ctx.registry.createProfile({ tenantId: T, name: 'prov', provisionKey: 'KEY', provisionSecret: 'SECRET' });
    return { ...ctx, profile };
  }

  it('creates a device with a generated token', async () => {
    const { registry, profile } = await withProfile();
    const res = await registry.provision({ deviceName: 'p1', provisionDeviceKey: 'KEY', provisionDeviceSecret: 'SECRET' });
    assert.equal(res.status, 'SUCCESS');
    assert.equal(res.credentialsType, 'ACCESS_TOKEN');
    assert.equal(typeof res.credentialsValue, 'string');
    const identity = await registry.authenticate({ token: res.credentialsValue as string });
    assert.equal(identity.name, 'p1');
    assert.equal(identity.profileId, profile.id);
  });

  it('accepts device-proposed token and basic credentials; generates a name', async () => {
    const { registry } = await withProfile();
    const token = await registry.provision({ provisionDeviceKey: 'KEY', provisionDeviceSecret: 'SECRET', credentialsType: 'ACCESS_TOKEN', token: 'mine' });
    assert.deepEqual(token, { status: 'SUCCESS', credentialsType: 'ACCESS_TOKEN', credentialsValue: 'mine' });
    assert.match((await registry.authenticate({ token: 'mine' })).name, /^device-/);
    const basic = await registry.provision({
      deviceName: 'b1',
      provisionDeviceKey: 'KEY',
      provisionDeviceSecret: 'SECRET',
      credentialsType: 'MQTT_BASIC',
      clientId: 'cid',
      username: 'user',
      password: 'pass-word',
    });
    assert.deepEqual(basic, { status: 'SUCCESS', credentialsType: 'MQTT_BASIC', credentialsValue: { clientId: 'cid', userName: 'user', password: 'pass-word' } });
    assert.equal((await registry.authenticate({ basic: { clientId: 'cid', username: 'user', password: 'pass-word' } })).name, 'b1');
  });

  it('answers NOT_FOUND for a wrong key or secret and FAILURE for a taken name', async () => {
    const { registry } = await withProfile();
    assert.equal((await registry.provision({ provisionDeviceKey: 'nope', provisionDeviceSecret: 'SECRET' })).status, 'NOT_FOUND');
    assert.equal((await registry.provision({ provisionDeviceKey: 'KEY', provisionDeviceSecret: 'wrong' })).status, 'NOT_FOUND');
    await registry.provision({ deviceName: 'same', provisionDeviceKey: 'KEY', provisionDeviceSecret: 'SECRET' });
    const again = await registry.provision({ deviceName: 'same', provisionDeviceKey: 'KEY', provisionDeviceSecret: 'SECRET' });
    assert.equal(again.status, 'FAILURE');
    assert.match(again.errorMsg ?? '', /already exists/);
  });
});
