/**
 * Signed packages, anti-rollback, external URL packages and delta packages (issue 16, docs/OTA.md):
 * keys are registered (PEM or raw base64), a signature over the canonical manifest is verified
 * at upload (tampered bytes, another key, a changed manifest field are refused), the tenant's
 * "signed only" policy, minVersion refusing older devices, external URLs passing the outbound
 * policy (loopback refused unless allowed), deltas chosen for devices on their base version,
 * and who may do what on the new routes.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { canonicalManifest, type OtaManifest } from '../../src/domain/ota-signing.js';
import { ADMIN, apiClient, startTestPlatform, type ApiClient, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let adminToken: string;
let operator: ApiClient;

interface Pkg {
  id: string;
  title: string;
  version: string;
  size: number;
  checksum: string;
  signedBy?: string;
  url?: string;
  fromVersion?: string;
  error?: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

async function login(email: string, password: string): Promise<string> {
  const res = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  return ((await res.json()) as { token: string }).token;
}

async function upload(query: Record<string, string>, body?: BodyInit): Promise<{ status: number; body: Pkg }> {
  const res = await fetch(`${tp.baseUrl}/api/ota/packages?${new URLSearchParams(query).toString()}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, ...(body !== undefined ? { 'content-type': 'application/octet-stream' } : {}) },
    ...(body !== undefined ? { body } : {}),
  });
  return { status: res.status, body: (await res.json()) as Pkg };
}

const signManifest = (m: OtaManifest, key: KeyObject): string => sign(null, canonicalManifest(m), key).toString('base64');

/** The device reports its current firmware version (HTTP device API). */
async function reportVersion(token: string, version: string): Promise<void> {
  const res = await fetch(`${tp.baseUrl}/api/v1/${token}/telemetry`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ current_fw_version: version }) });
  assert.equal(res.status, 200);
}

async function sharedAttrs(deviceId: string): Promise<Record<string, unknown>> {
  const attrs = await tp.api.request<{ shared: Record<string, { value: unknown }> }>('GET', `/api/devices/${deviceId}/attributes?scope=shared`);
  return Object.fromEntries(Object.entries(attrs.body.shared).map(([k, a]) => [k, a.value]));
}

const vendor = generateKeyPairSync('ed25519');
const other = generateKeyPairSync('ed25519');

before(async () => {
  tp = await startTestPlatform({});
  adminToken = await login(ADMIN.email, ADMIN.password);
  assert.equal((await tp.api.request('POST', '/api/users', { email: 'op-sign@test.local', password: 'operator-password-1', role: 'user' })).status, 201);
  operator = await apiClient(tp.baseUrl, { email: 'op-sign@test.local', password: 'operator-password-1' });
});
after(async () => {
  await tp.stop();
});

describe('signing keys', () => {
  it('registers PEM and raw base64 keys, lists and deletes them; refuses what is not an Ed25519 public key; operators read only', async () => {
    const pem = vendor.publicKey.export({ format: 'pem', type: 'spki' }).toString();
    const added = await tp.api.request<{ id: string; name: string; publicKey: string }>('POST', '/api/ota/keys', { name: 'vendor', publicKey: pem });
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const raw = other.publicKey.export({ format: 'der', type: 'spki' }).subarray(12).toString('base64');
    const second = await tp.api.request<{ id: string; publicKey: string }>('POST', '/api/ota/keys', { name: 'spare', publicKey: raw });
    assert.equal(second.status, 201);
    assert.equal(second.body.publicKey, raw);
    assert.equal((await tp.api.request('POST', '/api/ota/keys', { name: 'vendor', publicKey: raw })).status, 409, 'names are unique');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'pem', type: 'spki' }).toString();
    assert.equal((await tp.api.request('POST', '/api/ota/keys', { name: 'rsa', publicKey: rsa })).status, 400);
    assert.equal((await tp.api.request('POST', '/api/ota/keys', { name: 'short', publicKey: 'AAAA' })).status, 400);
    const priv = vendor.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    assert.equal((await tp.api.request('POST', '/api/ota/keys', { name: 'private', publicKey: priv })).status, 400, 'a private key is never taken');

    const listed = await operator.request<{ name: string }[]>('GET', '/api/ota/keys');
    assert.equal(listed.status, 200);
    assert.deepEqual(listed.body.map((k) => k.name).sort(), ['spare', 'vendor']);
    assert.equal((await operator.request('POST', '/api/ota/keys', { name: 'op', publicKey: raw })).status, 403);
    assert.equal((await operator.request('DELETE', `/api/ota/keys/${second.body.id}`)).status, 403);
    assert.equal((await operator.request('PUT', '/api/ota/settings', { requireSigned: true })).status, 403);
    assert.equal((await fetch(`${tp.baseUrl}/api/ota/keys`)).status, 401);
    assert.equal((await tp.api.request('DELETE', `/api/ota/keys/${second.body.id}`)).status, 204);
    assert.equal((await tp.api.request('DELETE', `/api/ota/keys/${second.body.id}`)).status, 404);
  });
});

