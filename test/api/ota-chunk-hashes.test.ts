/**
 * Per-chunk hash manifests (issue 16 item 1): the SHA-256 of every chunk of a package at a chunk
 * size, for the admin (`GET /api/ota/packages/{id}/chunks?size`) and for the device the package is
 * assigned to (`GET /api/v1/{token}/firmware/chunks?title&version&size`), each hash equal to the
 * SHA-256 of the chunk the device downloads at that size; bad sizes and other devices refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { ADMIN, startTestPlatform, type TestPlatform } from '../support/platform.js';

let tp: TestPlatform;
let token: string;
let device: { id: string; accessToken: string };
let other: { id: string; accessToken: string };
let pkgId: string;
const image = randomBytes(10_000);
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

interface Manifest {
  packageId: string;
  size: number;
  checksum: string;
  chunkSize: number;
  chunks: string[];
}

before(async () => {
  tp = await startTestPlatform();
  const login = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  token = ((await login.json()) as { token: string }).token;
  const res = await fetch(`${tp.baseUrl}/api/ota/packages?title=small-fw&version=1.2.0`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(image) });
  assert.equal(res.status, 201);
  pkgId = ((await res.json()) as { id: string }).id;
  device = await tp.api.createDevice('small-mcu');
  other = await tp.api.createDevice('not-assigned');
  assert.equal((await tp.api.request('POST', `/api/devices/${device.id}/firmware`, { packageId: pkgId })).status, 200);
});
after(async () => {
  await tp.stop();
});

test('the admin reads the SHA-256 of every chunk; the last, shorter chunk included', async () => {
  const res = await tp.api.request<Manifest>('GET', `/api/ota/packages/${pkgId}/chunks?size=4096`);
  assert.equal(res.status, 200);
  assert.deepEqual(
    { ...res.body, chunks: res.body.chunks.length },
    { packageId: pkgId, size: 10_000, checksum: sha256(image), checksumAlgorithm: 'SHA256', chunkSize: 4096, chunks: 3 },
  );
  assert.deepEqual(res.body.chunks, [sha256(image.subarray(0, 4096)), sha256(image.subarray(4096, 8192)), sha256(image.subarray(8192))]);
  assert.equal((await tp.api.request('GET', `/api/ota/packages/${pkgId}/chunks?size=10`)).status, 400, 'below 64 bytes');
  assert.equal((await tp.api.request('GET', `/api/ota/packages/00000000-0000-4000-8000-00000000dead/chunks?size=4096`)).status, 404);
});

test('the device checks each chunk it downloads against the manifest of its assigned package', async () => {
  const base = `${tp.baseUrl}/api/v1/${device.accessToken}/firmware`;
  const res = await fetch(`${base}/chunks?title=small-fw&version=1.2.0&size=1024`);
  assert.equal(res.status, 200);
  const manifest = (await res.json()) as Manifest;
  assert.equal(manifest.chunks.length, 10);
  for (let n = 0; n < manifest.chunks.length; n++) {
    const chunk = new Uint8Array(await (await fetch(`${base}?title=small-fw&version=1.2.0&size=1024&chunk=${n}`)).arrayBuffer());
    assert.equal(sha256(chunk), manifest.chunks[n], `chunk ${n}`);
  }
  // Not the package assigned, no package assigned, no title: refused as the chunk route refuses them.
  assert.equal((await fetch(`${base}/chunks?title=small-fw&version=9.9.9&size=1024`)).status, 404);
  assert.equal((await fetch(`${tp.baseUrl}/api/v1/${other.accessToken}/firmware/chunks?title=small-fw&version=1.2.0&size=1024`)).status, 404);
  assert.equal((await fetch(`${base}/chunks?size=1024`)).status, 400);
  assert.equal((await fetch(`${tp.baseUrl}/api/v1/not-a-token/firmware/chunks?title=small-fw&version=1.2.0&size=1024`)).status, 401);
});
