/** GET /api/devices/{id}/trips and /trips/{tripId}: listed by start time, one with its track; tenants apart; who may read. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Trip } from '../../src/domain/trips/segment.js';
import { startTestApi, type TestApi } from './helpers.js';

const OTHER_TENANT = '00000000-0000-4000-8000-0000000000fd';

describe('trips API', () => {
  let api: TestApi;
  let vanId: string;
  let viewer: string;
  let other: string;
  const trip = (deviceId: string, startTs: number): Trip => ({
    id: `${deviceId}:${startTs}`,
    startTs,
    endTs: startTs + 900_000,
    start: { lat: 52.52, lon: 13.405 },
    end: { lat: 52.534, lon: 13.412 },
    distanceM: 2100,
    maxSpeedKmh: 47,
    idleMs: 240_000,
    stops: [{ lat: 52.53, lon: 13.41, fromTs: startTs + 300_000, toTs: startTs + 540_000 }],
    track: [[startTs, 52.52, 13.405], [startTs + 900_000, 52.534, 13.412]],
    open: false,
  });

  before(async () => {
    api = await startTestApi();
    vanId = (await api.call('POST', '/api/devices', { name: 'van' })).body.id;
    await api.store.saveTrips('t', vanId, [trip(vanId, 1_000_000), trip(vanId, 9_000_000)], '{}');
    await api.call('POST', '/api/users', { email: 'viewer@example.com', password: 'viewer-password-1', role: 'viewer' });
    viewer = (await api.auth.login('viewer@example.com', 'viewer-password-1')).token;
    await api.store.ensureTenant({ id: OTHER_TENANT, name: 'other' });
    await api.auth.createUser({ email: 'other@example.com', password: 'another long password', tenantId: OTHER_TENANT, role: 'admin' });
    other = (await api.auth.login('other@example.com', 'another long password')).token;
  });
  after(async () => api.close());

  it('lists trips newest first within [from, to), and answers one with its track', async () => {
    const all = await api.call('GET', `/api/devices/${vanId}/trips`);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.deepEqual(all.body.items.map((t: { startTs: number }) => t.startTs), [9_000_000, 1_000_000]);
    assert.equal(all.body.items[0].track, undefined);
    assert.equal(all.body.items[0].stops.length, 1);
    const later = await api.call('GET', `/api/devices/${vanId}/trips?from=2000000&to=10000000`);
    assert.deepEqual(later.body.items.map((t: { startTs: number }) => t.startTs), [9_000_000]);
    const one = await api.call('GET', `/api/devices/${vanId}/trips/${encodeURIComponent(`${vanId}:1000000`)}`);
    assert.equal(one.status, 200);
    assert.deepEqual(one.body, trip(vanId, 1_000_000));
    assert.equal((await api.call('GET', `/api/devices/${vanId}/trips/nope`)).body.error, 'TRIP_NOT_FOUND');
  });

  it("lets a viewer read; another tenant's admin and a caller without a token get nothing", async () => {
    assert.equal((await api.call('GET', `/api/devices/${vanId}/trips`, undefined, { authorization: `Bearer ${viewer}` })).status, 200);
    const theirs = await api.call('GET', `/api/devices/${vanId}/trips`, undefined, { authorization: `Bearer ${other}` });
    assert.equal(theirs.status, 404);
    assert.equal(theirs.body.error, 'DEVICE_NOT_FOUND');
    assert.equal((await api.call('GET', `/api/devices/${vanId}/trips/${encodeURIComponent(`${vanId}:1000000`)}`, undefined, { authorization: `Bearer ${other}` })).status, 404);
    assert.equal((await api.call('GET', `/api/devices/${vanId}/trips`, undefined, { authorization: '' })).status, 401);
  });
});
