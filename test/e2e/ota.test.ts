/**
 * Firmware over the air end to end, with devices written only from ThingsBoard's OTA
 * documentation (https://thingsboard.io/docs/user-guide/ota-updates/):
 *  - MQTT.js: subscribes to shared attributes and `v2/fw/response/+/chunk/+`, is told of the
 *    package by the `fw_*` attributes, requests chunks on `v2/fw/request/{id}/chunk/{n}`, checks
 *    the SHA-256, reports DOWNLOADING … UPDATING, reconnects reporting the new version: UPDATED.
 *  - curl: reads the `fw_*` attributes over HTTP, downloads `/firmware?title&version&size&chunk`
 *    chunk by chunk, reports its states over HTTP telemetry.
 * The platform's GET /api/devices/{id}/firmware shows the assignment, the states and upToDate.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ADMIN, connectMqtt, eventually, startTestPlatform, tempDir, type TestPlatform } from '../support/platform.js';

const run = promisify(execFile);
let tp: TestPlatform;
let adminToken: string;

before(async () => {
  tp = await startTestPlatform();
  adminToken = await loginAs(tp.baseUrl);
});
after(async () => {
  await tp.stop();
});

interface FirmwareStatus {
  firmware: { assigned: { packageId: string; version: string } | null; state: string | null; currentVersion: string | null; upToDate: boolean; history: { ts: number; state: string }[] };
}

async function upload(title: string, version: string, data: Buffer): Promise<{ id: string; size: number; checksum: string; checksumAlgorithm: string }> {
  const res = await fetch(`${tp.baseUrl}/api/ota/packages?title=${encodeURIComponent(title)}&version=${encodeURIComponent(version)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(data),
  });
  const body = (await res.json()) as { id: string; size: number; checksum: string; checksumAlgorithm: string };
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The device side, as ThingsBoard documents it; returns once it reported UPDATING and went for its reboot. */
async function mqttDevice(token: string, currentVersion: string, chunkSize: number): Promise<{ downloaded: Buffer; chunks: number; downloadMs: number }> {
  const client = await connectMqtt(tp.ports.mqtt, { username: token, protocolVersion: 4 });
  const telemetry = (values: Record<string, unknown>) => client.publishAsync('v1/devices/me/telemetry', JSON.stringify(values), { qos: 1 });
  try {
    await client.subscribeAsync(['v1/devices/me/attributes', 'v1/devices/me/attributes/response/+', 'v2/fw/response/+/chunk/+'], { qos: 1 });
    await telemetry({ current_fw_title: 'meter-fw', current_fw_version: currentVersion });
    // "Device requests its firmware info": attribute request with the fw keys; the answer (or a later push) tells it what to run.
    const info = new Promise<Record<string, unknown>>((resolve) => {
      client.on('message', (topic, payload) => {
        if (topic === 'v1/devices/me/attributes' || topic.startsWith('v1/devices/me/attributes/response/')) {
          const body = JSON.parse(payload.toString()) as { shared?: Record<string, unknown> } & Record<string, unknown>;
          const shared = body.shared ?? body;
          if (typeof shared.fw_version === 'string' && shared.fw_version !== currentVersion) resolve(shared);
        }
      });
    });
    await client.publishAsync('v1/devices/me/attributes/request/1', JSON.stringify({ sharedKeys: 'fw_checksum,fw_checksum_algorithm,fw_size,fw_title,fw_version' }), { qos: 1 });
    const fw = await info;
    assert.equal(fw.fw_checksum_algorithm, 'SHA256');
    await telemetry({ current_fw_title: 'meter-fw', current_fw_version: currentVersion, fw_state: 'DOWNLOADING' });
    const parts: Buffer[] = [];
    let received = 0;
    let n = 0;
    const requestId = 7;
    const downloadStart = performance.now();
    while (received < (fw.fw_size as number)) {
      const responseTopic = `v2/fw/response/${requestId}/chunk/${n}`;
      const chunk = new Promise<Buffer>((resolve) => {
        const onMessage = (topic: string, payload: Buffer) => {
          if (topic !== responseTopic) return;
          client.off('message', onMessage);
          resolve(payload);
        };
        client.on('message', onMessage);
      });
      await client.publishAsync(`v2/fw/request/${requestId}/chunk/${n}`, String(chunkSize), { qos: 1 });
      const bytes = await chunk;
      assert.ok(bytes.length > 0, `chunk ${n} is not empty before the end`);
      parts.push(bytes);
      received += bytes.length;
      n++;
    }
    const downloadMs = performance.now() - downloadStart;
    await sleep(5);
    await telemetry({ fw_state: 'DOWNLOADED' });
    const downloaded = Buffer.concat(parts);
    const digest = createHash('sha256').update(downloaded).digest('hex');
    await sleep(5);
    if (digest !== fw.fw_checksum) {
      await telemetry({ fw_state: 'FAILED', fw_error: 'checksum mismatch' });
      throw new Error('checksum mismatch');
    }
    await telemetry({ fw_state: 'VERIFIED' });
    await sleep(5);
    await telemetry({ fw_state: 'UPDATING' });
    return { downloaded, chunks: n, downloadMs };
  } finally {
    await client.endAsync();
  }
}

