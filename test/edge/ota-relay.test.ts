/**
 * Firmware through the edge (docs/OTA.md "Through the edge"): the platform (in process, SQLite),
 * the real edge and the simulated Modbus PLC with its firmware-receive area. A 64 KiB package is
 * assigned to the PLC's child device; the platform is stopped and restarted twice during the
 * download; the edge resumes where it stopped (chunk requests counted on the platform), writes
 * the image into the PLC with the block transfer, and the platform shows UPDATED. Then: a
 * gateway cannot fetch another gateway's child's, a standalone device's or another tenant's
 * package; a device of a connector without firmware support fails "not supported by connector";
 * the edge stages its own update and reports UPDATED after a restart into the new version.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEdge, type Edge } from '../../src/edge/app.js';
import { parseEdgeConfig } from '../../src/edge/config.js';
import { startPlc, type PlcServer } from '../../src/simulator/plc/server.js';
import type { DeviceIdentity } from '../../src/domain/device.js';
import type { OtaChunkRequest } from '../../src/ports/device-api.js';
import { GatewayService } from '../../src/services/gateway.js';
import { ADMIN, apiClient, connectMqtt, eventually, startTestPlatform, tempDir, type TestPlatform } from '../support/platform.js';

const t0 = Date.now();
const say = (level: string) => (o: object, m?: string) => (process.env.OTA_DEBUG ? console.log(Date.now() - t0, level, m, JSON.stringify(o)) : undefined);
const quiet = { debug() {}, info: say('info'), warn: say('warn'), error: say('error') };
const plcLog = { info() {}, warn() {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let tp: TestPlatform;
let mqttPort: number;
let plc: PlcServer;
let gateway: { id: string; accessToken: string };
/** Chunk indexes the platform served to gateways, per child name, across restarts. */
const served: { device: string; chunk: number }[] = [];

/**
 * Counts what every platform's gateway service serves (the method the MQTT bridge calls), from
 * the first request of each instance on: patched on the class, before any platform starts.
 */
function countChunks(): void {
  const original = GatewayService.prototype.gatewayOtaChunk;
  GatewayService.prototype.gatewayOtaChunk = async function (this: GatewayService, gw: DeviceIdentity, name: string, request: OtaChunkRequest) {
    const bytes = await original.call(this, gw, name, request);
    served.push({ device: name, chunk: request.chunk });
    return bytes;
  };
}

async function restartPlatform(): Promise<void> {
  tp = await startTestPlatform({ dataDir: tp.dataDir, config: { mqtt: { port: mqttPort, tlsPort: 0 } } });
}

async function token(credentials = ADMIN): Promise<string> {
  const res = await fetch(`${tp.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(credentials) });
  return ((await res.json()) as { token: string }).token;
}

async function upload(title: string, version: string, data: Buffer, bearer?: string): Promise<{ id: string; checksum: string }> {
  const res = await fetch(`${tp.baseUrl}/api/ota/packages?title=${encodeURIComponent(title)}&version=${encodeURIComponent(version)}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer ?? (await token())}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(data),
  });
  const body = (await res.json()) as { id: string; checksum: string };
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}

async function deviceId(name: string): Promise<string> {
  return eventually(async () => {
    const list = await tp.api.request<{ items: { id: string; name: string }[] }>('GET', `/api/devices?search=${name}`);
    return list.body.items.find((d) => d.name === name)?.id;
  }, 10_000, name);
}

interface FirmwareStatus {
  firmware: { state: string | null; error: string | null; currentVersion: string | null; upToDate: boolean; history: { state: string }[] };
}

function edgeConfig(extra = ''): string {
  return `
platform: { url: "mqtt://127.0.0.1:${mqttPort}", token: "${gateway.accessToken}", reconnectMs: 100, reconnectMaxMs: 300 }
firmware: { chunkSize: 1024, chunksPerSecond: 40, requestTimeoutMs: 2000, retryMs: 300, version: "1.0.0" ${extra} }
connectors:
  - type: modbus-tcp
    host: 127.0.0.1
    port: ${plc.port}
    reconnect: { minMs: 100, maxMs: 500 }
    devices:
      - { name: plc-fw, pollMs: 500, registers: [{ key: r0, address: 0 }], firmware: { base: 60000 } }
      - { name: plc-plain, unitId: 1, pollMs: 500, registers: [{ key: r0, address: 0 }] }
  - type: sms
    name: sms
    transport: smpp
    smpp: { host: 127.0.0.1, port: 1, systemId: x, password: y }
    devices: [{ name: phone-1, number: "+15550001" }]
`;
}

before(async () => {
  countChunks();
  tp = await startTestPlatform();
  mqttPort = tp.ports.mqtt;
  plc = await startPlc({ map: { holdingRegisters: [{ address: 0, signal: { kind: 'constant', value: 7 } }], firmware: { base: 60000, version: '1.0.0' } }, port: 0, log: plcLog });
  gateway = await tp.api.createDevice('edge-fw-gw', { gateway: true });
});

