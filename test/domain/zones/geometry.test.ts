import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isPlatformError } from '../../../src/domain/errors.js';
import { containsPoint, distanceToBoundary, sideOf } from '../../../src/domain/zones/geometry.js';
import { checkZoneInput, MAX_ZONE_VERTICES, parseGeometry, resolveZone, type Zone } from '../../../src/domain/zones/zone.js';

/** A square of ~222 m around (52.52, 13.40) with a ~44 m square hole in the middle, [lon, lat]. */
const square = {
  type: 'Polygon' as const,
  coordinates: [
    [[13.398, 52.519], [13.402, 52.519], [13.402, 52.521], [13.398, 52.521], [13.398, 52.519]],
    [[13.3997, 52.5198], [13.4003, 52.5198], [13.4003, 52.5202], [13.3997, 52.5202], [13.3997, 52.5198]],
  ] as [number, number][][],
};
const invalid = (err: unknown): boolean => isPlatformError(err, 'INVALID_ZONE');

describe('zone geometry', () => {
  it('contains a point inside the outer ring and outside its holes', () => {
    assert.equal(containsPoint(square, 52.5192, 13.3985), true);
    assert.equal(containsPoint(square, 52.52, 13.40), false, 'in the hole');
    assert.equal(containsPoint(square, 52.5215, 13.40), false, 'north of the square');
  });

  it('measures the distance to the nearest edge in metres', () => {
    // 0.0005° of latitude north of the north edge: ~55.6 m.
    const d = distanceToBoundary(52.5215, 13.40, square.coordinates);
    assert.ok(Math.abs(d - 55.6) < 0.5, `${d}`);
  });

  it('puts a position in, in the margin band, or out', () => {
    const zone = { geometry: square, marginM: 20 };
    assert.equal(sideOf(zone, 52.5192, 13.3985), 'in');
    assert.equal(sideOf(zone, 52.52108, 13.40), 'band', '~9 m north of the edge');
    assert.equal(sideOf(zone, 52.5215, 13.40), 'out');
    const circle = { geometry: { type: 'Point' as const, coordinates: [13.40, 52.52] as [number, number], radius: 100 }, marginM: 20 };
    assert.equal(sideOf(circle, 52.5208, 13.40), 'in', '~89 m from the centre');
    assert.equal(sideOf(circle, 52.52095, 13.40), 'band', '~106 m');
    assert.equal(sideOf(circle, 52.5212, 13.40), 'out', '~133 m');
  });
});

describe('zone validation', () => {
  it('accepts a closed polygon and a circle', () => {
    assert.deepEqual(parseGeometry(square), square);
    assert.deepEqual(parseGeometry({ type: 'Point', coordinates: [13.4, 52.5], radius: 50 }), { type: 'Point', coordinates: [13.4, 52.5], radius: 50 });
  });

  it('refuses open rings, short rings, out-of-range coordinates and too many vertices', () => {
    assert.throws(() => parseGeometry({ type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] }), (e) => invalid(e) && /closed/.test(String(e)));
    assert.throws(() => parseGeometry({ type: 'Polygon', coordinates: [[[0, 0], [1, 0], [0, 0]]] }), (e) => invalid(e) && /four positions/.test(String(e)));
    assert.throws(() => parseGeometry({ type: 'Polygon', coordinates: [[[0, 91], [1, 0], [1, 1], [0, 91]]] }), (e) => invalid(e) && /latitude/.test(String(e)));
    assert.throws(() => parseGeometry({ type: 'Point', coordinates: [181, 0], radius: 5 }), (e) => invalid(e) && /longitude/.test(String(e)));
    assert.throws(() => parseGeometry({ type: 'Point', coordinates: [1, 0], radius: 0 }), invalid);
    const ring = Array.from({ length: MAX_ZONE_VERTICES }, (_, i) => [Math.cos(i) * 0.01, Math.sin(i) * 0.01]);
    ring.push(ring[0] as number[]);
    assert.throws(() => parseGeometry({ type: 'Polygon', coordinates: [ring] }), (e) => invalid(e) && /at most/.test(String(e)));
    assert.throws(() => parseGeometry({ type: 'LineString', coordinates: [] }), invalid);
  });

  it('checks name, owner and margin', () => {
    assert.throws(() => checkZoneInput({ name: ' ', ownerType: 'tenant', geometry: square }), invalid);
    assert.throws(() => checkZoneInput({ name: 'a', ownerType: 'device', geometry: square }), (e) => invalid(e) && /ownerId/.test(String(e)));
    assert.throws(() => checkZoneInput({ name: 'a', ownerType: 'tenant', ownerId: 'x', geometry: square }), invalid);
    assert.throws(() => checkZoneInput({ name: 'a', ownerType: 'tenant', geometry: square, marginM: -1 }), invalid);
    assert.equal(checkZoneInput({ name: ' Depot ', ownerType: 'tenant', geometry: square }).name, 'Depot');
  });
});

describe('resolveZone', () => {
  const base = { tenantId: 't', geometry: square, marginM: 0, createdAt: 0, updatedAt: 0 };
  const zones: Zone[] = [
    { ...base, id: 'z1', name: 'Depot', ownerType: 'tenant' },
    { ...base, id: 'z2', name: 'Depot', ownerType: 'profile', ownerId: 'vans' },
    { ...base, id: 'z3', name: 'Depot', ownerType: 'device', ownerId: 'van-2' },
    { ...base, id: 'z4', name: 'Home', ownerType: 'device', ownerId: 'van-2' },
  ];
  it('prefers the most specific owner on a shared name, and finds by id', () => {
    assert.equal(resolveZone(zones, 'Depot', { id: 'van-1', profileId: 'trucks' })?.id, 'z1');
    assert.equal(resolveZone(zones, 'Depot', { id: 'van-1', profileId: 'vans' })?.id, 'z2');
    assert.equal(resolveZone(zones, 'Depot', { id: 'van-2', profileId: 'vans' })?.id, 'z3');
    assert.equal(resolveZone(zones, 'z1', { id: 'van-2', profileId: 'vans' })?.id, 'z1');
  });
  it("does not see another device's or profile's zone", () => {
    assert.equal(resolveZone(zones, 'Home', { id: 'van-1', profileId: 'vans' }), undefined);
    assert.equal(resolveZone(zones, 'z4', { id: 'van-1', profileId: 'vans' }), undefined);
    assert.equal(resolveZone(zones, 'z2', { id: 'van-1', profileId: 'trucks' }), undefined);
  });
});