describe('signed uploads', () => {
  it('accepts a signature by a registered key, refuses tampered bytes, another key, a changed manifest', async () => {
    const data = new Uint8Array(randomBytes(4000));
    const manifest = { sha256: sha256(data), title: 'signed-fw', version: '2.0', hardware: 'rev-c', minVersion: '1.5' };
    const signature = signManifest(manifest, vendor.privateKey);
    const ok = await upload({ title: 'signed-fw', version: '2.0', hardware: 'rev-c', minVersion: '1.5', signature }, data);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.ok(ok.body.signedBy, 'the verifying key is named');

    const tampered = new Uint8Array(data);
    tampered[10] = (tampered[10] ?? 0) ^ 1;
    const bad = await upload({ title: 'signed-fw', version: '2.1', hardware: 'rev-c', minVersion: '1.5', signature }, tampered);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error, 'SIGNATURE_INVALID');

    const byOther = signManifest({ ...manifest, version: '2.2' }, other.privateKey);
    assert.equal((await upload({ title: 'signed-fw', version: '2.2', hardware: 'rev-c', minVersion: '1.5', signature: byOther }, data)).status, 400, 'a deleted / unknown key');
    // the manifest binds minVersion: dropping it (to roll devices back) breaks the signature
    assert.equal((await upload({ title: 'signed-fw', version: '2.0-b', hardware: 'rev-c', signature }, data)).status, 400);
    assert.equal((await upload({ title: 'signed-fw', version: '2.3', signature: 'not base64!' }, data)).status, 400);
    const listed = await tp.api.request<Pkg[]>('GET', '/api/ota/packages');
    assert.deepEqual(listed.body.filter((p) => p.title === 'signed-fw').map((p) => p.version), ['2.0'], 'refused uploads leave nothing');
  });

  it('a tenant requiring signed packages refuses unsigned uploads and external packages', async () => {
    assert.deepEqual((await tp.api.request('GET', '/api/ota/settings')).body, { requireSigned: false });
    assert.equal((await tp.api.request('PUT', '/api/ota/settings', { requireSigned: true })).status, 200);
    try {
      const data = new Uint8Array(randomBytes(500));
      const unsigned = await upload({ title: 'policy-fw', version: '1' }, data);
      assert.equal(unsigned.status, 400);
      assert.equal(unsigned.body.error, 'SIGNATURE_INVALID');
      const ext = await upload({ title: 'policy-fw', version: '2', url: 'https://updates.example.com/fw.bin', checksum: sha256(data), size: '500' });
      assert.equal(ext.status, 400);
      const signature = signManifest({ sha256: sha256(data), title: 'policy-fw', version: '3' }, vendor.privateKey);
      assert.equal((await upload({ title: 'policy-fw', version: '3', signature }, data)).status, 201);
    } finally {
      assert.equal((await tp.api.request('PUT', '/api/ota/settings', { requireSigned: false })).status, 200);
    }
  });
});

describe('anti-rollback', () => {
  it('a package with minVersion is not assigned to a device reporting an older version', async () => {
    const data = new Uint8Array(randomBytes(300));
    const pkg = await upload({ title: 'rb-fw', version: '3.0', minVersion: '2.0' }, data);
    assert.equal(pkg.status, 201);
    const old = await tp.api.createDevice('rb-old');
    const recent = await tp.api.createDevice('rb-recent');
    await reportVersion(old.accessToken, '1.9.9');
    await reportVersion(recent.accessToken, '2.0.1');
    const refused = await tp.api.request<{ error: string }>('POST', `/api/devices/${old.id}/firmware`, { packageId: pkg.body.id });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.error, 'ROLLBACK_REFUSED');
    assert.equal((await sharedAttrs(old.id)).fw_version, undefined, 'the device is not told');
    assert.equal((await tp.api.request('POST', `/api/devices/${recent.id}/firmware`, { packageId: pkg.body.id })).status, 200);
  });
});

