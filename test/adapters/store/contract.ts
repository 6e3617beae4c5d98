/**
 * The Store contract: one suite that every Store implementation must pass. Each test gets a
 * fresh store from the factory. Run it from a *.test.ts file: `storeContract('memory', factory)`.
 */
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { Device, DeviceCredential, DeviceProfile } from '../../../src/domain/device.js';
import { isPlatformError, type ErrorCode } from '../../../src/domain/errors.js';
import type { JsonValue, TelemetryValue } from '../../../src/domain/telemetry.js';
import type { AlarmEvent, Store, TelemetryRow } from '../../../src/ports.js';
import type { Alarm } from '../../../src/domain/action-apis.js';
import { alarmAndCommandContract } from './contract-actions.js';
import { dashboardContract } from './contract-dashboards.js';
import { retentionContract } from './contract-retention.js';
import { identityContract } from './contract-identity.js';
import { otaContract } from './contract-ota.js';
import { otaDeploymentContract } from './contract-ota-deployments.js';
import { zoneContract } from './contract-zones.js';
import { IMPORT_CHUNK_ROWS } from '../../../src/services/registry-import.js';

export type StoreFactory = () => Store | Promise<Store>;

export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isPlatformError(err, code), `expected PlatformError ${code}, got ${String(err)}`);
    return true;
  });
}

export const T1 = '00000000-0000-4000-8000-000000000001';
export const T2 = '00000000-0000-4000-8000-000000000002';
export const P1: DeviceProfile = {
  id: 'profile-1',
  tenantId: T1,
  name: 'meters',
  codec: 'json',
  telemetryKeys: [{ key: 'energy', type: 'number', unit: 'kWh' }, { key: 'on', type: 'boolean' }],
  createdAt: 1_000,
};
export const P2: DeviceProfile = { id: 'profile-2', tenantId: T2, name: 'default', codec: 'json', telemetryKeys: [], createdAt: 1_000 };

export function device(name: string, extra: Partial<Device> = {}): Device {
  return { id: randomUUID(), tenantId: T1, name, profileId: P1.id, isGateway: false, createdAt: 1_700_000_000_000, ...extra };
}

/** Stores keep what the registry hands them (a keyed hash and a hint); here the value stands for the hash. */
export const token = (d: Device, value: string): DeviceCredential => ({ type: 'ACCESS_TOKEN', deviceId: d.id, tokenHash: value, hint: `${value.slice(0, 1)}…` });

/** Tenants T1, T2 and profiles P1 (T1), P2 (T2). */
export async function seed(store: Store): Promise<void> {
  await store.ensureTenant({ id: T1, name: 'one' });
  await store.ensureTenant({ id: T2, name: 'two' });
  await store.saveProfile(P1);
  await store.saveProfile(P2);
}

