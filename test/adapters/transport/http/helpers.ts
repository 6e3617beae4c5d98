/**
 * HTTP device API test plumbing: the plugin on a Fastify instance under /api/v1 (as the
 * platform registers it), listening on 127.0.0.1 with a free port, driven by curl.
 */
import { execFile, spawn } from 'node:child_process';
import Fastify, { type FastifyInstance } from 'fastify';
import { createHttpDeviceRoutes } from '../../../../src/adapters/transport/http/index.js';
import { DEFAULTS } from '../../../../src/apps/config.js';
import { FakeDeviceApi, countingMetrics, recordingLogger, type CountingMetrics } from './fake-device-api.js';

export interface HttpHarness {
  readonly api: FakeDeviceApi;
  readonly metrics: CountingMetrics;
  readonly logger: ReturnType<typeof recordingLogger>;
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:PORT/api/v1/` + path */
  url(path: string): string;
  stop(): Promise<void>;
}

export async function startHttp(options: { maxPayloadBytes?: number } = {}): Promise<HttpHarness> {
  const config = structuredClone(DEFAULTS);
  config.limits.maxPayloadBytes = options.maxPayloadBytes ?? 4096;
  config.rpc.defaultTimeoutMs = 5000;
  const api = new FakeDeviceApi();
  api.commitDelayMs = 5;
  const metrics = countingMetrics();
  const logger = recordingLogger();
  // The platform's instance accepts much larger bodies; the plugin must apply its own limit.
  const app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
  await app.register(createHttpDeviceRoutes({ config, deviceApi: api, metrics, logger }), { prefix: '/api/v1' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { api, metrics, logger, app, url: (path) => `http://127.0.0.1:${port}/api/v1/${path}`, stop: () => app.close() };
}

export interface CurlResult {
  readonly status: number;
  readonly body: string;
  readonly ms: number;
}

const MARK = '\n@@status:';

/** One curl request; the status is appended to the body by --write-out. */
export function curl(args: readonly string[], timeoutMs = 10_000): Promise<CurlResult> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    execFile('curl', ['-s', '-S', '-w', `${MARK}%{http_code}`, ...args], { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      const at = stdout.lastIndexOf(MARK);
      if (at < 0) return reject(new Error(`curl failed: ${err?.message ?? ''} ${stderr}`));
      resolve({ status: Number(stdout.slice(at + MARK.length)), body: stdout.slice(0, at), ms: Date.now() - started });
    });
  });
}

export function json(result: CurlResult): unknown {
  return JSON.parse(result.body) as unknown;
}

/** Runs curl with several URLs on one command line (one connection, kept alive). */
export function curlMany(args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('curl', ['-s', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out)); // after stdout is drained, unlike 'exit'
  });
}