after(async () => {
  await tp?.stop();
  await plc?.stop();
});

test('a PLC behind the edge receives a 64 KiB image while the platform is away twice; downloaded once, UPDATED on the platform', async () => {
  const dataDir = tempDir();
  const edge: Edge = await startEdge({ config: parseEdgeConfig(edgeConfig(), {}), dataDir, logger: quiet, healthIntervalMs: 60_000 });
  try {
    const child = await deviceId('plc-fw');
    const image = randomBytes(64 * 1024);
    const pkg = await upload('plc-fw', '2.0.0', image);
    assert.equal((await tp.api.request('POST', `/api/devices/${child}/firmware`, { packageId: pkg.id })).status, 200);
    const progress = () => edge.status().firmware?.downloads[pkg.checksum]?.nextChunk ?? 0;

    // Two outages in the middle of the download (64 chunks of 1 KiB at 40/s).
    const cuts: number[] = [];
    for (const at of [10, 35]) {
      await eventually(async () => (progress() >= at ? true : undefined), 30_000, `chunk ${at} downloaded`);
      await tp.stop();
      say('test')({ progress: progress() }, 'platform stopped');
      cuts.push(progress());
      await sleep(800); // the edge tries meanwhile and finds no platform
      assert.ok(progress() - (cuts.at(-1) ?? 0) <= 1, 'no progress without a platform');
      await restartPlatform();
      say('test')({ progress: progress() }, 'platform restarted');
    }
    assert.ok((cuts[0] ?? 0) < 64 && (cuts[1] ?? 0) < 64, `both cuts fell inside the download: ${cuts.join(', ')}`);

    const status = await eventually(async () => {
      const res = await tp.api.request<FirmwareStatus>('GET', `/api/devices/${child}/firmware`);
      return res.body.firmware.state === 'UPDATED' || res.body.firmware.state === 'FAILED' ? res.body : undefined;
    }, 60_000, 'plc-fw UPDATED');
    assert.equal(status.firmware.state, 'UPDATED', JSON.stringify(status.firmware));
    assert.equal(status.firmware.currentVersion, '2.0.0');
    assert.equal(status.firmware.upToDate, true);
    const states = status.firmware.history.map((h) => h.state).reverse();
    for (const s of ['DOWNLOADING', 'DOWNLOADED', 'VERIFIED', 'UPDATING', 'UPDATED']) assert.ok(states.includes(s), `${s} in ${states.join(',')}`);

    // The PLC runs exactly the image: its running SHA-256 and version, as the simulator holds them.
    assert.equal(plc.firmware?.runningSha256, createHash('sha256').update(image).digest('hex'));
    assert.equal(plc.firmware?.version, '2.0.0');

    // Fetched once: every chunk served, none twice except those cut in flight (at most one per outage).
    const chunks = served.filter((s) => s.device === 'plc-fw').map((s) => s.chunk);
    assert.equal(new Set(chunks).size, 64, 'every chunk served');
    assert.ok(chunks.length <= 64 + cuts.length, `chunk requests served: ${chunks.length} for 64 chunks and ${cuts.length} outages`);
    // The image store holds it by checksum; no partial file is left.
    assert.ok(existsSync(join(dataDir, 'firmware', 'sha256', pkg.checksum)));
    assert.equal(existsSync(join(dataDir, 'firmware', 'partial', pkg.checksum)), false);
    console.log(`firmware relay: outages at chunks ${cuts.join(' and ')}; ${chunks.length} chunk requests served for 64 chunks`);

    // A device without a firmware area, and one of a connector without firmware support: FAILED with the reason.
    for (const [name, reason] of [
      ['plc-plain', /not supported by device configuration/],
      ['phone-1', /not supported by connector/],
    ] as const) {
      const id = await deviceId(name);
      assert.equal((await tp.api.request('POST', `/api/devices/${id}/firmware`, { packageId: pkg.id })).status, 200);
      const failed = await eventually(async () => {
        const res = await tp.api.request<FirmwareStatus>('GET', `/api/devices/${id}/firmware`);
        return res.body.firmware.state === 'FAILED' ? res.body : undefined;
      }, 20_000, `${name} FAILED`);
      assert.match(failed.firmware.error ?? '', reason);
    }
  } finally {
    await edge.stop();
  }
});