export function storeContract(name: string, factory: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await factory();
      await seed(store);
    });
    afterEach(async () => {
      await store.close();
    });

    describe('tenants and profiles', () => {
      it('round-trips a profile, finds it by name and provision key, lists per tenant by name', async () => {
        await store.ensureTenant({ id: T1, name: 'again' }); // idempotent
        assert.deepEqual(await store.getProfile(P1.id), P1);
        const prov: DeviceProfile = { ...P1, id: 'p-prov', name: 'auto', provisionKey: 'k1', provisionSecret: 's1', telemetryKeys: [] };
        await store.saveProfile(prov);
        assert.deepEqual(await store.findProfile({ provisionKey: 'k1' }), prov);
        assert.deepEqual(await store.findProfile({ tenantId: T1, name: 'meters' }), P1);
        assert.equal(await store.findProfile({ tenantId: T2, name: 'meters' }), undefined);
        assert.equal(await store.getProfile('nope'), undefined);
        assert.deepEqual((await store.listProfiles(T1)).map((p) => p.name), ['auto', 'meters']);
        assert.deepEqual(await store.listProfiles(T2), [P2]);
      });

      it('saves by id (update), rejects duplicate names per tenant and duplicate provision keys', async () => {
        await store.saveProfile({ ...P1, codec: 'senml' });
        assert.equal((await store.getProfile(P1.id))?.codec, 'senml');
        await rejectsWith(store.saveProfile({ ...P1, id: 'other' }), 'CONFLICT');
        await store.saveProfile({ ...P2, id: 'p2b', name: 'meters' }); // same name, other tenant
        await store.saveProfile({ ...P1, id: 'pk1', name: 'a', provisionKey: 'key', provisionSecret: 's' });
        await rejectsWith(store.saveProfile({ ...P1, id: 'pk2', name: 'b', provisionKey: 'key', provisionSecret: 's' }), 'CONFLICT');
        await rejectsWith(store.saveProfile({ ...P1, id: 'px', name: 'x', tenantId: 'no-such-tenant' }), 'NOT_FOUND');
      });

      it('deletes a profile by id; deleting again reports false', async () => {
        await store.saveProfile({ ...P1, id: 'p-gone', name: 'gone' });
        assert.equal(await store.deleteProfile('p-gone'), true);
        assert.equal(await store.getProfile('p-gone'), undefined);
        assert.equal(await store.findProfile({ tenantId: T1, name: 'gone' }), undefined);
        assert.equal(await store.deleteProfile('p-gone'), false);
        assert.deepEqual(await store.getProfile(P1.id), P1);
      });
    });

    describe('devices', () => {
      it('inserts and reads a device by id and by name; optional fields stay absent', async () => {
        const gw = device('gw', { isGateway: true, label: 'Roof gateway' });
        const child = device('child', { gatewayId: gw.id });
        await store.insertDevice(gw, [token(gw, 'gw-token')]);
        await store.insertDevice(child, []);
        assert.deepEqual(await store.getDevice(gw.id), gw);
        assert.deepEqual(await store.getDevice(child.id), child);
        assert.ok(!('label' in ((await store.getDevice(child.id)) as object)));
        assert.deepEqual(await store.findDeviceByName(T1, 'child'), child);
        assert.equal(await store.findDeviceByName(T2, 'child'), undefined);
        assert.equal(await store.getDevice(randomUUID()), undefined);
      });

      it('names are unique per tenant; the same name in another tenant is fine', async () => {
        await store.insertDevice(device('meter-1'), []);
        const dup = device('meter-1');
        await rejectsWith(store.insertDevice(dup, [token(dup, 'dup-token')]), 'DEVICE_NAME_TAKEN');
        // atomic: the failed insert left no credential behind
        assert.deepEqual(await store.findCredentials({ type: 'ACCESS_TOKEN', tokenHash: 'dup-token' }), []);
        await store.insertDevice(device('meter-1', { tenantId: T2, profileId: P2.id }), []);
        await store.insertDevice(device('METER-1'), []); // names are case-sensitive
      });

      it('rejects a duplicate id, unknown tenant, profile or gateway', async () => {
        const d = device('a');
        await store.insertDevice(d, []);
        await rejectsWith(store.insertDevice({ ...d, name: 'b' }, []), 'CONFLICT');
        await rejectsWith(store.insertDevice(device('c', { tenantId: 'nope' }), []), 'NOT_FOUND');
        await rejectsWith(store.insertDevice(device('c', { profileId: 'nope' }), []), 'PROFILE_NOT_FOUND');
        await rejectsWith(store.insertDevice(device('c', { gatewayId: randomUUID() }), []), 'DEVICE_NOT_FOUND');
        await rejectsWith(store.insertDevice(device('c', { createdAt: 1.5 }), []), 'BAD_REQUEST');
      });

      it('updates name, label, profile and gateway; tenant and creation time never change', async () => {
        const d = device('a', { label: 'old' });
        const gw = device('gw', { isGateway: true });
        await store.insertDevice(d, []);
        await store.insertDevice(gw, []);
        await store.insertDevice(device('taken'), []);
        const prof: DeviceProfile = { ...P1, id: 'p3', name: 'third' };
        await store.saveProfile(prof);
        const { label: _label, ...noLabel } = d;
        await store.updateDevice({ ...noLabel, name: 'renamed', profileId: prof.id, gatewayId: gw.id, tenantId: T2, createdAt: 5 });
        assert.deepEqual(await store.getDevice(d.id), { ...noLabel, name: 'renamed', profileId: prof.id, gatewayId: gw.id });
        assert.equal(await store.findDeviceByName(T1, 'a'), undefined);
        await store.insertDevice(device('a'), []); // old name is free again
        await store.updateDevice({ ...noLabel, name: 'renamed', profileId: prof.id }); // same name: fine
        await rejectsWith(store.updateDevice({ ...d, name: 'taken' }), 'DEVICE_NAME_TAKEN');
        await rejectsWith(store.updateDevice({ ...d, profileId: 'nope' }), 'PROFILE_NOT_FOUND');
        await rejectsWith(store.updateDevice(device('ghost')), 'DEVICE_NOT_FOUND');
      });

      it('lists by name with paging, total, case-insensitive search on name or label, and filters', async () => {
        const gw = device('gateway-0', { isGateway: true });
        await store.insertDevice(gw, []);
        const prof: DeviceProfile = { ...P1, id: 'p3', name: 'third' };
        await store.saveProfile(prof);
        for (let i = 24; i >= 0; i--) {
          const extra: Partial<Device> = i % 5 === 0 ? { gatewayId: gw.id } : {};
          await store.insertDevice(device(`dev-${String(i).padStart(2, '0')}`, { ...extra, ...(i % 2 ? { profileId: prof.id } : {}) }), []);
        }
        await store.insertDevice(device('zähler Küche', { label: 'Kitchen METER' }), []);
        await store.insertDevice(device('pct%_literal'), []);
        await store.insertDevice(device('other-tenant', { tenantId: T2, profileId: P2.id, label: 'dev' }), []);

        const page1 = await store.listDevices({ tenantId: T1, limit: 10, offset: 0 });
        assert.equal(page1.total, 28);
        assert.deepEqual(page1.items.map((d) => d.name), ['dev-00', 'dev-01', 'dev-02', 'dev-03', 'dev-04', 'dev-05', 'dev-06', 'dev-07', 'dev-08', 'dev-09']);
        const page3 = await store.listDevices({ tenantId: T1, limit: 10, offset: 20 });
        assert.deepEqual(page3.items.map((d) => d.name), ['dev-20', 'dev-21', 'dev-22', 'dev-23', 'dev-24', 'gateway-0', 'pct%_literal', 'zähler Küche'].sort(binary));
        assert.equal(page3.total, 28);
        assert.deepEqual((await store.listDevices({ tenantId: T1, limit: 0, offset: 0 })).items, []);

        const search = async (s: string): Promise<string[]> => (await store.listDevices({ tenantId: T1, search: s, limit: 100, offset: 0 })).items.map((d) => d.name);
        assert.deepEqual(await search('DEV-2'), ['dev-20', 'dev-21', 'dev-22', 'dev-23', 'dev-24']);
        assert.deepEqual(await search('meter'), ['zähler Küche']); // label
        assert.deepEqual(await search('KÜCHE'), ['zähler Küche']); // non-ASCII case folding
        assert.deepEqual(await search('%_'), ['pct%_literal']); // no LIKE wildcards
        assert.deepEqual(await search("'; DROP TABLE devices; --"), []);
        const filtered = await store.listDevices({ tenantId: T1, search: 'dev', gatewayId: gw.id, profileId: prof.id, limit: 100, offset: 0 });
        assert.deepEqual(filtered.items.map((d) => d.name), ['dev-05', 'dev-15']);
        assert.equal(filtered.total, 2);
        assert.equal((await store.listDevices({ tenantId: T1, gatewayId: gw.id, limit: 2, offset: 0 })).total, 5);
        assert.equal((await store.listDevices({ tenantId: T1, profileId: prof.id, limit: 2, offset: 0 })).total, 12);
        assert.deepEqual((await store.listDevices({ tenantId: T2, limit: 10, offset: 0 })).items.map((d) => d.name), ['other-tenant']);
      });

      it('bulk insert keeps the good rows and reports each bad one by index', async () => {
        const existing = device('existing');
        await store.insertDevice(existing, [token(existing, 'taken-token')]);
        const rows = ['b0', 'b1', 'existing', 'b3', 'b4', 'b5'].map((n) => {
          const d = device(n);
          return { device: d, credentials: [token(d, `tok-${n}`)] };
        });
        const d3 = rows[3]!.device;
        rows[3] = { device: d3, credentials: [token(d3, 'taken-token')] };
        const d5 = rows[5]!.device;
        rows[5] = { device: { ...d5, profileId: 'nope' }, credentials: [token(d5, 'tok-b5')] };
        const errors = await store.insertDevices(rows);
        assert.deepEqual([...errors.keys()].sort(), [2, 3, 5]);
        assert.ok(isPlatformError(errors.get(2), 'DEVICE_NAME_TAKEN'));
        assert.ok(isPlatformError(errors.get(3), 'CONFLICT'));
        assert.ok(isPlatformError(errors.get(5), 'PROFILE_NOT_FOUND'));
        for (const i of [0, 1, 4]) assert.deepEqual(await store.getDevice(rows[i]!.device.id), rows[i]!.device);
        assert.equal(await store.getDevice(d3.id), undefined);
        assert.equal(await store.findDeviceByName(T1, 'b3'), undefined);
        assert.deepEqual(await store.findCredentials({ type: 'ACCESS_TOKEN', tokenHash: 'tok-b5' }), []);
        assert.equal((await store.findCredentials({ type: 'ACCESS_TOKEN', tokenHash: 'taken-token' }))[0]?.deviceId, existing.id);
        assert.equal((await store.listDevices({ tenantId: T1, limit: 1, offset: 0 })).total, 4);
      });

      // One import chunk: the registry import hands the store at most IMPORT_CHUNK_ROWS rows per
      // call (the largest batch any caller passes); 10,000 in one call took 93 s on PostgreSQL
      // (a savepoint per row) and said nothing more.
      it(`bulk insert of ${IMPORT_CHUNK_ROWS} devices with credentials (one registry import chunk)`, async () => {
        const rows = Array.from({ length: IMPORT_CHUNK_ROWS }, (_, i) => {
          const d = device(`bulk-${i}`);
          return { device: d, credentials: [token(d, `bulk-token-${i}`)] };
        });
        const errors = await store.insertDevices(rows);
        assert.equal(errors.size, 0);
        assert.equal((await store.listDevices({ tenantId: T1, limit: 1, offset: 0 })).total, IMPORT_CHUNK_ROWS);
        const last = IMPORT_CHUNK_ROWS - 1;
        assert.equal((await store.findCredentials({ type: 'ACCESS_TOKEN', tokenHash: `bulk-token-${last}` }))[0]?.deviceId, rows[last]!.device.id);
      });

      it('delete removes the device with its credentials, attributes, status and telemetry', async () => {
        const gw = device('gw', { isGateway: true });
        const child = device('child', { gatewayId: gw.id });
        const keep = device('keep');
        for (const d of [gw, child, keep]) await store.insertDevice(d, [token(d, `t-${d.name}`)]);
        for (const d of [gw, keep]) {
          await store.setCredential({ type: 'X509_CERTIFICATE', deviceId: d.id, fingerprint: `fp-${d.name}` });
          await store.setAttributes(d.id, 'client', { fw: '1.0' }, 10);
          await store.setAttributes(d.id, 'shared', { target: 21 }, 10);
          await store.setAttributes(d.id, 'server', { note: 'x' }, 10);
          await store.saveStatuses([{ deviceId: d.id, online: true, lastActivity: 10 }]);
          await store.appendTelemetry([{ deviceId: d.id, key: 'temp', ts: 1, value: 20 }]);
        }
        assert.equal(await store.deleteDevice(gw.id), true);
        assert.equal(await store.getDevice(gw.id), undefined);
        assert.deepEqual(await store.getCredentials(gw.id), []);
        assert.deepEqual(await store.findCredentials({ type: 'ACCESS_TOKEN', tokenHash: 't-gw' }), []);
        assert.deepEqual(await store.findCredentials({ type: 'X509_CERTIFICATE', fingerprint: 'fp-gw' }), []);
        for (const scope of ['client', 'shared', 'server'] as const) assert.deepEqual(await store.getAttributes(gw.id, scope), []);
        assert.deepEqual(await store.getStatuses([gw.id]), []);
        assert.deepEqual(await store.queryRaw({ deviceId: gw.id, keys: ['temp'], from: 0, to: 10, limit: 10, order: 'asc' }), {});
        assert.deepEqual(await store.latest(gw.id), {});
        assert.deepEqual(await store.telemetryKeys(gw.id), []);
        // a child of a deleted gateway stays, unlinked
        const { gatewayId: _gw, ...unlinked } = child;
        assert.deepEqual(await store.getDevice(child.id), unlinked);
        // the other device is untouched
        assert.equal((await store.getCredentials(keep.id)).length, 2);
        assert.equal((await store.getAttributes(keep.id, 'shared')).length, 1);
        assert.equal((await store.getStatuses([keep.id])).length, 1);
        assert.deepEqual(await store.telemetryKeys(keep.id), ['temp']);
        // deleting again: false; the name and token are free again
        assert.equal(await store.deleteDevice(gw.id), false);
        const again = device('gw');
        await store.insertDevice(again, [token(again, 't-gw')]);
        // telemetry under the old id starts from scratch
        await store.appendTelemetry([{ deviceId: gw.id, key: 'temp', ts: 2, value: 1 }]);
        assert.deepEqual(await store.latest(gw.id), { temp: { ts: 2, value: 1 } });
      });
    });

    describe('credentials', () => {
      it('finds by token, fingerprint, client id or user name', async () => {
        const a = device('a');
        const b = device('b');
        const c = device('c');
        await store.insertDevice(a, [
          token(a, 'tok-a'),
          { type: 'MQTT_BASIC', deviceId: a.id, clientId: 'client-a', username: 'shared-user', passwordHash: 'scrypt$x' },
          { type: 'X509_CERTIFICATE', deviceId: a.id, fingerprint: 'AB:CD' },
        ]);
        await store.insertDevice(b, [{ type: 'MQTT_BASIC', deviceId: b.id, username: 'shared-user', clientId: 'client-b' }]);
        await store.insertDevice(c, [{ type: 'MQTT_BASIC', deviceId: c.id, username: 'only-user' }]);

        assert.deepEqual(await store.findCredentials({ type: 'ACCESS_TOKEN', tokenHash: 'tok-a' }), [token(a, 'tok-a')]);
        assert.deepEqual(await store.findCredentials({ type: 'ACCESS_TOKEN', tokenHash: 'tok-x' }), []);
        assert.deepEqual(await store.findCredentials({ type: 'X509_CERTIFICATE', fingerprint: 'AB:CD' }), [
          { type: 'X509_CERTIFICATE', deviceId: a.id, fingerprint: 'AB:CD' },
        ]);
        const basic = async (lookup: { clientId?: string; username?: string }): Promise<string[]> =>
          (await store.findCredentials({ type: 'MQTT_BASIC', ...lookup })).map((x) => x.deviceId).sort(binary);
        assert.deepEqual(await basic({ clientId: 'client-a' }), [a.id]);
        assert.deepEqual(await basic({ username: 'shared-user' }), [a.id, b.id].sort(binary));
        assert.deepEqual(await basic({ clientId: 'client-b', username: 'only-user' }), [b.id, c.id].sort(binary));
        assert.deepEqual(await basic({}), []);
        const [onlyUser] = await store.findCredentials({ type: 'MQTT_BASIC', username: 'only-user' });
        assert.deepEqual(onlyUser, { type: 'MQTT_BASIC', deviceId: c.id, username: 'only-user' });
        assert.deepEqual(
          (await store.getCredentials(a.id)).map((x) => x.type),
          ['ACCESS_TOKEN', 'MQTT_BASIC', 'X509_CERTIFICATE'],
        );
        assert.deepEqual((await store.getCredentials(a.id))[1], {
          type: 'MQTT_BASIC',
          deviceId: a.id,
          clientId: 'client-a',
          username: 'shared-user',
          passwordHash: 'scrypt$x',
        });
      });

      it('setCredential replaces the same type; another device holding it is a CONFLICT', async () => {
        const a = device('a');
        const b = device('b');
        await store.insertDevice(a, [token(a, 'tok-a'), { type: 'X509_CERTIFICATE', deviceId: a.id, fingerprint: 'fp-a' }]);
        await store.insertDevice(b, [token(b, 'tok-b'), { type: 'MQTT_BASIC', deviceId: b.id, clientId: 'c', username: 'u' }]);

        await store.setCredential(token(a, 'tok-a2'));
        assert.deepEqual(await store.findCredentials({ type: 'ACCESS_TOKEN', tokenHash: 'tok-a' }), []);
        assert.deepEqual(await store.findCredentials({ type: 'ACCESS_TOKEN', tokenHash: 'tok-a2' }), [token(a, 'tok-a2')]);
        assert.equal((await store.getCredentials(a.id)).length, 2);
        await store.setCredential(token(a, 'tok-a2')); // the same again: fine

        await rejectsWith(store.setCredential(token(a, 'tok-b')), 'CONFLICT');
        await rejectsWith(store.setCredential({ type: 'X509_CERTIFICATE', deviceId: b.id, fingerprint: 'fp-a' }), 'CONFLICT');
        await rejectsWith(store.setCredential({ type: 'MQTT_BASIC', deviceId: a.id, clientId: 'c', username: 'u' }), 'CONFLICT');
        // the holder keeps it
        assert.equal((await store.findCredentials({ type: 'ACCESS_TOKEN', tokenHash: 'tok-b' }))[0]?.deviceId, b.id);
        assert.deepEqual((await store.getCredentials(a.id)).map((x) => x.type), ['ACCESS_TOKEN', 'X509_CERTIFICATE']);
        // a different (client id, user name) pair with the same user name is a different credential
        await store.setCredential({ type: 'MQTT_BASIC', deviceId: a.id, clientId: 'c2', username: 'u' });

        await rejectsWith(store.setCredential(token(device('ghost'), 'tok-ghost')), 'DEVICE_NOT_FOUND');
        await rejectsWith(store.setCredential(token(a, '')), 'BAD_REQUEST');
        await rejectsWith(store.setCredential({ type: 'MQTT_BASIC', deviceId: a.id }), 'BAD_REQUEST');
        const c = device('c');
        await rejectsWith(store.insertDevice(c, [token(c, 'x1'), token(c, 'x2')]), 'CONFLICT');
        await rejectsWith(store.insertDevice(c, [token(c, 'tok-b')]), 'CONFLICT');
        assert.equal(await store.getDevice(c.id), undefined);
      });
    });

    describe('telemetry', () => {
      const id = randomUUID();
      const row = (key: string, ts: number, value: TelemetryValue, deviceId = id): TelemetryRow => ({ deviceId, key, ts, value });
      const raw = (keys: string[], from = 0, to = Number.MAX_SAFE_INTEGER, limit = 1000, order: 'asc' | 'desc' = 'asc') =>
        store.queryRaw({ deviceId: id, keys, from, to, limit, order });

      it('round-trips numbers, booleans, strings and JSON exactly', async () => {
        const values: Record<string, TelemetryValue> = {
          int: 42,
          neg: -7,
          zero: 0,
          float: 0.1 + 0.2,
          big: 1e300,
          tiny: 5e-324,
          safe: Number.MAX_SAFE_INTEGER,
          yes: true,
          no: false,
          str: 'hello',
          empty: '',
          numeric: '123',
          truthy: 'true',
          unicode: 'Grüße 👋',
          obj: { a: 1, b: [true, null, 'x'], c: { d: 2.5 } },
          arr: [1, 'two', { three: 3 }],
          emptyObj: {},
        };
        await store.appendTelemetry(Object.entries(values).map(([k, v]) => row(k, 1000, v)));
        const got = await raw(Object.keys(values));
        for (const [k, v] of Object.entries(values)) assert.deepEqual(got[k], [{ ts: 1000, value: v }], k);
        const latest = await store.latest(id);
        for (const [k, v] of Object.entries(values)) assert.deepEqual(latest[k], { ts: 1000, value: v }, k);
        assert.equal(typeof latest.yes?.value, 'boolean');
        assert.equal(typeof latest.numeric?.value, 'string');
      });

      it('re-appending is idempotent; the same (device, key, ts) replaces the value', async () => {
        const batch = [row('t', 1, 10), row('t', 2, 20), row('t', 3, 30)];
        await store.appendTelemetry(batch);
        await store.appendTelemetry(batch);
        assert.deepEqual(await raw(['t']), { t: [{ ts: 1, value: 10 }, { ts: 2, value: 20 }, { ts: 3, value: 30 }] });
        await store.appendTelemetry([row('t', 2, 'changed')]);
        assert.deepEqual((await raw(['t'])).t?.[1], { ts: 2, value: 'changed' });
        // within one batch the later row wins
        await store.appendTelemetry([row('u', 5, 1), row('u', 5, 2)]);
        assert.deepEqual(await raw(['u']), { u: [{ ts: 5, value: 2 }] });
        assert.deepEqual(await store.latest(id, ['u']), { u: { ts: 5, value: 2 } });
        await store.appendTelemetry([]);
      });

      it('latest only moves forward in time; an equal ts replaces it', async () => {
        await store.appendTelemetry([row('t', 200, 2)]);
        await store.appendTelemetry([row('t', 100, 1)]);
        assert.deepEqual(await store.latest(id, ['t']), { t: { ts: 200, value: 2 } });
        await store.appendTelemetry([row('t', 200, 3)]);
        assert.deepEqual(await store.latest(id, ['t']), { t: { ts: 200, value: 3 } });
        await store.appendTelemetry([row('t', 300, 4), row('t', 250, 5), row('v', 1, true)]);
        assert.deepEqual(await store.latest(id), { t: { ts: 300, value: 4 }, v: { ts: 1, value: true } });
        assert.deepEqual(await store.latest(id, ['v', 'missing']), { v: { ts: 1, value: true } });
        assert.deepEqual(await store.latest(id, []), {});
        assert.deepEqual(await store.latest(randomUUID()), {});
        assert.deepEqual(await store.telemetryKeys(id), ['t', 'v']);
        assert.deepEqual(await store.telemetryKeys(randomUUID()), []);
      });

      it('queries raw ranges inclusively with limit and order, per key', async () => {
        const other = randomUUID();
        await store.appendTelemetry([
          ...[10, 20, 30, 40, 50].map((ts) => row('a', ts, ts / 10)),
          row('b', 30, 'x'),
          row('a', 30, 999, other),
        ]);
        assert.deepEqual(await raw(['a'], 20, 40), { a: [{ ts: 20, value: 2 }, { ts: 30, value: 3 }, { ts: 40, value: 4 }] });
        assert.deepEqual(await raw(['a'], 20, 40, 2, 'desc'), { a: [{ ts: 40, value: 4 }, { ts: 30, value: 3 }] });
        assert.deepEqual(await raw(['a'], 0, 100, 2, 'asc'), { a: [{ ts: 10, value: 1 }, { ts: 20, value: 2 }] });
        assert.deepEqual(await raw(['a', 'b', 'zzz'], 25, 35), { a: [{ ts: 30, value: 3 }], b: [{ ts: 30, value: 'x' }] });
        assert.deepEqual(await raw(['a'], 41, 49), {});
        assert.deepEqual(await raw(['a'], 50, 10), {});
        assert.deepEqual(await raw(['a'], 0, 100, 0), {});
        assert.deepEqual(await raw([]), {});
        assert.deepEqual(await store.queryRaw({ deviceId: randomUUID(), keys: ['a'], from: 0, to: 100, limit: 10, order: 'asc' }), {});
      });

      it('aggregates numeric values into buckets from + n*interval', async () => {
        // from = 1000, interval = 100: buckets [1000,1100) [1100,1200) [1200,1300) [1300,1400) ...
        await store.appendTelemetry([
          row('p', 999, 1000), // before from
          row('p', 1000, 1),
          row('p', 1050, 3),
          row('p', 1099, 5.5),
          row('p', 1020, 'text'), // not numeric
          row('p', 1030, true), // not numeric
          row('p', 1100, 10),
          row('p', 1250, -2),
          row('p', 1251, 'only text here'),
          row('p', 1399, 4),
          row('p', 1300, 0.5),
          row('p', 1400, 7), // after to
          row('q', 1100, 'no numbers'),
        ]);
        const agg = async (a: 'avg' | 'min' | 'max' | 'sum' | 'count') =>
          store.queryAggregated({ deviceId: id, keys: ['p', 'q', 'none'], from: 1000, to: 1399, interval: 100, agg: a });
        const series = (values: number[]) => ({ p: [1000, 1100, 1200, 1300].map((ts, i) => ({ ts, value: values[i] })) });
        assert.deepEqual(await agg('count'), series([3, 1, 1, 2]));
        assert.deepEqual(await agg('sum'), series([9.5, 10, -2, 4.5]));
        assert.deepEqual(await agg('min'), series([1, 10, -2, 0.5]));
        assert.deepEqual(await agg('max'), series([5.5, 10, -2, 4]));
        assert.deepEqual(await agg('avg'), series([9.5 / 3, 10, -2, 2.25]));
        // a from that is not aligned to the data: buckets [950,1100) [1100,1250) [1250,1400) [1400,1550)
        const shifted = await store.queryAggregated({ deviceId: id, keys: ['p'], from: 950, to: 2000, interval: 150, agg: 'count' });
        assert.deepEqual(shifted, {
          p: [
            { ts: 950, value: 4 }, // 999, 1000, 1050, 1099
            { ts: 1100, value: 1 }, // 1100
            { ts: 1250, value: 3 }, // 1250, 1300, 1399
            { ts: 1400, value: 1 }, // 1400
          ],
        });
        // empty buckets (1150, 1200) are left out
        const narrow = await store.queryAggregated({ deviceId: id, keys: ['p'], from: 1000, to: 1399, interval: 50, agg: 'count' });
        assert.deepEqual(narrow.p?.map((b) => [b.ts, b.value]), [[1000, 1], [1050, 2], [1100, 1], [1250, 1], [1300, 1], [1350, 1]]);
        await rejectsWith(store.queryAggregated({ deviceId: id, keys: ['p'], from: 0, to: 1, interval: 0, agg: 'avg' }), 'BAD_REQUEST');
        await rejectsWith(store.queryAggregated({ deviceId: id, keys: ['p'], from: 0, to: 1, interval: 1.5, agg: 'avg' }), 'BAD_REQUEST');
        assert.deepEqual(await store.queryAggregated({ deviceId: randomUUID(), keys: ['p'], from: 0, to: 1, interval: 1, agg: 'sum' }), {});
      });

      it('rejects a batch with an invalid value as a whole, then accepts the same device again', async () => {
        const fresh = randomUUID();
        await rejectsWith(store.appendTelemetry([row('x', 1, 1, fresh), row('new-key', 2, Number.NaN, fresh)]), 'NON_FINITE_NUMBER');
        await rejectsWith(store.appendTelemetry([row('x', 1, null as unknown as TelemetryValue, fresh)]), 'INVALID_TELEMETRY');
        await rejectsWith(store.appendTelemetry([row('x', 1.5, 1, fresh)]), 'INVALID_TELEMETRY');
        assert.deepEqual(await store.telemetryKeys(fresh), []);
        await store.appendTelemetry([row('x', 1, 1, fresh), row('new-key', 2, 2, fresh)]);
        assert.deepEqual(await store.latest(fresh), { x: { ts: 1, value: 1 }, 'new-key': { ts: 2, value: 2 } });
        // a rolled-back batch must not leave ids behind that a later device could be given too
        const [a, b] = [randomUUID(), randomUUID()];
        const bad = [row('k', 1, 1, a), row('k2', 2, 2, a), row('k', 3, 3, a), row('k2', 4, Number.POSITIVE_INFINITY, a)];
        await rejectsWith(store.appendTelemetry(bad), 'NON_FINITE_NUMBER');
        await store.appendTelemetry([row('k', 1, 1, a)]);
        await store.appendTelemetry([row('k', 5, 5, b), row('k2', 5, 5, b)]);
        assert.deepEqual(await store.latest(a), { k: { ts: 1, value: 1 } });
        assert.deepEqual(await store.latest(b), { k: { ts: 5, value: 5 }, k2: { ts: 5, value: 5 } });
      });

      it('treats keys as data: SQL fragments and "__proto__" are ordinary keys', async () => {
        const keys = ['__proto__', 'constructor', "k'); DROP TABLE ts_kv; --", '%', ''];
        await store.appendTelemetry(keys.map((k, i) => row(k, 10 + i, i)));
        const got = await raw(keys);
        assert.deepEqual(Object.keys(got), keys);
        keys.forEach((k, i) => assert.deepEqual(Object.getOwnPropertyDescriptor(got, k)?.value, [{ ts: 10 + i, value: i }], k));
        const latest = await store.latest(id);
        assert.deepEqual(Object.getOwnPropertyDescriptor(latest, '__proto__')?.value, { ts: 10, value: 0 });
        assert.equal(Object.getPrototypeOf(latest), Object.prototype);
        const agg = await store.queryAggregated({ deviceId: id, keys: ['__proto__'], from: 0, to: 100, interval: 100, agg: 'sum' });
        assert.deepEqual(Object.getOwnPropertyDescriptor(agg, '__proto__')?.value, [{ ts: 0, value: 0 }]);
        assert.deepEqual(await store.telemetryKeys(id), [...keys].sort(binary));
        const values = JSON.parse('{"__proto__": {"x": 1}, "a\'--": "\'; DELETE FROM attributes; --"}') as Record<string, JsonValue>;
        await store.setAttributes(id, 'client', values, 1);
        assert.deepEqual(await store.getAttributes(id, 'client'), [
          { key: '__proto__', value: { x: 1 }, lastUpdateTs: 1 },
          { key: "a'--", value: "'; DELETE FROM attributes; --", lastUpdateTs: 1 },
        ]);
      });

      // The SQLite store appends to a log merged into its main table in the background (after a
      // commit, between turns of the event loop): these sequences yield between commits so that
      // some rows are merged and others not when the queries run (sqlite.test.ts runs this suite
      // with a merge after every commit and with no merge at all).
      const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

      it('replaces a point whether the stored one is recent or older (merged), and keeps the newest', async () => {
        await store.appendTelemetry([row('r', 1, 10), row('r', 2, 20), row('r', 3, 30)]);
        await tick(); // 1..3 may be merged now
        await store.appendTelemetry([row('r', 2, 21)]); // replaces an older point
        await store.appendTelemetry([row('r', 3, 31), row('r', 4, 40)]);
        await store.appendTelemetry([row('r', 4, 'forty')]); // replaces a point of the previous commit
        const expected = [{ ts: 1, value: 10 }, { ts: 2, value: 21 }, { ts: 3, value: 31 }, { ts: 4, value: 'forty' }];
        assert.deepEqual(await raw(['r']), { r: expected });
        await tick();
        assert.deepEqual(await raw(['r']), { r: expected });
        await store.appendTelemetry([row('r', 2, 22), row('r', 2, 23)]); // twice in one batch after a merge
        await tick();
        await store.appendTelemetry([row('r', 1, 11)]);
        assert.deepEqual(await raw(['r']), { r: [{ ts: 1, value: 11 }, { ts: 2, value: 23 }, ...expected.slice(2)] });
        assert.deepEqual(await raw(['r'], 0, 10, 2, 'desc'), { r: [{ ts: 4, value: 'forty' }, { ts: 3, value: 31 }] });
        assert.deepEqual(await store.latest(id, ['r']), { r: { ts: 4, value: 'forty' } });
        // a large batch of one series replacing points of earlier commits
        await store.appendTelemetry(Array.from({ length: 20 }, (_, i) => row('r', i + 1, 100 + i)));
        const all = await raw(['r']);
        assert.equal(all.r?.length, 20);
        assert.deepEqual(all.r?.slice(0, 5).map((p) => p.value), [100, 101, 102, 103, 104]);
        await tick();
        await store.appendTelemetry(Array.from({ length: 20 }, (_, i) => row('r', i + 1, 200 + i)));
        await store.appendTelemetry([row('r', 7, 'seven')]);
        await tick();
        const again = (await raw(['r'])).r ?? [];
        assert.deepEqual(again.map((p) => p.value), [200, 201, 202, 203, 204, 205, 'seven', ...Array.from({ length: 13 }, (_, i) => 207 + i)]);
      });

      it('queries ranges with limit and order across recent and older rows', async () => {
        await store.appendTelemetry([10, 20, 30, 40, 50].map((ts) => row('s', ts, ts)));
        await tick();
        await store.appendTelemetry([60, 70, 80, 90, 100].map((ts) => row('s', ts, ts)));
        await store.appendTelemetry([row('s', 30, -30), row('s', 5, 5), row('s', 55, 55)]);
        const points = (tss: number[], replaced = new Map([[30, -30]])) => tss.map((ts) => ({ ts, value: replaced.get(ts) ?? ts }));
        assert.deepEqual(await raw(['s']), { s: points([5, 10, 20, 30, 40, 50, 55, 60, 70, 80, 90, 100]) });
        assert.deepEqual(await raw(['s'], 0, 1000, 4, 'asc'), { s: points([5, 10, 20, 30]) });
        assert.deepEqual(await raw(['s'], 0, 1000, 4, 'desc'), { s: points([100, 90, 80, 70]) });
        assert.deepEqual(await raw(['s'], 25, 65, 4, 'desc'), { s: points([60, 55, 50, 40]) });
        assert.deepEqual(await raw(['s'], 25, 65, 3, 'asc'), { s: points([30, 40, 50]) });
        assert.deepEqual(await raw(['s'], 51, 54), {});
        await tick();
        assert.deepEqual(await raw(['s'], 25, 65, 4, 'desc'), { s: points([60, 55, 50, 40]) });
      });

      it('aggregates across recent and older rows; a replaced point counts once, with its new value', async () => {
        // buckets of 100 from 0: [0,100) [100,200) [200,300)
        await store.appendTelemetry([row('g', 10, 1), row('g', 20, 2), row('g', 110, 4), row('g', 120, 'text')]);
        await tick();
        await store.appendTelemetry([row('g', 30, 8), row('g', 130, 16), row('g', 210, 32)]);
        await store.appendTelemetry([row('g', 20, 64), row('g', 110, 'no longer a number'), row('g', 120, 128)]);
        const agg = async (a: 'avg' | 'min' | 'max' | 'sum' | 'count') =>
          (await store.queryAggregated({ deviceId: id, keys: ['g'], from: 0, to: 299, interval: 100, agg: a })).g?.map((b) => [b.ts, b.value]);
        // [0,100): 1, 64, 8   [100,200): 16, 128   [200,300): 32
        assert.deepEqual(await agg('count'), [[0, 3], [100, 2], [200, 1]]);
        assert.deepEqual(await agg('sum'), [[0, 73], [100, 144], [200, 32]]);
        assert.deepEqual(await agg('min'), [[0, 1], [100, 16], [200, 32]]);
        assert.deepEqual(await agg('max'), [[0, 64], [100, 128], [200, 32]]);
        assert.deepEqual(await agg('avg'), [[0, 73 / 3], [100, 72], [200, 32]]);
        await tick();
        assert.deepEqual(await agg('sum'), [[0, 73], [100, 144], [200, 32]]);
        // a bucket that only recent rows fill, and a range that starts inside a bucket of them
        await store.appendTelemetry([row('g', 350, 0.5), row('g', 360, 0.25)]);
        const late = await store.queryAggregated({ deviceId: id, keys: ['g'], from: 130, to: 400, interval: 100, agg: 'sum' });
        assert.deepEqual(late.g?.map((b) => [b.ts, b.value]), [[130, 16 + 32], [330, 0.75]]);
      });

      // Buckets of whole hours from a whole hour: the SQLite store reads them from its hourly
      // roll-ups (and ts_kv for a partial hour at the end); the answers must not change.
      it('aggregates hour buckets the same way: replaced and non-numeric values, a partial last hour', async () => {
        const H = 3_600_000;
        const t0 = 100 * H;
        const minutes = (h: number, m: number): number => t0 + h * H + m * 60_000;
        // 25 rows of one series in one commit (the SQLite store's direct path when nothing is unmerged)
        await store.appendTelemetry(Array.from({ length: 25 }, (_, i) => row('hh', minutes(Math.floor(i / 5), (i % 5) * 10), i)));
        await tick();
        await store.appendTelemetry([row('hh', minutes(0, 10), 100), row('hh', minutes(1, 0), 'off'), row('hh', minutes(2, 5), true), row('hh', minutes(4, 59), -1)]);
        await tick();
        await store.appendTelemetry([row('hh', minutes(3, 20), 0.5), row('hh', minutes(0, 0), 7)]); // maybe still unmerged
        const agg = async (a: 'avg' | 'min' | 'max' | 'sum' | 'count', to: number, interval = H) =>
          (await store.queryAggregated({ deviceId: id, keys: ['hh'], from: t0, to, interval, agg: a })).hh?.map((b) => [b.ts - t0, b.value]);
        // hour 0: 7, 100, 2, 3, 4   hour 1: 6..9 (5 is now 'off')   hour 2: 10..14 (+ true)   hour 3: 15, 16, 0.5 (was 17), 18, 19   hour 4: 20..24, -1
        assert.deepEqual(await agg('count', t0 + 5 * H - 1), [[0, 5], [H, 4], [2 * H, 5], [3 * H, 5], [4 * H, 6]]);
        assert.deepEqual(await agg('sum', t0 + 5 * H - 1), [[0, 116], [H, 30], [2 * H, 60], [3 * H, 68.5], [4 * H, 109]]);
        assert.deepEqual(await agg('min', t0 + 5 * H - 1), [[0, 2], [H, 6], [2 * H, 10], [3 * H, 0.5], [4 * H, -1]]);
        assert.deepEqual(await agg('max', t0 + 5 * H - 1), [[0, 100], [H, 9], [2 * H, 14], [3 * H, 19], [4 * H, 24]]);
        assert.deepEqual(await agg('avg', t0 + 2 * H - 1, 2 * H), [[0, 146 / 9]]);
        // a partial last hour: to = 3:30 keeps 15, 16, 0.5 and 18 of hour 3
        assert.deepEqual(await agg('sum', minutes(3, 30), 3 * H), [[0, 206], [3 * H, 49.5]]);
        await tick();
        assert.deepEqual(await agg('count', minutes(3, 30), 3 * H), [[0, 14], [3 * H, 4]]);
      });

      // The SQLite store writes ts_latest when the log is merged, not in the commit: the risk is a
      // latest() or telemetryKeys() that lags behind an acknowledged write, or that an older
      // point (merged later) moves backwards.
      it('latest and telemetry keys see each acknowledged write at once, merged or not, and never move back', async () => {
        const at = async (keys?: string[]) => store.latest(id, keys);
        await store.appendTelemetry([row('la', 100, 1), row('lb', 100, 'x')]);
        assert.deepEqual(await at(['la', 'lb']), { la: { ts: 100, value: 1 }, lb: { ts: 100, value: 'x' } });
        await tick();
        await store.appendTelemetry([row('la', 50, 2)]); // older: recent but not latest
        assert.deepEqual(await at(['la']), { la: { ts: 100, value: 1 } });
        await store.appendTelemetry([row('lb', 100, 'y')]); // same ts as a maybe merged point: replaces it
        assert.deepEqual(await at(), { la: { ts: 100, value: 1 }, lb: { ts: 100, value: 'y' } });
        await tick();
        assert.deepEqual(await at(), { la: { ts: 100, value: 1 }, lb: { ts: 100, value: 'y' } });
        await store.appendTelemetry([row('lc', 7, true)]); // a new key, only in the log
        assert.deepEqual(await store.telemetryKeys(id), ['la', 'lb', 'lc']);
        assert.deepEqual(await at(['lc', 'la']), { lc: { ts: 7, value: true }, la: { ts: 100, value: 1 } });
        // many rows of one series in one commit (written straight to the main table), then single rows
        await store.appendTelemetry(Array.from({ length: 12 }, (_, i) => row('ld', i + 1, i + 1)));
        assert.deepEqual(await at(['ld']), { ld: { ts: 12, value: 12 } });
        await store.appendTelemetry([row('ld', 3, 'old')]);
        await tick();
        assert.deepEqual(await at(['ld']), { ld: { ts: 12, value: 12 } });
        await store.appendTelemetry([row('ld', 12, 'twelve'), row('la', 101, 5)]);
        assert.deepEqual(await at(['ld', 'la']), { ld: { ts: 12, value: 'twelve' }, la: { ts: 101, value: 5 } });
        await tick();
        await store.appendTelemetry(Array.from({ length: 12 }, (_, i) => row('ld', i + 1, -i)));
        assert.deepEqual(await at(['ld']), { ld: { ts: 12, value: -11 } });
        await tick();
        assert.deepEqual(await at(), {
          la: { ts: 101, value: 5 },
          lb: { ts: 100, value: 'y' },
          lc: { ts: 7, value: true },
          ld: { ts: 12, value: -11 },
        });
      });

      it('deletes a device with recent and older telemetry', async () => {
        const d = device('short-lived');
        await store.insertDevice(d, [token(d, 'sl')]);
        const rowOf = (key: string, ts: number, value: number): TelemetryRow => ({ deviceId: d.id, key, ts, value });
        await store.appendTelemetry([rowOf('k', 1, 1)]);
        await tick();
        await store.appendTelemetry([rowOf('k', 2, 2), rowOf('other', 3, 3)]);
        assert.equal(await store.deleteDevice(d.id), true);
        assert.deepEqual(await store.queryRaw({ deviceId: d.id, keys: ['k', 'other'], from: 0, to: 10, limit: 10, order: 'asc' }), {});
        await tick();
        await store.appendTelemetry([rowOf('k', 5, 5)]);
        assert.deepEqual(await store.queryRaw({ deviceId: d.id, keys: ['k', 'other'], from: 0, to: 10, limit: 10, order: 'asc' }), { k: [{ ts: 5, value: 5 }] });
        assert.deepEqual(await store.telemetryKeys(d.id), ['k']);
      });

      it('stores what it was given, not a reference to it', async () => {
        const obj = { n: 1 };
        await store.appendTelemetry([row('o', 1, obj)]);
        obj.n = 2;
        const first = await store.latest(id);
        assert.deepEqual(first.o?.value, { n: 1 });
        (first.o?.value as { n: number }).n = 3;
        assert.deepEqual((await store.latest(id)).o?.value, { n: 1 });
      });
    });

    describe('outbox', () => {
      const id = randomUUID();
      const row = (ts: number, value: TelemetryValue = ts): TelemetryRow => ({ deviceId: id, key: 'k', ts, value });

      it('a commit with events writes one record in its transaction; records come back oldest first until acknowledged', async () => {
        assert.equal(await store.appendTelemetry([row(1)]), undefined, 'no events, no record');
        assert.deepEqual(await store.takeOutbox(10), []);
        const a = await store.appendTelemetry([row(2)], '["a"]');
        const b = await store.appendTelemetry([row(3), row(4)], '["b"]');
        const c = await store.appendTelemetry([row(5)], '["c"]');
        assert.ok(typeof a === 'number' && typeof b === 'number' && typeof c === 'number');
        assert.ok(a < b && b < c, 'ids grow in write order');
        assert.deepEqual(await store.takeOutbox(10), [{ id: a, payload: '["a"]' }, { id: b, payload: '["b"]' }, { id: c, payload: '["c"]' }]);
        assert.deepEqual(await store.takeOutbox(2), [{ id: a, payload: '["a"]' }, { id: b, payload: '["b"]' }]);
        await store.ackOutbox([a, c]);
        assert.deepEqual(await store.takeOutbox(10), [{ id: b, payload: '["b"]' }]);
        await store.ackOutbox([b, b, 999_999]); // repeated and unknown ids are ignored
        assert.deepEqual(await store.takeOutbox(10), []);
        const d = await store.appendTelemetry([row(6)], '["d"]');
        assert.deepEqual(await store.takeOutbox(10), [{ id: d, payload: '["d"]' }]);
      });

      it('a commit that fails writes no record (the events never exist without their rows)', async () => {
        await rejectsWith(store.appendTelemetry([row(1), row(2, Number.NaN)], '["lost"]'), 'NON_FINITE_NUMBER');
        assert.deepEqual(await store.takeOutbox(10), []);
        assert.deepEqual(await store.queryRaw({ deviceId: id, keys: ['k'], from: 0, to: 10, limit: 10, order: 'asc' }), {});
      });
    });

    describe('attributes and statuses', () => {
      const id = randomUUID();

      it('sets, reads, overwrites and deletes attributes per scope', async () => {
        await store.setAttributes(id, 'client', { fw: '1.0', cfg: { a: [1, 2], b: null }, n: 3, flag: false }, 100);
        await store.setAttributes(id, 'shared', { fw: 'desired-2.0' }, 110);
        assert.deepEqual(await store.getAttributes(id, 'client'), [
          { key: 'cfg', value: { a: [1, 2], b: null }, lastUpdateTs: 100 },
          { key: 'flag', value: false, lastUpdateTs: 100 },
          { key: 'fw', value: '1.0', lastUpdateTs: 100 },
          { key: 'n', value: 3, lastUpdateTs: 100 },
        ]);
        assert.deepEqual(await store.getAttributes(id, 'shared'), [{ key: 'fw', value: 'desired-2.0', lastUpdateTs: 110 }]);
        assert.deepEqual(await store.getAttributes(id, 'server'), []);
        await store.setAttributes(id, 'client', { fw: '1.1', nothing: null }, 200);
        assert.deepEqual(await store.getAttributes(id, 'client', ['fw', 'nothing', 'missing', 'n']), [
          { key: 'fw', value: '1.1', lastUpdateTs: 200 },
          { key: 'n', value: 3, lastUpdateTs: 100 },
          { key: 'nothing', value: null, lastUpdateTs: 200 },
        ]);
        assert.deepEqual(await store.getAttributes(id, 'client', []), []);
        await store.deleteAttributes(id, 'client', ['fw', 'missing']);
        assert.deepEqual((await store.getAttributes(id, 'client')).map((e) => e.key), ['cfg', 'flag', 'n', 'nothing']);
        assert.equal((await store.getAttributes(id, 'shared')).length, 1);
        await rejectsWith(store.setAttributes(id, 'bogus' as 'client', { a: 1 }, 1), 'BAD_REQUEST');
      });

      it('saves many statuses at once, upserting; absent fields stay absent', async () => {
        const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
        await store.saveStatuses([
          { deviceId: a, online: true, lastActivity: 10, lastConnect: 5, transport: 'mqtt' },
          { deviceId: b, online: false },
        ]);
        await store.saveStatuses([{ deviceId: a, online: false, lastActivity: 20, lastConnect: 5, lastDisconnect: 20, transport: 'mqtt' }]);
        assert.deepEqual(await store.getStatuses([c, b, a]), [
          { deviceId: b, online: false },
          { deviceId: a, online: false, lastActivity: 20, lastConnect: 5, lastDisconnect: 20, transport: 'mqtt' },
        ]);
        assert.deepEqual(await store.getStatuses([]), []);
        await store.saveStatuses([]);
      });
    });

    describe('users, api keys, settings', () => {
      it('stores users with unique, case-insensitive emails', async () => {
        assert.equal(await store.countUsers(), 0);
        const user = { id: 'u1', tenantId: T1, email: 'Admin@Example.com', passwordHash: 'h', role: 'tenant-admin' as const, createdAt: 1, disabled: false, tokenVersion: 0 };
        await store.insertUser(user);
        assert.equal(await store.countUsers(), 1);
        assert.deepEqual(await store.getUser('u1'), user);
        assert.deepEqual(await store.findUserByEmail('admin@example.COM'), user);
        assert.equal(await store.findUserByEmail('other@example.com'), undefined);
        assert.equal(await store.getUser('nope'), undefined);
        await rejectsWith(store.insertUser({ ...user, id: 'u2', email: 'ADMIN@example.com' }), 'CONFLICT');
        await rejectsWith(store.insertUser({ ...user, email: 'x@example.com' }), 'CONFLICT');
        await rejectsWith(store.insertUser({ ...user, id: 'u3', email: 'y@example.com', tenantId: 'nope' }), 'NOT_FOUND');
        assert.equal(await store.countUsers(), 1);
      });

      it('stores API keys by hash and settings by name', async () => {
        await store.insertUser({ id: 'u1', tenantId: T1, email: 'a@b.c', passwordHash: 'h', role: 'operator', createdAt: 1, disabled: false, tokenVersion: 0 });
        const key = { id: 'k1', userId: 'u1', name: 'ci', keyHash: 'sha256:abc', createdAt: 2 };
        await store.insertApiKey(key);
        assert.deepEqual(await store.findApiKey('sha256:abc'), key);
        assert.equal(await store.findApiKey('sha256:zzz'), undefined);
        await rejectsWith(store.insertApiKey({ ...key, id: 'k2' }), 'CONFLICT');
        await rejectsWith(store.insertApiKey({ ...key, id: 'k3', keyHash: 'other', userId: 'nope' }), 'NOT_FOUND');

        assert.equal(await store.getSetting('jwt.secret'), undefined);
        await store.putSetting('jwt.secret', 's1');
        await store.putSetting('jwt.secret', 's2');
        assert.equal(await store.getSetting('jwt.secret'), 's2');
      });

      it('lists, updates and deletes users; deleting one removes its API keys', async () => {
        const base = { tenantId: T1, passwordHash: 'h', role: 'operator' as const, disabled: false, tokenVersion: 0 };
        await store.insertUser({ ...base, id: 'u2', email: 'b@x.y', createdAt: 2 });
        await store.insertUser({ ...base, id: 'u1', email: 'a@x.y', createdAt: 1 });
        assert.deepEqual((await store.listUsers(T1)).map((u) => u.id), ['u1', 'u2']);
        assert.deepEqual(await store.listUsers('other-tenant'), []);
        const updated = await store.updateUser('u1', { role: 'tenant-admin', disabled: true, tokenVersion: 3, passwordHash: 'h2' });
        assert.deepEqual(updated, { ...base, id: 'u1', email: 'a@x.y', createdAt: 1, role: 'tenant-admin', disabled: true, tokenVersion: 3, passwordHash: 'h2' });
        assert.deepEqual(await store.getUser('u1'), updated);
        assert.equal(await store.updateUser('nope', { role: 'tenant-admin' }), undefined);
        await store.insertApiKey({ id: 'k1', userId: 'u1', name: 'ci', keyHash: 'h-k1', createdAt: 5, expiresAt: 99 });
        await store.insertApiKey({ id: 'k2', userId: 'u1', name: 'laptop', keyHash: 'h-k2', createdAt: 4 });
        assert.deepEqual((await store.listApiKeys('u1')).map((k) => [k.id, k.expiresAt]), [['k2', undefined], ['k1', 99]]);
        assert.equal(await store.deleteApiKey('u2', 'k2'), false, "another user's key is not deleted");
        assert.equal(await store.deleteApiKey('u1', 'k2'), true);
        assert.equal(await store.findApiKey('h-k2'), undefined);
        assert.equal(await store.deleteUser('u1'), true);
        assert.equal(await store.deleteUser('u1'), false);
        assert.equal(await store.findApiKey('h-k1'), undefined);
        assert.equal(await store.findUserByEmail('a@x.y'), undefined);
        assert.deepEqual((await store.listUsers(T1)).map((u) => u.id), ['u2']);
      });
    });

    // The SQLite store commits the alarm writes of one event-loop turn in one transaction: the
    // risk is one write's failure taking the others down, or writes applied out of call order.
    describe('alarm writes issued together', () => {
      const mk = (deviceId: string, extra: Partial<Alarm> = {}): Alarm => ({
        id: randomUUID(),
        tenantId: T1,
        deviceId,
        type: 'Hot',
        severity: 'major',
        status: 'active',
        count: 1,
        details: {},
        createdAt: 1_000,
        updatedAt: 1_000,
        version: 1,
        ...extra,
      });
      const ev = (a: Alarm, action: AlarmEvent['action']): AlarmEvent => ({ alarmId: a.id, ts: a.updatedAt, action, severity: a.severity });

      it('alarm writes issued in one turn apply in call order, and one that fails fails alone', async () => {
        const [a, b, twin, ghost] = [mk('dev-a'), mk('dev-b'), mk('dev-a'), mk('dev-c')];
        const repeated: Alarm = { ...a, count: 2, updatedAt: 2_000, version: 2 };
        const cleared: Alarm = { ...b, status: 'cleared', clearedAt: 3_000, updatedAt: 3_000, version: 2 };
        const again = mk('dev-b', { createdAt: 4_000, updatedAt: 4_000 });
        const settled = await Promise.allSettled([
          store.insertAlarm(a, ev(a, 'raised')),
          store.insertAlarm(b, ev(b, 'raised')),
          store.insertAlarm(twin, ev(twin, 'raised')), // a is open: CONFLICT
          store.updateAlarm(repeated, ev(repeated, 'repeated')),
          store.updateAlarm({ ...ghost, version: 2 }, ev(ghost, 'repeated')), // never inserted: ALARM_NOT_FOUND
          store.updateAlarm(cleared, ev(cleared, 'cleared')),
          store.insertAlarm(again, ev(again, 'raised')), // b is cleared by then
        ]);
        const codes = settled.map((r) => (r.status === 'fulfilled' ? 'ok' : isPlatformError(r.reason, 'CONFLICT') ? 'CONFLICT' : isPlatformError(r.reason, 'ALARM_NOT_FOUND') ? 'ALARM_NOT_FOUND' : String(r.reason)));
        assert.deepEqual(codes, ['ok', 'ok', 'CONFLICT', 'ok', 'ALARM_NOT_FOUND', 'ok', 'ok']);
        assert.deepEqual(await store.findOpenAlarm('dev-a', 'Hot'), repeated);
        assert.deepEqual(await store.alarmHistory(a.id), [ev(a, 'raised'), ev(repeated, 'repeated')]);
        assert.equal(await store.getAlarm(twin.id), undefined);
        assert.deepEqual(await store.alarmHistory(twin.id), []);
        assert.deepEqual(await store.getAlarm(b.id), cleared);
        assert.deepEqual(await store.findOpenAlarm('dev-b', 'Hot'), again);
        assert.equal(await store.getAlarm(ghost.id), undefined);
      });
    });
    alarmAndCommandContract(() => store);
    dashboardContract(() => store);
    retentionContract(() => store);
    otaContract(() => store);
    otaDeploymentContract(() => store);
    identityContract(() => store);
    zoneContract(() => store);

    describe('close', () => {
      it('rejects every call after close; closing twice is fine', async () => {
        await store.close();
        await rejectsWith(store.getDevice('x'), 'UNAVAILABLE');
        await rejectsWith(store.appendTelemetry([{ deviceId: 'x', key: 'k', ts: 1, value: 1 }]), 'UNAVAILABLE');
        await rejectsWith(store.countUsers(), 'UNAVAILABLE');
        await store.close();
      });
    });
  });
}

/** SQLite BINARY collation order for the test expectations. */
function binary(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
