/**
 * OTA over the management API and the device API, and who may do what (issue 16):
 * uploads (raw and multipart, stated checksum, size limit, duplicates), range reads, deletion,
 * assignment (the fw_* shared attributes), roles (admins upload, assign and delete; operators
 * read; nobody anonymous), audit entries, and a device fetching only what is assigned to it over
 * HTTP, MQTT and CoAP.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ADMIN, apiClient, connectMqtt, eventually, startTestPlatform, tempDir, type ApiClient, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
const MAX_PACKAGE = 200_000;
const MAX_CHUNK = 65_536;

let tp: TestPlatform;
let adminToken: string;
let operator: ApiClient;
let operatorToken: string;

async function login(email: string, password: string): Promise<string> {
  const res = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  return ((await res.json()) as { token: string }).token;
}

interface Pkg {
  id: string;
  title: string;
  version: string;
  size: number;
  checksum: string;
  checksumAlgorithm: string;
  type: string;
}

async function upload(query: string, body: BodyInit, token = adminToken, contentType = 'application/octet-stream'): Promise<{ status: number; body: Pkg & { error?: string } }> {
  const res = await fetch(`${tp.baseUrl}/api/ota/packages?${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, ...(typeof body === 'string' || body instanceof Uint8Array ? { 'content-type': contentType } : {}) },
    body,
  });
  return { status: res.status, body: (await res.json()) as Pkg & { error?: string } };
}

const sha256 = (b: Buffer | Uint8Array): string => createHash('sha256').update(b).digest('hex');

before(async () => {
  tp = await startTestPlatform({ config: { ota: { maxPackageBytes: MAX_PACKAGE, maxChunkBytes: MAX_CHUNK } } });
  adminToken = await login(ADMIN.email, ADMIN.password);
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'operator@test.local', password: 'operator-password-1', role: 'user' })).status, 201);
  operator = await apiClient(tp.baseUrl, { email: 'operator@test.local', password: 'operator-password-1' });
  operatorToken = await login('operator@test.local', 'operator-password-1');
});
after(async () => {
  await tp.stop();
});

describe('packages', () => {
  it('uploads a raw body: 201 with id, title, version, size, SHA-256; the stated checksum is checked', async () => {
    const data = new Uint8Array(randomBytes(50_000));
    const res = await upload(`title=pkg-a&version=1.0&checksum=${sha256(data)}&hardware=rev-b`, data);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.deepEqual(
      { ...res.body, id: 'x', createdAt: 0 },
      { id: 'x', type: 'firmware', title: 'pkg-a', version: '1.0', hardware: 'rev-b', size: 50_000, checksum: sha256(data), checksumAlgorithm: 'SHA256', createdAt: 0 },
    );
    const got = await tp.api.request<Pkg>('GET', `/api/ota/packages/${res.body.id}`);
    assert.equal(got.body.checksum, sha256(data));

    const mismatch = await upload(`title=pkg-a&version=1.1&checksum=${'0'.repeat(64)}`, data);
    assert.equal(mismatch.status, 422);
    assert.equal(mismatch.body.error, 'CHECKSUM_MISMATCH');
    const listed = await tp.api.request<Pkg[]>('GET', '/api/ota/packages');
    assert.ok(!listed.body.some((p) => p.version === '1.1'), 'a refused upload leaves no package');
  });

  it('uploads multipart/form-data (a field, then the file), streamed', async () => {
    const data = randomBytes(30_000);
    const form = new FormData();
    form.append('note', 'field before the file');
    form.append('file', new Blob([new Uint8Array(data)]), 'fw.bin');
    const res = await upload('title=pkg-multi&version=1.0&type=software', form);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.size, 30_000);
    assert.equal(res.body.checksum, sha256(data));
    assert.equal(res.body.type, 'software');
    // curl -F, as the docs show it
    const dir = tempDir();
    const file = join(dir, 'fw.bin');
    await run('sh', ['-c', `head -c 12345 /dev/urandom > ${file}`]);
    const curl = await run('curl', ['-sS', '-H', `authorization: Bearer ${adminToken}`, '-F', `file=@${file}`, `${tp.baseUrl}/api/ota/packages?title=pkg-curl&version=1.0`]);
    const body = JSON.parse(curl.stdout) as Pkg;
    assert.equal(body.size, 12_345);
    assert.equal(body.checksum, sha256(readFileSync(file)));
  });

  it('refuses over the size limit (413), a duplicate title and version (409), bad labels (400), an unknown profile (404), an empty body (400)', async () => {
    const big = await upload('title=pkg-big&version=1', new Uint8Array(MAX_PACKAGE + 1));
    assert.equal(big.status, 413);
    assert.equal(big.body.error, 'PAYLOAD_TOO_LARGE');
    assert.equal((await upload('title=pkg-dup&version=1', new Uint8Array(10))).status, 201);
    assert.equal((await upload('title=pkg-dup&version=1', new Uint8Array(11))).status, 409);
    assert.equal((await upload('title=%20padded&version=1', new Uint8Array(10))).status, 400);
    assert.equal((await upload('title=pkg-p&version=1&profileId=no-such-profile', new Uint8Array(10))).status, 404);
    assert.equal((await upload('title=pkg-empty&version=1', new Uint8Array(0))).status, 400);
    assert.equal((await upload('version=1', new Uint8Array(10))).status, 400, 'title is required');
  });

  it('serves the bytes whole and by Range (206, suffix, 416)', async () => {
    const data = randomBytes(20_000);
    const { body: pkg } = await upload('title=pkg-range&version=1', new Uint8Array(data));
    const url = `${tp.baseUrl}/api/ota/packages/${pkg.id}/data`;
    const auth = { authorization: `Bearer ${operatorToken}` };
    const whole = await fetch(url, { headers: auth });
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get('accept-ranges'), 'bytes');
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), data);
    const part = await fetch(url, { headers: { ...auth, range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 100-199/20000');
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), data.subarray(100, 200));
    const suffix = await fetch(url, { headers: { ...auth, range: 'bytes=-5' } });
    assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), data.subarray(-5));
    const past = await fetch(url, { headers: { ...auth, range: 'bytes=20000-' } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), 'bytes */20000');
  });
});

