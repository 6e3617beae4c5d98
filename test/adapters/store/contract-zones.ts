/**
 * Store contract: zones (geofences) — created and read back exactly, listed per tenant by name
 * and filtered by owner, names unique per owner, updated and deleted within their tenant only —
 * and trips (upserted by id with the tracker state, listed by start time without tracks).
 * Called from storeContract() with the store of the current test (tenants T1, T2, profile P1).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isPlatformError } from '../../../src/domain/errors.js';
import type { Zone } from '../../../src/domain/zones/zone.js';
import type { Trip } from '../../../src/domain/trips/segment.js';
import type { Store } from '../../../src/ports.js';
import { P1, T1, T2 } from './contract.js';

function zone(extra: Partial<Zone> = {}): Zone {
  return {
    id: 'zone-1',
    tenantId: T1,
    name: 'Depot',
    ownerType: 'tenant',
    geometry: { type: 'Polygon', coordinates: [[[13.37, 52.51], [13.41, 52.51], [13.41, 52.53], [13.37, 52.51]]] },
    marginM: 20,
    createdAt: 1_000,
    updatedAt: 1_000,
    ...extra,
  };
}

export function zoneContract(current: () => Store): void {
  describe('zones', () => {
    it('creates, reads back exactly, updates and deletes within the tenant', async () => {
      const store = current();
      const z = zone();
      await store.createZone(z);
      assert.deepEqual(await store.getZone(T1, z.id), z);
      assert.equal(await store.getZone(T2, z.id), undefined, "another tenant's zone is not found");
      const circle = zone({ name: 'Yard', geometry: { type: 'Point', coordinates: [13.4, 52.52], radius: 150 }, marginM: 5.5, updatedAt: 2_000 });
      assert.equal(await store.updateZone(circle), true);
      assert.deepEqual(await store.getZone(T1, z.id), circle);
      assert.equal(await store.updateZone({ ...circle, tenantId: T2 }), false);
      assert.equal(await store.deleteZone(T2, z.id), false);
      assert.equal(await store.deleteZone(T1, z.id), true);
      assert.equal(await store.getZone(T1, z.id), undefined);
      assert.equal(await store.deleteZone(T1, z.id), false);
    });

    it("lists a tenant's zones by name, filtered by owner", async () => {
      const store = current();
      await store.createZone(zone({ id: 'b', name: 'Bakery' }));
      await store.createZone(zone({ id: 'a', name: 'Airport', ownerType: 'profile', ownerId: P1.id }));
      await store.createZone(zone({ id: 'c', name: 'Customer', ownerType: 'device', ownerId: 'dev-9' }));
      await store.createZone(zone({ id: 'd', name: 'Elsewhere', tenantId: T2 }));
      assert.deepEqual((await store.listZones(T1)).map((z) => z.id), ['a', 'b', 'c']);
      assert.deepEqual((await store.listZones(T1, { ownerType: 'profile', ownerId: P1.id })).map((z) => z.id), ['a']);
      assert.deepEqual((await store.listZones(T1, { ownerType: 'tenant' })).map((z) => z.id), ['b']);
      assert.equal((await store.listZones(T1, { ownerType: 'device' }))[0]?.ownerId, 'dev-9');
      assert.deepEqual(await store.listZones('no-such-tenant'), []);
    });

    it('refuses a second zone of the same name and owner (CONFLICT), allows it for another owner', async () => {
      const store = current();
      await store.createZone(zone());
      await assert.rejects(store.createZone(zone({ id: 'zone-2' })), (err) => isPlatformError(err, 'CONFLICT'));
      await store.createZone(zone({ id: 'zone-3', ownerType: 'profile', ownerId: P1.id }));
      await store.createZone(zone({ id: 'zone-4', name: 'Yard' }));
      await assert.rejects(store.updateZone(zone({ id: 'zone-4', updatedAt: 5_000 })), (err) => isPlatformError(err, 'CONFLICT'));
    });
  });

  describe('trips', () => {
    const trip = (startTs: number, extra: Partial<Trip> = {}): Trip => ({
      id: `dev-1:${startTs}`,
      startTs,
      endTs: startTs + 600_000,
      start: { lat: 52.52, lon: 13.4 },
      end: { lat: 52.53, lon: 13.41 },
      distanceM: 1234.5,
      maxSpeedKmh: 48,
      idleMs: 120_000,
      stops: [{ lat: 52.525, lon: 13.405, fromTs: startTs + 100_000, toTs: startTs + 220_000 }],
      track: [[startTs, 52.52, 13.4], [startTs + 600_000, 52.53, 13.41]],
      open: false,
      ...extra,
    });

    it('saves trips with the tracker, rewrites an open trip as it grows, lists newest first without tracks', async () => {
      const store = current();
      assert.equal(await store.loadTripTracker('dev-1'), undefined);
      await store.saveTrips(T1, 'dev-1', [trip(1_000_000), trip(5_000_000, { open: true, endTs: 5_100_000 })], '{"a":1}');
      assert.equal(await store.loadTripTracker('dev-1'), '{"a":1}');
      await store.saveTrips(T1, 'dev-1', [trip(5_000_000)], '{"a":2}');
      assert.equal(await store.loadTripTracker('dev-1'), '{"a":2}');
      assert.deepEqual(await store.getTrip('dev-1', 'dev-1:5000000'), trip(5_000_000));
      const listed = await store.listTrips('dev-1', 0, 10_000_000, 10);
      assert.deepEqual(listed.map((t) => t.id), ['dev-1:5000000', 'dev-1:1000000']);
      assert.equal('track' in (listed[0] as object), false);
      assert.deepEqual(listed[1], (({ track: _t, ...rest }) => rest)(trip(1_000_000)));
      assert.deepEqual((await store.listTrips('dev-1', 2_000_000, 10_000_000, 10)).map((t) => t.id), ['dev-1:5000000']);
      assert.deepEqual((await store.listTrips('dev-1', 0, 10_000_000, 1)).length, 1);
      assert.equal(await store.getTrip('dev-2', 'dev-1:5000000'), undefined, "another device's trip");
    });
  });
}