test('an MQTT.js device written from the ThingsBoard docs downloads its firmware in chunks, verifies it, and comes back UPDATED', async () => {
  const device = await tp.api.createDevice('ota-mqtt-1');
  const image = randomBytes(150_000);
  const pkg = await upload('meter-fw', '2.0.0', image);
  assert.equal(pkg.size, image.length);
  assert.equal(pkg.checksum, createHash('sha256').update(image).digest('hex'));
  assert.equal(pkg.checksumAlgorithm, 'SHA256');

  const deviceRun = mqttDevice(device.accessToken, '1.0.0', 16_384);
  // Assigned while the device waits: the fw_* attributes reach it (pushed, or in its request's answer).
  await sleep(200);
  const assigned = await tp.api.request<{ packageId: string }>('POST', `/api/devices/${device.id}/firmware`, { packageId: pkg.id });
  assert.equal(assigned.status, 200, JSON.stringify(assigned.body));
  const { downloaded, chunks, downloadMs } = await deviceRun;
  assert.deepEqual(downloaded, image);
  assert.equal(chunks, Math.ceil(image.length / 16_384));
  console.log(`# MQTT: ${chunks} chunks of 16 KiB (${image.length} bytes) downloaded in ${downloadMs.toFixed(1)} ms, one request at a time; checksum verified`);

  // The reboot: the device comes back reporting the new version.
  const rebooted = await connectMqtt(tp.ports.mqtt, { username: device.accessToken, protocolVersion: 5 });
  await rebooted.publishAsync('v1/devices/me/telemetry', JSON.stringify({ current_fw_title: 'meter-fw', current_fw_version: '2.0.0', fw_state: 'UPDATED' }), { qos: 1 });
  await rebooted.endAsync();

  const status = await eventually(async () => {
    const res = await tp.api.request<FirmwareStatus>('GET', `/api/devices/${device.id}/firmware`);
    return res.body.firmware.state === 'UPDATED' ? res.body : undefined;
  }, 10_000, 'UPDATED');
  assert.equal(status.firmware.upToDate, true);
  assert.equal(status.firmware.currentVersion, '2.0.0');
  assert.equal(status.firmware.assigned?.packageId, pkg.id);
  assert.deepEqual(status.firmware.history.map((h) => h.state).reverse(), ['DOWNLOADING', 'DOWNLOADED', 'VERIFIED', 'UPDATING', 'UPDATED']);
});