describe('external URL packages', () => {
  it('stores no bytes, tells devices fw_url, and refuses a loopback URL (outbound policy)', async () => {
    const checksum = sha256(new Uint8Array(randomBytes(10)));
    const ext = await upload({ title: 'ext-fw', version: '1.0', url: 'https://updates.example.com/ext-fw-1.0.bin', checksum, size: '123456' });
    assert.equal(ext.status, 201, JSON.stringify(ext.body));
    assert.equal(ext.body.url, 'https://updates.example.com/ext-fw-1.0.bin');
    assert.equal(ext.body.size, 123456);
    const device = await tp.api.createDevice('ext-dev');
    assert.equal((await tp.api.request('POST', `/api/devices/${device.id}/firmware`, { packageId: ext.body.id })).status, 200);
    assert.deepEqual(await sharedAttrs(device.id), {
      fw_title: 'ext-fw', fw_version: '1.0', fw_size: 123456, fw_checksum: checksum, fw_checksum_algorithm: 'SHA256', fw_url: 'https://updates.example.com/ext-fw-1.0.bin',
    });
    assert.equal((await fetch(`${tp.baseUrl}/api/v1/${device.accessToken}/firmware?title=ext-fw&version=1.0&size=100&chunk=0`)).status, 404, 'no bytes here');

    const loop = await upload({ title: 'ext-fw', version: '1.1', url: 'http://127.0.0.1:8080/fw.bin', checksum, size: '10' });
    assert.equal(loop.status, 403, JSON.stringify(loop.body));
    assert.equal(loop.body.error, 'OUTBOUND_REFUSED');
    assert.equal((await upload({ title: 'ext-fw', version: '1.2', url: 'ftp://updates.example.com/x', checksum, size: '10' })).status, 400);
    assert.equal((await upload({ title: 'ext-fw', version: '1.3', url: 'https://updates.example.com/x', size: '10' })).status, 400, 'checksum is required');
  });

  it('a loopback URL passes when outbound.allow covers it', async () => {
    const allowed = await startTestPlatform({ store: 'memory', config: { outbound: { allow: ['127.0.0.1'] } } });
    try {
      const token = (await (await fetch(`${allowed.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: ADMIN.email, password: ADMIN.password }) })).json() as { token: string }).token;
      const res = await fetch(`${allowed.baseUrl}/api/ota/packages?title=lan-fw&version=1&url=${encodeURIComponent('http://127.0.0.1:9999/fw.bin')}&checksum=${'a'.repeat(64)}&size=10`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(res.status, 201, await res.text());
    } finally {
      await allowed.stop();
    }
  });
});

describe('delta packages', () => {
  it('a device on the delta base version gets the delta, others the full image; a delta alone reaches only its base', async () => {
    const full = new Uint8Array(randomBytes(5000));
    const delta = new Uint8Array(randomBytes(700));
    const fullPkg = await upload({ title: 'd-fw', version: '2.0' }, full);
    const deltaPkg = await upload({ title: 'd-fw', version: '2.0', fromVersion: '1.0' }, delta);
    assert.equal(deltaPkg.status, 201, JSON.stringify(deltaPkg.body));
    assert.equal(deltaPkg.body.fromVersion, '1.0');
    assert.equal((await upload({ title: 'd-fw', version: '2.0', fromVersion: '1.0' }, delta)).status, 409);

    const onBase = await tp.api.createDevice('d-on-base');
    const elsewhere = await tp.api.createDevice('d-elsewhere');
    await reportVersion(onBase.accessToken, '1.0');
    await reportVersion(elsewhere.accessToken, '0.9');
    for (const d of [onBase, elsewhere]) assert.equal((await tp.api.request('POST', `/api/devices/${d.id}/firmware`, { packageId: fullPkg.body.id })).status, 200);
    assert.equal((await sharedAttrs(onBase.id)).fw_checksum, sha256(delta));
    assert.equal((await sharedAttrs(onBase.id)).fw_version, '2.0');
    assert.equal((await sharedAttrs(elsewhere.id)).fw_checksum, sha256(full));
    const chunk = async (token: string) => Buffer.from(await (await fetch(`${tp.baseUrl}/api/v1/${token}/firmware?title=d-fw&version=2.0`)).arrayBuffer());
    assert.deepEqual(await chunk(onBase.accessToken), Buffer.from(delta));
    assert.deepEqual(await chunk(elsewhere.accessToken), Buffer.from(full));

    // a delta without a full image of its version: only devices on its base
    const lone = await upload({ title: 'lone-fw', version: '5', fromVersion: '4' }, delta);
    const on4 = await tp.api.createDevice('lone-on-4');
    await reportVersion(on4.accessToken, '4');
    assert.equal((await tp.api.request('POST', `/api/devices/${on4.id}/firmware`, { packageId: lone.body.id })).status, 200);
    assert.equal((await tp.api.request('POST', `/api/devices/${elsewhere.id}/firmware`, { packageId: lone.body.id })).status, 400);
  });
});
