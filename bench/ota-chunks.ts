/**
 * Firmware chunks served (issue 16, Must show 3): N devices download the same image at once, chunk
 * by chunk as ThingsBoard's OTA documentation has devices do it, over MQTT and over HTTP, against a
 * platform in its own process (SQLite, ports 0); the reference in the same run is a plain static
 * file server (Python's http.server, threaded, as `python3 -m http.server` runs it but with a listen
 * backlog of 1,024) serving the same chunks as files, fetched by the same HTTP downloaders.
 *
 *   node --import tsx bench/ota-chunks.ts [--devices 500] [--image-kib 256] [--chunk-kib 16] [--json FILE]
 *
 * - MQTT: each device (MQTT.js, Nagle off so the client's own 40 ms delayed-ACK stall is not
 *   measured, see docs/OTA.md) subscribes `v2/fw/response/+/chunk/+` and publishes the chunk size
 *   to `v2/fw/request/{id}/chunk/{n}` (QoS 1), one chunk in flight, the next after the answer.
 * - HTTP: each device GETs `/api/v1/{token}/firmware?title&version&size&chunk=n` in turn over a
 *   keep-alive connection (node:http agent, one socket per device).
 * - Reference: the same downloaders GET `/chunk-{n}` from Python's http.server.
 * Every device's reassembled image is checked against the package's SHA-256 (a bench that
 * served wrong bytes fast would measure nothing). Reported per run: chunks/s, MB/s, the p50/p99 of
 * one chunk's round trip, and platform / reference ratios.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { Histogram } from './lib/histogram.js';
import { freePort } from './lib/net.js';
import { type Api, makeTokens, startPlatform } from './lib/platform.js';

const { values } = parseArgs({ options: { devices: { type: 'string' }, 'image-kib': { type: 'string' }, 'chunk-kib': { type: 'string' }, json: { type: 'string' } } });
const DEVICES = Number(values.devices ?? 500);
const IMAGE = Number(values['image-kib'] ?? 256) * 1024;
const CHUNK = Number(values['chunk-kib'] ?? 16) * 1024;
const CHUNKS = Math.ceil(IMAGE / CHUNK);
const TITLE = 'bench-fw';
const VERSION = '2.0.0';

interface RunResult {
  readonly seconds: number;
  readonly chunks: number;
  readonly chunksPerS: number;
  readonly mbPerS: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

function summarise(seconds: number, hist: Histogram): RunResult {
  const chunks = DEVICES * CHUNKS;
  const r = (x: number): number => Math.round(x * 10) / 10;
  return { seconds: r(seconds), chunks, chunksPerS: Math.round(chunks / seconds), mbPerS: r((DEVICES * IMAGE) / seconds / 1e6), p50Ms: r(hist.percentileMs(50)), p99Ms: r(hist.percentileMs(99)) };
}

function checkImage(parts: Buffer[], sha256: string, who: string): void {
  const digest = createHash('sha256').update(Buffer.concat(parts)).digest('hex');
  assert.equal(digest, sha256, `${who}: reassembled image differs from the package`);
}

/** GET with a keep-alive agent; resolves with the body. */
function get(agent: http.Agent, port: number, path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(parts)) : reject(new Error(`${path}: HTTP ${res.statusCode} ${Buffer.concat(parts).toString().slice(0, 200)}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** Every device downloads the image over HTTP; `pathOf(device, n)` names chunk n. */
async function httpRun(port: number, pathOf: (device: number, n: number) => string, sha256: string, label: string): Promise<RunResult> {
  const hist = new Histogram();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: DEVICES }, async (_, d) => {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const parts: Buffer[] = [];
      for (let n = 0; n < CHUNKS; n++) {
        const t = performance.now();
        parts.push(await get(agent, port, pathOf(d, n)));
        hist.recordMs(performance.now() - t);
      }
      agent.destroy();
      checkImage(parts, sha256, `${label} device ${d}`);
    }),
  );
  return summarise((performance.now() - started) / 1000, hist);
}

/** Every device downloads the image over MQTT, one chunk request in flight. */
async function mqttRun(port: number, tokens: readonly string[], sha256: string): Promise<RunResult> {
  const clients = await Promise.all(
    tokens.map(async (token) => {
      const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { username: token, reconnectPeriod: 0, keepalive: 600 });
      (client.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      await client.subscribeAsync('v2/fw/response/+/chunk/+', { qos: 1 });
      return client;
    }),
  );
  const hist = new Histogram();
  const started = performance.now();
  await Promise.all(
    clients.map(async (client, d) => {
      const parts: Buffer[] = [];
      for (let n = 0; n < CHUNKS; n++) {
        const t = performance.now();
        const answer = new Promise<Buffer>((resolve) => {
          const onMessage = (topic: string, payload: Buffer): void => {
            if (topic !== `v2/fw/response/${d}/chunk/${n}`) return;
            client.off('message', onMessage);
            resolve(payload);
          };
          client.on('message', onMessage);
        });
        await client.publishAsync(`v2/fw/request/${d}/chunk/${n}`, String(CHUNK), { qos: 1 });
        parts.push(await answer);
        hist.recordMs(performance.now() - t);
      }
      checkImage(parts, sha256, `mqtt device ${d}`);
    }),
  );
  const result = summarise((performance.now() - started) / 1000, hist);
  await Promise.all(clients.map((c) => c.endAsync()));
  return result;
}

async function upload(api: Api, image: Buffer): Promise<{ id: string; checksum: string }> {
  const res = await fetch(`${api.baseUrl}/api/ota/packages?title=${TITLE}&version=${VERSION}`, { method: 'POST', headers: { authorization: `Bearer ${api.bearer}`, 'content-type': 'application/octet-stream' }, body: new Uint8Array(image) });
  const body = (await res.json()) as { id: string; checksum: string };
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}

async function startStaticServer(dir: string): Promise<{ port: number; stop: () => void }> {
  const port = await freePort();
  // python3 -m http.server, with a listen backlog of 1,024 instead of socketserver's 5 (500 clients connecting at once overflow 5: resets).
  const script = [
    'import functools, http.server, sys',
    'http.server.ThreadingHTTPServer.request_queue_size = 1024',
    'handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[2])',
    "http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), handler).serve_forever()",
  ].join('\n');
  const child = spawn('python3', ['-c', script, String(port), dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      await get(new http.Agent(), port, '/chunk-0');
      return { port, stop: () => child.kill('SIGTERM') };
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  child.kill('SIGKILL');
  throw new Error('python3 -m http.server did not start');
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'continuum-ota-chunks-'));
  const image = randomBytes(IMAGE);
  const sha256 = createHash('sha256').update(image).digest('hex');
  const chunkDir = join(dir, 'static');
  mkdirSync(chunkDir);
  for (let n = 0; n < CHUNKS; n++) writeFileSync(join(chunkDir, `chunk-${n}`), image.subarray(n * CHUNK, (n + 1) * CHUNK));

  const platform = await startPlatform({ dataDir: join(dir, 'data') });
  const reference = await startStaticServer(chunkDir);
  try {
    const tokens = makeTokens(DEVICES, `ota${Date.now().toString(36)}`);
    await platform.api.importDevices('ota-bench', tokens);
    const pkg = await upload(platform.api, image);
    assert.equal(pkg.checksum, sha256);
    const profiles = await platform.api.request<{ items: { id: string; name: string }[] }>('GET', '/api/profiles');
    const profile = profiles.items.find((p) => p.name === 'default') ?? profiles.items[0]!;
    await platform.api.request('POST', `/api/profiles/${profile.id}/firmware`, JSON.stringify({ packageId: pkg.id }));

    const query = (n: number): string => `title=${TITLE}&version=${VERSION}&size=${CHUNK}&chunk=${n}`;
    const results = {
      devices: DEVICES,
      image_bytes: IMAGE,
      chunk_bytes: CHUNK,
      chunks_per_device: CHUNKS,
      // Alternating order so drift in the machine's load falls on both sides.
      reference_1: await httpRun(reference.port, (_d, n) => `/chunk-${n}`, sha256, 'static'),
      http: await httpRun(platform.ports.http, (d, n) => `/api/v1/${tokens[d]}/firmware?${query(n)}`, sha256, 'http'),
      mqtt: await mqttRun(platform.ports.mqtt, tokens, sha256),
      reference_2: await httpRun(reference.port, (_d, n) => `/chunk-${n}`, sha256, 'static'),
    };
    const ref = Math.max(results.reference_1.chunksPerS, results.reference_2.chunksPerS);
    const out = { scenario: 'ota-chunks', ...results, ratio_http: Math.round((results.http.chunksPerS / ref) * 1000) / 1000, ratio_mqtt: Math.round((results.mqtt.chunksPerS / ref) * 1000) / 1000 };
    console.log(JSON.stringify(out, null, 2));
    if (values.json) writeFileSync(values.json, JSON.stringify(out, null, 2));
  } finally {
    reference.stop();
    await platform.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