test('a curl device downloads its firmware over HTTP chunk by chunk and reports its states', async () => {
  const device = await tp.api.createDevice('ota-curl-1');
  const image = randomBytes(70_000);
  const pkg = await upload('meter-fw', '3.0.0', image);
  const assigned = await tp.api.request('POST', `/api/devices/${device.id}/firmware`, { packageId: pkg.id });
  assert.equal(assigned.status, 200);
  const base = `${tp.baseUrl}/api/v1/${device.accessToken}`;
  const curl = async (args: string[]): Promise<Buffer> => (await run('curl', ['-sS', '--fail', ...args], { encoding: 'buffer', maxBuffer: 1 << 22 })).stdout;
  const report = (values: Record<string, unknown>) => curl(['-X', 'POST', '-H', 'content-type: application/json', '--data', JSON.stringify(values), `${base}/telemetry`]);

  const attrs = JSON.parse((await curl([`${base}/attributes?sharedKeys=fw_title,fw_version,fw_size,fw_checksum,fw_checksum_algorithm`])).toString()) as { shared: Record<string, string | number> };
  assert.deepEqual(attrs.shared, { fw_title: 'meter-fw', fw_version: '3.0.0', fw_size: image.length, fw_checksum: pkg.checksum, fw_checksum_algorithm: 'SHA256' });
  await report({ current_fw_title: 'meter-fw', current_fw_version: '2.0.0', fw_state: 'DOWNLOADING' });
  const size = 32_768;
  const parts: Buffer[] = [];
  for (let chunk = 0; ; chunk++) {
    const q = `title=${attrs.shared.fw_title}&version=${attrs.shared.fw_version}&size=${size}&chunk=${chunk}`;
    const bytes = await curl([`${base}/firmware?${q}`]);
    if (bytes.length === 0) break; // past the end: an empty answer
    parts.push(bytes);
  }
  const downloaded = Buffer.concat(parts);
  assert.deepEqual(downloaded, image);
  await sleep(5);
  await report({ fw_state: 'DOWNLOADED' });
  await sleep(5);
  assert.equal(createHash('sha256').update(downloaded).digest('hex'), attrs.shared.fw_checksum);
  await report({ fw_state: 'VERIFIED' });
  await sleep(5);
  await report({ fw_state: 'UPDATING' });
  await sleep(5);
  await report({ current_fw_title: 'meter-fw', current_fw_version: '3.0.0', fw_state: 'UPDATED' });

  // Wrong version: 404, as for a package that is not the device's.
  const wrong = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${base}/firmware?title=meter-fw&version=9.9.9&size=1024&chunk=0`]);
  assert.equal(wrong.stdout, '404');

  const res = await tp.api.request<FirmwareStatus>('GET', `/api/devices/${device.id}/firmware`);
  assert.equal(res.body.firmware.state, 'UPDATED');
  assert.equal(res.body.firmware.upToDate, true);
  assert.deepEqual(res.body.firmware.history.map((h) => h.state).reverse(), ['DOWNLOADING', 'DOWNLOADED', 'VERIFIED', 'UPDATING', 'UPDATED']);
});

test('packages survive a restart; an upload cut off midway leaves no package and no file', async () => {
  const dataDir = tempDir();
  let own = await startTestPlatform({ dataDir });
  try {
    const token = await loginAs(own.baseUrl);
    const image = randomBytes(300_000);
    const res = await fetch(`${own.baseUrl}/api/ota/packages?title=persist-fw&version=1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(image),
    });
    const pkg = (await res.json()) as { id: string };
    assert.equal(res.status, 201);

    // A client that sends half its body and goes away.
    await new Promise<void>((resolve) => {
      const req = request(`${own.baseUrl}/api/ota/packages?title=cut-fw&version=1`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': '1000000' },
      });
      req.on('error', () => resolve());
      req.write(randomBytes(400_000), () => setTimeout(() => {
        req.destroy();
        resolve();
      }, 200));
    });
    await eventually(async () => (readdirSync(join(dataDir, 'ota', 'tmp')).length === 0 ? true : undefined), 5_000, 'the temporary file removed');

    await own.stop();
    own = await startTestPlatform({ dataDir });
    const again = await loginAs(own.baseUrl);
    const listed = (await (await fetch(`${own.baseUrl}/api/ota/packages`, { headers: { authorization: `Bearer ${again}` } })).json()) as { id: string; title: string }[];
    assert.deepEqual(listed.map((p) => p.title), ['persist-fw'], 'the cut upload is not a package');
    const data = await fetch(`${own.baseUrl}/api/ota/packages/${pkg.id}/data`, { headers: { authorization: `Bearer ${again}` } });
    assert.deepEqual(Buffer.from(await data.arrayBuffer()), image);
    assert.equal(readdirSync(join(dataDir, 'ota', 'sha256')).length, 1, 'one blob on disk');
  } finally {
    await own.stop();
  }
});

async function loginAs(baseUrl: string): Promise<string> {
  const login = await fetch(`${baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  return ((await login.json()) as { token: string }).token;
}