describe('assignment and roles', () => {
  it('assigns a package: the fw_* shared attributes are set; a package of another profile, an unknown package or device is refused', async () => {
    const device = await tp.api.createDevice('ota-assign-1');
    const data = new Uint8Array(randomBytes(1000));
    const { body: pkg } = await upload('title=assign-fw&version=4.2', data);
    const res = await tp.api.request('POST', `/api/devices/${device.id}/firmware`, { packageId: pkg.id });
    assert.equal(res.status, 200);
    const attrs = await tp.api.request<{ shared: Record<string, { value: unknown }> }>('GET', `/api/devices/${device.id}/attributes?scope=shared`);
    const byKey = Object.fromEntries(Object.entries(attrs.body.shared).map(([k, a]) => [k, a.value]));
    assert.deepEqual(byKey, { fw_title: 'assign-fw', fw_version: '4.2', fw_size: 1000, fw_checksum: sha256(data), fw_checksum_algorithm: 'SHA256' });

    // Only an assignment writes them: not the attribute route, for admins or operators.
    const direct = await tp.api.request<{ error: string }>('POST', `/api/devices/${device.id}/attributes/shared`, { fw_version: '6.6.6' });
    assert.equal(direct.status, 403);
    assert.equal((await operator.request('POST', `/api/devices/${device.id}/attributes/shared`, { fw_checksum: 'x' })).status, 403);
    assert.equal((await tp.api.request('DELETE', `/api/devices/${device.id}/attributes/shared?keys=fw_title`)).status, 403);
    assert.equal((await tp.api.request('POST', `/api/devices/${device.id}/attributes/shared`, { setpoint: 21 })).status, 200, 'other shared attributes as before');

    const profile = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: 'ota-other-profile' });
    assert.equal(profile.status, 201, JSON.stringify(profile.body));
    const { body: other } = await upload(`title=other-fw&version=1&profileId=${profile.body.id}`, data);
    assert.equal((await tp.api.request('POST', `/api/devices/${device.id}/firmware`, { packageId: other.id })).status, 400);
    assert.equal((await tp.api.request('POST', `/api/devices/${device.id}/firmware`, { packageId: 'no-such-package' })).status, 404);
    assert.equal((await tp.api.request('POST', '/api/devices/no-such-device/firmware', { packageId: pkg.id })).status, 404);

    // Deleting an assigned package: 409; an unassigned one: 204, then 404.
    assert.equal((await tp.api.request('DELETE', `/api/ota/packages/${pkg.id}`)).status, 409);
    assert.equal((await tp.api.request('DELETE', `/api/ota/packages/${other.id}`)).status, 204);
    assert.equal((await tp.api.request('GET', `/api/ota/packages/${other.id}`)).status, 404);
  });

  it("assigns to a profile: its devices without their own assignment are told and may download; a device's own assignment wins", async () => {
    const profile = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: 'ota-meters' });
    const inProfile = await tp.api.createDevice('ota-prof-a', { profileId: profile.body.id });
    const ownAssigned = await tp.api.createDevice('ota-prof-b', { profileId: profile.body.id });
    const elsewhere = await tp.api.createDevice('ota-prof-c');
    const own = randomBytes(500);
    const { body: ownPkg } = await upload('title=prof-fw&version=1', new Uint8Array(own));
    assert.equal((await tp.api.request('POST', `/api/devices/${ownAssigned.id}/firmware`, { packageId: ownPkg.id })).status, 200);
    const data = randomBytes(800);
    const { body: pkg } = await upload(`title=prof-fw&version=2&profileId=${profile.body.id}`, new Uint8Array(data));

    assert.equal((await operator.request('POST', `/api/profiles/${profile.body.id}/firmware`, { packageId: pkg.id })).status, 403);
    const res = await tp.api.request<{ devices: number; type: string }>('POST', `/api/profiles/${profile.body.id}/firmware`, { packageId: pkg.id });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.devices, 1, 'the device with its own assignment is not told');
    const version = async (id: string) =>
      (await tp.api.request<{ shared?: Record<string, { value: unknown }> }>('GET', `/api/devices/${id}/attributes?scope=shared`)).body.shared?.fw_version?.value;
    assert.equal(await version(inProfile.id), '2');
    assert.equal(await version(ownAssigned.id), '1');
    assert.equal(await version(elsewhere.id), undefined);

    const fetchChunk = async (token: string, v: string) => fetch(`${tp.baseUrl}/api/v1/${token}/firmware?title=prof-fw&version=${v}&size=1000&chunk=0`);
    assert.deepEqual(Buffer.from(await (await fetchChunk(inProfile.accessToken, '2')).arrayBuffer()), data);
    assert.deepEqual(Buffer.from(await (await fetchChunk(ownAssigned.accessToken, '1')).arrayBuffer()), own);
    assert.equal((await fetchChunk(ownAssigned.accessToken, '2')).status, 404, 'its own assignment wins');
    assert.equal((await fetchChunk(elsewhere.accessToken, '2')).status, 404);
    // A device that joins the profile afterwards may download at once.
    const late = await tp.api.createDevice('ota-prof-late', { profileId: profile.body.id });
    assert.equal((await fetchChunk(late.accessToken, '2')).status, 200);
    const status = await tp.api.request<{ firmware: { assigned: { via: string; version: string } } }>('GET', `/api/devices/${late.id}/firmware`);
    assert.deepEqual(status.body.firmware.assigned && [status.body.firmware.assigned.via, status.body.firmware.assigned.version], ['profile', '2']);
    // Regression (issue 16): it is also told, as the devices present at the assignment were — created in the profile, imported into it or moved into it.
    await eventually(async () => (await version(late.id)) === '2' || undefined, 10_000, 'the late device told');
    assert.equal((await tp.api.request('PATCH', `/api/devices/${elsewhere.id}`, { profileId: profile.body.id })).status, 200);
    await eventually(async () => (await version(elsewhere.id)) === '2' || undefined, 10_000, 'the moved device told');
    const imported = await fetch(`${tp.baseUrl}/api/devices/import`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'text/csv' }, body: 'name,profile\nota-prof-imported,ota-meters\n' });
    assert.equal(imported.status, 200, await imported.clone().text());
    const importedId = (await tp.api.request<{ items: { id: string }[] }>('GET', '/api/devices?search=ota-prof-imported')).body.items[0]!.id;
    await eventually(async () => (await version(importedId)) === '2' || undefined, 10_000, 'the imported device told');
    assert.equal((await tp.api.request('DELETE', `/api/ota/packages/${pkg.id}`)).status, 409);
    assert.equal((await tp.api.request('POST', '/api/profiles/no-such-profile/firmware', { packageId: pkg.id })).status, 404);
  });

  it('operators read packages and firmware status but may not upload, assign or delete; anonymous callers get 401', async () => {
    const device = await tp.api.createDevice('ota-roles-1');
    const { body: pkg } = await upload('title=roles-fw&version=1', new Uint8Array(100));
    for (const path of ['/api/ota/packages', `/api/ota/packages/${pkg.id}`, `/api/ota/packages/${pkg.id}/data`, `/api/devices/${device.id}/firmware`]) {
      const res = await fetch(`${tp.baseUrl}${path}`, { headers: { authorization: `Bearer ${operatorToken}` } });
      assert.equal(res.status, 200, path);
      assert.equal((await fetch(`${tp.baseUrl}${path}`)).status, 401, `anonymous ${path}`);
    }
    const denied = await upload('title=op-fw&version=1', new Uint8Array(100), operatorToken);
    assert.equal(denied.status, 403);
    assert.equal((await upload('title=anon-fw&version=1', new Uint8Array(100), 'not-a-token')).status, 401);
    assert.equal((await operator.request('POST', `/api/devices/${device.id}/firmware`, { packageId: pkg.id })).status, 403);
    assert.equal((await operator.request('DELETE', `/api/ota/packages/${pkg.id}`)).status, 403);
    assert.ok(!(await tp.api.request<Pkg[]>('GET', '/api/ota/packages')).body.some((p) => p.title === 'op-fw'));
  });

  it('records uploads, assignments and deletions in the audit log', async () => {
    const device = await tp.api.createDevice('ota-audit-1');
    const { body: pkg } = await upload('title=audit-fw&version=1', new Uint8Array(100));
    await tp.api.request('POST', `/api/devices/${device.id}/firmware`, { packageId: pkg.id });
    const { body: gone } = await upload('title=audit-fw&version=2', new Uint8Array(100));
    await tp.api.request('DELETE', `/api/ota/packages/${gone.id}`);
    type Entry = { action: string; targetId: string | null; outcome: string; details?: Record<string, unknown> };
    const entries = await eventually(async () => {
      const res = await tp.api.request<{ items: Entry[] }>('GET', '/api/audit?limit=200');
      const items = res.body.items;
      const upload = items.find((e) => e.action === 'ota.package_upload' && e.targetId === pkg.id);
      const assign = items.find((e) => e.action === 'POST /api/devices/:id/firmware' && e.targetId === device.id);
      const del = items.find((e) => e.action === 'DELETE /api/ota/packages/:id' && e.targetId === gone.id);
      return upload && assign && del ? { upload, assign, del } : undefined;
    }, 5_000, 'audit entries');
    assert.equal(entries.upload.details?.checksum, pkg.checksum);
    assert.deepEqual((entries.assign.details as { body?: unknown }).body, { packageId: pkg.id });
    assert.equal(entries.del.outcome, 'success');
  });
});

