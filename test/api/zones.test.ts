/**
 * /api/zones (CRUD, validation, tenant isolation, who may read and write) and
 * /api/routes/optimize (order and length of a route; who may call it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApi, type TestApi } from './helpers.js';

const OTHER_TENANT = '00000000-0000-4000-8000-0000000000fe';
const depot = { type: 'Polygon', coordinates: [[[13.37, 52.51], [13.41, 52.51], [13.41, 52.53], [13.37, 52.53], [13.37, 52.51]]] };

describe('zones API', () => {
  let api: TestApi;
  let viewer: string;
  let operator: string;
  let other: string;
  let profileId: string;
  const as = (token: string) => ({ authorization: `Bearer ${token}` });

  before(async () => {
    api = await startTestApi();
    await api.call('POST', '/api/users', { email: 'viewer@example.com', password: 'viewer-password-1', role: 'viewer' });
    viewer = (await api.auth.login('viewer@example.com', 'viewer-password-1')).token;
    await api.call('POST', '/api/users', { email: 'op@example.com', password: 'operator-password-1', role: 'operator' });
    operator = (await api.auth.login('op@example.com', 'operator-password-1')).token;
    await api.store.ensureTenant({ id: OTHER_TENANT, name: 'other' });
    await api.auth.createUser({ email: 'other@example.com', password: 'another long password', tenantId: OTHER_TENANT, role: 'admin' });
    other = (await api.auth.login('other@example.com', 'another long password')).token;
    profileId = (await api.call('POST', '/api/profiles', { name: 'vans' })).body.id;
  });
  after(async () => api.close());

  it('creates, lists, reads, changes and deletes a zone', async () => {
    const created = await api.call('POST', '/api/zones', { name: 'Depot', geometry: depot });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.ownerType, 'tenant');
    assert.equal(created.body.marginM, 20);
    const id = created.body.id as string;
    const circle = await api.call('POST', '/api/zones', { name: 'Yard', ownerType: 'profile', ownerId: profileId, geometry: { type: 'Point', coordinates: [13.4, 52.52], radius: 80 }, marginM: 10 });
    assert.equal(circle.status, 201, JSON.stringify(circle.body));
    assert.deepEqual((await api.call('GET', '/api/zones')).body.items.map((z: { name: string }) => z.name), ['Depot', 'Yard']);
    assert.deepEqual((await api.call('GET', `/api/zones?ownerType=profile&ownerId=${profileId}`)).body.items.map((z: { name: string }) => z.name), ['Yard']);
    const changed = await api.call('PUT', `/api/zones/${id}`, { name: 'Main depot', marginM: 5 });
    assert.equal(changed.status, 200);
    assert.equal((await api.call('GET', `/api/zones/${id}`)).body.name, 'Main depot');
    assert.equal((await api.call('DELETE', `/api/zones/${id}`)).status, 204);
    assert.equal((await api.call('GET', `/api/zones/${id}`)).body.error, 'ZONE_NOT_FOUND');
  });

  it('refuses an open ring, a bad coordinate, a taken name and an unknown owner', async () => {
    const open = await api.call('POST', '/api/zones', { name: 'Open', geometry: { type: 'Polygon', coordinates: [[[0, 0], [1, 0], [1, 1], [0, 1]]] } });
    assert.equal(open.status, 400);
    assert.equal(open.body.error, 'INVALID_ZONE');
    assert.match(open.body.message, /closed/);
    const far = await api.call('POST', '/api/zones', { name: 'Far', geometry: { type: 'Point', coordinates: [200, 0], radius: 5 } });
    assert.equal(far.body.error, 'INVALID_ZONE');
    await api.call('POST', '/api/zones', { name: 'Twice', geometry: depot });
    assert.equal((await api.call('POST', '/api/zones', { name: 'Twice', geometry: depot })).status, 409);
    assert.equal((await api.call('POST', '/api/zones', { name: 'Mine', ownerType: 'device', ownerId: 'no-such-device', geometry: depot })).body.error, 'DEVICE_NOT_FOUND');
  });

  it("keeps tenants apart: another tenant's zone is not found, not listed, not changed", async () => {
    const theirs = await api.call('POST', '/api/zones', { name: 'Theirs', geometry: depot }, as(other));
    assert.equal(theirs.status, 201);
    assert.equal((await api.call('GET', `/api/zones/${theirs.body.id}`)).status, 404);
    assert.equal((await api.call('PUT', `/api/zones/${theirs.body.id}`, { name: 'Stolen' })).status, 404);
    assert.equal((await api.call('DELETE', `/api/zones/${theirs.body.id}`)).status, 404);
    assert.ok(!(await api.call('GET', '/api/zones')).body.items.some((z: { name: string }) => z.name === 'Theirs'));
    const profileOfOther = await api.call('POST', '/api/zones', { name: 'X', ownerType: 'profile', ownerId: profileId, geometry: depot }, as(other));
    assert.equal(profileOfOther.body.error, 'PROFILE_NOT_FOUND', "another tenant's profile cannot own a zone");
  });

  it('lets viewers and operators read zones, only writers change them, nobody without a token', async () => {
    assert.equal((await api.call('GET', '/api/zones', undefined, as(viewer))).status, 200);
    assert.equal((await api.call('POST', '/api/zones', { name: 'V', geometry: depot }, as(viewer))).status, 403);
    assert.equal((await api.call('POST', '/api/zones', { name: 'O', geometry: depot }, as(operator))).status, 403);
    const id = (await api.call('POST', '/api/zones', { name: 'Locked', geometry: depot })).body.id as string;
    assert.equal((await api.call('DELETE', `/api/zones/${id}`, undefined, as(operator))).status, 403);
    assert.equal((await api.call('PUT', `/api/zones/${id}`, { name: 'x' }, as(viewer))).status, 403);
    assert.equal((await api.call('GET', '/api/zones', undefined, { authorization: '' })).status, 401);
  });
});

describe('route optimisation API', () => {
  let api: TestApi;
  before(async () => {
    api = await startTestApi();
    await api.call('POST', '/api/users', { email: 'viewer@example.com', password: 'viewer-password-1', role: 'viewer' });
  });
  after(async () => api.close());

  // Four corners of a ~1.1 km square, listed crosswise: the short round trip goes around it.
  const stops = [{ lat: 52.5, lon: 13.4 }, { lat: 52.51, lon: 13.4164 }, { lat: 52.5, lon: 13.4164 }, { lat: 52.51, lon: 13.4 }];

  it('orders stops into a round trip around the square, and an open path from a start', async () => {
    const res = await api.call('POST', '/api/routes/optimize', { stops });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const order = res.body.order as number[];
    assert.deepEqual([...order].sort(), [0, 1, 2, 3]);
    const pos = (i: number): number => order.indexOf(i);
    // Diagonal corners (0 and 1, 2 and 3) are never neighbours on the way round.
    assert.equal(Math.abs(pos(0) - pos(1)), 2);
    assert.ok(Math.abs(res.body.distanceM - 4 * 1112) < 20, String(res.body.distanceM));
    const path = await api.call('POST', '/api/routes/optimize', { stops, start: { lat: 52.5, lon: 13.39 }, roundTrip: false });
    assert.equal(path.body.order[0], 0, 'the stop nearest the start comes first');
    assert.ok(path.body.distanceM < res.body.distanceM);
  });

  it('refuses a bad coordinate, and answers a viewer but nobody without a token', async () => {
    assert.equal((await api.call('POST', '/api/routes/optimize', { stops: [{ lat: 91, lon: 0 }] })).status, 400);
    assert.equal((await api.call('POST', '/api/routes/optimize', { stops: [] })).status, 400);
    const token = (await api.auth.login('viewer@example.com', 'viewer-password-1')).token;
    assert.equal((await api.call('POST', '/api/routes/optimize', { stops }, { authorization: `Bearer ${token}` })).status, 200);
    assert.equal((await api.call('POST', '/api/routes/optimize', { stops }, { authorization: '' })).status, 401);
  });
});