test('a gateway fetches only its own children’s packages: another gateway’s child, a standalone device and another tenant’s device are refused', async () => {
  const pkg = await upload('other-fw', '1.0.1', randomBytes(4096));
  const other = await tp.api.createDevice('edge-fw-gw-2', { gateway: true });
  const otherGw = await connectMqtt(mqttPort, { username: other.accessToken });
  await otherGw.publishAsync('v1/gateway/connect', JSON.stringify({ device: 'their-plc' }), { qos: 1 });
  await otherGw.endAsync();
  const standalone = await tp.api.createDevice('standalone-plc');
  for (const name of ['their-plc', 'standalone-plc']) {
    assert.equal((await tp.api.request('POST', `/api/devices/${await deviceId(name)}/firmware`, { packageId: pkg.id })).status, 200);
  }
  // Another tenant with a device of that name and a package assigned to it.
  const tenant = await tp.api.request<{ id: string }>('POST', '/api/tenants', { name: 'Tenant OTA' });
  const TA = { email: 'ta@ota-relay.test', password: 'ota-relay-password-1' };
  assert.equal((await tp.api.request('POST', `/api/tenants/${tenant.body.id}/users`, { ...TA, role: 'tenant-admin' })).status, 201);
  const ta = await apiClient(tp.baseUrl, TA);
  const foreign = await ta.createDevice('foreign-plc');
  const foreignPkg = await upload('foreign-fw', '1.0.0', randomBytes(2048), await token(TA));
  assert.equal((await ta.request('POST', `/api/devices/${foreign.id}/firmware`, { packageId: foreignPkg.id })).status, 200);

  const gw = await connectMqtt(mqttPort, { username: gateway.accessToken, protocolVersion: 5 });
  try {
    const errors: { device: string; error: string; code: string }[] = [];
    const chunks: string[] = [];
    gw.on('message', (topic, payload) => (topic === 'v1/gateway/fw/error' ? errors.push(JSON.parse(payload.toString()) as (typeof errors)[number]) : chunks.push(topic)));
    await gw.subscribeAsync(['v1/gateway/fw/response/+/chunk/+', 'v1/gateway/fw/error'], { qos: 0 });
    let id = 100;
    for (const device of ['their-plc', 'standalone-plc', 'foreign-plc']) {
      await gw.publishAsync('v1/gateway/fw/request', JSON.stringify({ device, requestId: ++id, chunk: 0, size: 1024 }), { qos: 1 }).catch(() => undefined);
    }
    const refused = await eventually(async () => (errors.length >= 3 ? errors : undefined), 10_000, 'three refusals');
    assert.deepEqual(
      refused.map((e) => [e.device, e.code]),
      [
        ['their-plc', 'FORBIDDEN'],
        ['standalone-plc', 'FORBIDDEN'],
        ['foreign-plc', 'DEVICE_NOT_FOUND'],
      ],
    );
    assert.deepEqual(chunks, [], 'no bytes served');
    // Malformed requests are refused too, and the connection stays usable.
    await gw.publishAsync('v1/gateway/fw/request', 'not json', { qos: 1 }).catch(() => undefined);
    await eventually(async () => (errors.length >= 4 ? true : undefined), 10_000, 'malformed refused');
    assert.ok(gw.connected);
    assert.equal(standalone.name, 'standalone-plc');
  } finally {
    await gw.endAsync();
  }
});

test('the edge updates itself: downloads its own package, stages it in DIR/updates, UPDATED after a restart into the new version', async () => {
  const dataDir = tempDir();
  const image = randomBytes(8 * 1024);
  const pkg = await upload('continuum-edge', '1.1.0', image);
  let edge = await startEdge({ config: parseEdgeConfig(edgeConfig(), {}), dataDir, logger: quiet, healthIntervalMs: 60_000 });
  try {
    assert.equal((await tp.api.request('POST', `/api/devices/${gateway.id}/firmware`, { packageId: pkg.id })).status, 200);
    const pendingFile = join(dataDir, 'updates', 'pending.json');
    await eventually(async () => (existsSync(pendingFile) ? true : undefined), 20_000, 'update staged');
    const pending = JSON.parse(readFileSync(pendingFile, 'utf8')) as { version: string; file: string; checksum: string };
    assert.equal(pending.version, '1.1.0');
    assert.equal(createHash('sha256').update(readFileSync(pending.file)).digest('hex'), pkg.checksum);
    await eventually(async () => {
      const res = await tp.api.request<FirmwareStatus>('GET', `/api/devices/${gateway.id}/firmware`);
      return res.body.firmware.state === 'UPDATING' ? true : undefined;
    }, 10_000, 'gateway UPDATING');
    await edge.stop();
    // The service manager (or installCommand) restarted the edge on the new version.
    edge = await startEdge({ config: parseEdgeConfig(edgeConfig().replace('version: "1.0.0"', 'version: "1.1.0"'), {}), dataDir, logger: quiet, healthIntervalMs: 60_000 });
    const status = await eventually(async () => {
      const res = await tp.api.request<FirmwareStatus>('GET', `/api/devices/${gateway.id}/firmware`);
      return res.body.firmware.state === 'UPDATED' ? res.body : undefined;
    }, 20_000, 'gateway UPDATED');
    assert.equal(status.firmware.currentVersion, '1.1.0');
    assert.equal(status.firmware.upToDate, true);
    assert.equal(existsSync(pendingFile), false);
  } finally {
    await edge.stop();
  }
});