describe('device side: only the assigned package', () => {
  let assignedDevice: { id: string; accessToken: string };
  let otherDevice: { id: string; accessToken: string };
  let data: Buffer;

  before(async () => {
    assignedDevice = await tp.api.createDevice('ota-dev-assigned');
    otherDevice = await tp.api.createDevice('ota-dev-other');
    data = randomBytes(3000);
    const { body: pkg } = await upload('title=dev-fw&version=5', new Uint8Array(data));
    assert.equal((await tp.api.request('POST', `/api/devices/${assignedDevice.id}/firmware`, { packageId: pkg.id })).status, 200);
  });

  it('HTTP: 404 for a device with no assignment, a wrong title or version; 400 without them; 413 for a chunk over the limit; 401 for a bad token; empty past the end', async () => {
    const code = async (token: string, query: string): Promise<number> => (await fetch(`${tp.baseUrl}/api/v1/${token}/firmware?${query}`)).status;
    assert.equal(await code(otherDevice.accessToken, 'title=dev-fw&version=5&size=1000&chunk=0'), 404);
    assert.equal(await code(assignedDevice.accessToken, 'title=dev-fw&version=4&size=1000&chunk=0'), 404);
    assert.equal(await code(assignedDevice.accessToken, 'title=x&version=5&size=1000&chunk=0'), 404);
    assert.equal(await code(assignedDevice.accessToken, 'size=1000&chunk=0'), 400);
    assert.equal(await code(assignedDevice.accessToken, 'title=dev-fw&version=5&size=-1&chunk=0'), 400);
    assert.equal(await code(assignedDevice.accessToken, `title=dev-fw&version=5&size=${MAX_CHUNK + 1}&chunk=0`), 413);
    assert.equal(await code('no-such-token', 'title=dev-fw&version=5&size=1000&chunk=0'), 401);
    assert.equal(await code(assignedDevice.accessToken, 'title=dev-fw&version=5&size=1000&chunk=0'), 200);
    const whole = await fetch(`${tp.baseUrl}/api/v1/${assignedDevice.accessToken}/firmware?title=dev-fw&version=5`);
    assert.deepEqual(Buffer.from(await whole.arrayBuffer()), data, 'no size: the whole package');
    assert.equal(whole.headers.get('content-length'), String(data.length));
    const past = await fetch(`${tp.baseUrl}/api/v1/${assignedDevice.accessToken}/firmware?title=dev-fw&version=5&size=1000&chunk=3`);
    assert.equal(past.status, 200);
    assert.equal((await past.arrayBuffer()).byteLength, 0);
    assert.equal((await fetch(`${tp.baseUrl}/api/v1/${assignedDevice.accessToken}/software?title=dev-fw&version=5`)).status, 404, 'no software assigned');
  });

  it('MQTT: chunks for the assigned device; the other gets its refusal on v2/fw/error and in the PUBACK; other v2 topics are refused', async () => {
    const good = await connectMqtt(tp.ports.mqtt, { username: assignedDevice.accessToken, protocolVersion: 5 });
    const bad = await connectMqtt(tp.ports.mqtt, { username: otherDevice.accessToken, protocolVersion: 5 });
    try {
      await good.subscribeAsync('v2/fw/response/+/chunk/+', { qos: 1 });
      const got = new Promise<[string, Buffer]>((resolve) => good.once('message', (t, p) => resolve([t, p])));
      await good.publishAsync('v2/fw/request/42/chunk/2', '1000', { qos: 1 });
      const [topic, payload] = await got;
      assert.equal(topic, 'v2/fw/response/42/chunk/2');
      assert.deepEqual(payload, data.subarray(2000, 3000));

      await bad.subscribeAsync(['v2/fw/response/+/chunk/+', 'v2/fw/error'], { qos: 1 });
      const error = new Promise<[string, string]>((resolve) => bad.once('message', (t, p) => resolve([t, p.toString()])));
      await assert.rejects(bad.publishAsync('v2/fw/request/1/chunk/0', '1000', { qos: 1 }));
      const [errTopic, text] = await error;
      assert.equal(errTopic, 'v2/fw/error');
      assert.match(text, /no firmware assigned/);
      await assert.rejects(good.publishAsync('v2/fw/request/1/chunk/0', String(MAX_CHUNK + 1), { qos: 1 }), 'a chunk over the limit');
      await assert.rejects(good.publishAsync('v2/fw/request/1/chunk/0', 'lots', { qos: 1 }), 'not a size');
      await assert.rejects(good.publishAsync('v2/other/topic', 'x', { qos: 1 }), 'v2 topics are the API’s: never routed');
      await assert.rejects(good.subscribeAsync('v2/other/#', { qos: 1 }), /Not authorized/, 'SUBACK refuses an unknown v2 filter (0x87)');
    } finally {
      await good.endAsync();
      await bad.endAsync();
    }
  });

  it('DELETE /api/devices/{id}/firmware removes the assignment and every fw_* attribute (fw_url too); the profile\'s package then applies; operators 403', async () => {
    const device = await tp.api.createDevice('ota-unassign-1');
    const checksum = 'a'.repeat(64);
    const ext = await upload(`title=unassign-ext&version=1.0&url=${encodeURIComponent('https://example.com/fw.bin')}&checksum=${checksum}&size=1234`, new Uint8Array(0));
    assert.equal(ext.status, 201, JSON.stringify(ext.body));
    assert.equal((await tp.api.request('POST', `/api/devices/${device.id}/firmware`, { packageId: ext.body.id })).status, 200);
    const shared = async (id: string): Promise<Record<string, unknown>> =>
      Object.fromEntries(Object.entries((await tp.api.request<{ shared: Record<string, { value: unknown }> }>('GET', `/api/devices/${id}/attributes?scope=shared`)).body.shared).map(([k, a]) => [k, a.value]));
    assert.equal((await shared(device.id)).fw_url, 'https://example.com/fw.bin');

    assert.equal((await operator.request('DELETE', `/api/devices/${device.id}/firmware`)).status, 403);
    assert.equal((await tp.api.request('DELETE', `/api/devices/${device.id}/firmware`)).status, 204);
    assert.deepEqual(await shared(device.id), {}, 'every fw_* attribute is gone');
    const status = await tp.api.request<{ firmware: { assigned: unknown } }>('GET', `/api/devices/${device.id}/firmware`);
    assert.equal(status.body.firmware.assigned, null);
    assert.equal((await tp.api.request('DELETE', `/api/devices/${device.id}/firmware`)).status, 204, 'idempotent');
    assert.equal((await tp.api.request('DELETE', '/api/devices/no-such-device/firmware')).status, 404);
    assert.equal((await tp.api.request('DELETE', `/api/devices/${device.id}/firmware?type=other`)).status, 400);

    // With a profile assignment, the device falls back to the profile's package and is told of it.
    const profile = await tp.api.request<{ id: string }>('POST', '/api/profiles', { name: 'ota-unassign-profile' });
    const moved = await tp.api.createDevice('ota-unassign-2', { profileId: profile.body.id });
    const data = new Uint8Array(randomBytes(300));
    const { body: base } = await upload(`title=unassign-base&version=1.0&profileId=${profile.body.id}`, data);
    const { body: own } = await upload('title=unassign-own&version=2.0', data);
    assert.equal((await tp.api.request('POST', `/api/profiles/${profile.body.id}/firmware`, { packageId: base.id })).status, 200);
    assert.equal((await tp.api.request('POST', `/api/devices/${moved.id}/firmware`, { packageId: own.id })).status, 200);
    assert.equal((await shared(moved.id)).fw_title, 'unassign-own');
    assert.equal((await tp.api.request('DELETE', `/api/devices/${moved.id}/firmware`)).status, 204);
    assert.deepEqual(await shared(moved.id), { fw_title: 'unassign-base', fw_version: '1.0', fw_size: 300, fw_checksum: sha256(data), fw_checksum_algorithm: 'SHA256' });
    const after = await tp.api.request<{ firmware: { assigned: { via: string; packageId: string } } }>('GET', `/api/devices/${moved.id}/firmware`);
    assert.deepEqual([after.body.firmware.assigned.via, after.body.firmware.assigned.packageId], ['profile', base.id]);
  });

  it('software packages: sw_* attributes, /software over HTTP and v2/sw over MQTT, beside the firmware', async () => {
    const sw = randomBytes(2500);
    const { body: pkg } = await upload('title=dev-app&version=7&type=software', new Uint8Array(sw));
    assert.equal((await tp.api.request('POST', `/api/devices/${assignedDevice.id}/firmware`, { packageId: pkg.id })).status, 200);
    const attrs = await tp.api.request<{ shared: Record<string, { value: unknown }> }>('GET', `/api/devices/${assignedDevice.id}/attributes?scope=shared`);
    assert.equal(attrs.body.shared.sw_version?.value, '7');
    assert.equal(attrs.body.shared.fw_version?.value, '5', 'the firmware assignment stays');
    const http = await fetch(`${tp.baseUrl}/api/v1/${assignedDevice.accessToken}/software?title=dev-app&version=7&size=2000&chunk=1`);
    assert.deepEqual(Buffer.from(await http.arrayBuffer()), sw.subarray(2000));
    const client = await connectMqtt(tp.ports.mqtt, { username: assignedDevice.accessToken, protocolVersion: 4 });
    try {
      await client.subscribeAsync('v2/sw/response/+/chunk/+', { qos: 0 });
      const got = new Promise<[string, Buffer]>((resolve) => client.once('message', (t, p) => resolve([t, p])));
      await client.publishAsync('v2/sw/request/3/chunk/0', '', { qos: 1 });
      const [topic, payload] = await got;
      assert.equal(topic, 'v2/sw/response/3/chunk/0');
      assert.deepEqual(payload, sw, 'an empty size: the whole package');
    } finally {
      await client.endAsync();
    }
    const status = await tp.api.request<{ software: { assigned: { version: string } | null } }>('GET', `/api/devices/${assignedDevice.id}/firmware`);
    assert.equal(status.body.software.assigned?.version, '7');
  });

  it('HTTP without a size streams the whole package, even past ota.maxChunkBytes (curl -o, as the ThingsBoard docs show)', async () => {
    const device = await tp.api.createDevice('ota-dev-whole');
    const big = randomBytes(MAX_CHUNK * 2 + 123);
    const { body: pkg } = await upload('title=whole-fw&version=1', new Uint8Array(big));
    assert.equal((await tp.api.request('POST', `/api/devices/${device.id}/firmware`, { packageId: pkg.id })).status, 200);
    const out = join(tempDir(), 'fw.bin');
    await run('curl', ['-sS', '--fail', '-o', out, `${tp.baseUrl}/api/v1/${device.accessToken}/firmware?title=whole-fw&version=1`]);
    assert.deepEqual(readFileSync(out), big);
    const code = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${tp.baseUrl}/api/v1/${device.accessToken}/firmware?title=whole-fw&version=1&size=${MAX_CHUNK * 2}`]);
    assert.equal(code.stdout, '413', 'a chunk size over the limit is still refused');
  });

  it('CoAP: coap-client downloads the assigned firmware (block-wise); the other device gets 4.04', async () => {
    const dir = tempDir();
    const out = join(dir, 'fw.bin');
    const url = (token: string) => `coap://127.0.0.1:${tp.ports.coap}/api/v1/${token}/firmware?title=dev-fw&version=5&size=3000&chunk=0`;
    await run('coap-client-notls', ['-m', 'get', '-B', '10', '-o', out, url(assignedDevice.accessToken)]);
    assert.deepEqual(readFileSync(out), data);
    const refused = await run('coap-client-notls', ['-m', 'get', '-B', '5', url(otherDevice.accessToken)]).catch((err: { stdout: string; stderr: string }) => err);
    assert.match(`${refused.stdout}${refused.stderr}`, /4\.04/);
  });
});
