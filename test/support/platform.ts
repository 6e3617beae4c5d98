/**
 * Test support: a whole platform in this process (ports 0, temp data dir, quiet logs), or one
 * in a child process started the way users start it, for kill/restart tests.
 */
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import mqtt from 'mqtt';
import { loadConfig } from '../../src/apps/config.js';
import { startPlatform, type Platform } from '../../src/apps/platform.js';
import { tempDir } from './tmp.js';
import type { Clock, Logger } from '../../src/ports.js';

export const ADMIN = { email: 'admin@test.local', password: 'test-password-1' };

/** The scraper's token of test platforms (config metrics.token); /metrics refuses anonymous reads. */
export const METRICS_TOKEN = 'e2e-metrics-token-0123456789';

/** GET /metrics as a Prometheus scraper with the token. */
export async function metricsText(baseUrl: string): Promise<string> {
  const res = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  if (res.status !== 200) throw new Error(`GET /metrics: ${res.status}`);
  return res.text();
}

export { tempDir };

export interface TestPlatform {
  readonly platform: Platform;
  readonly dataDir: string;
  readonly ports: Platform['ports'];
  readonly baseUrl: string;
  readonly api: ApiClient;
  stop(): Promise<void>;
}

export interface ApiClient {
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  createDevice(name: string, extra?: Record<string, unknown>): Promise<{ id: string; name: string; accessToken: string }>;
}

export async function apiClient(baseUrl: string, credentials = ADMIN): Promise<ApiClient> {
  const login = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(credentials),
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${await login.text()}`);
  const { token } = (await login.json()) as { token: string };
  const request = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
  return {
    request,
    async createDevice(name, extra = {}) {
      const res = await request<{ id: string; name: string; accessToken: string }>('POST', '/api/devices', { name, ...extra });
      if (res.status !== 201) throw new Error(`create device: ${res.status} ${JSON.stringify(res.body)}`);
      return res.body;
    },
  };
}

export async function startTestPlatform(options: { store?: 'sqlite' | 'memory'; dataDir?: string; config?: Record<string, unknown>; logger?: Logger; clock?: Clock } = {}): Promise<TestPlatform> {
  const dataDir = options.dataDir ?? tempDir();
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir,
      host: '127.0.0.1',
      http: { port: 0 },
      mqtt: { port: 0, tlsPort: 0 },
      coap: { port: 0 },
      store: { kind: options.store ?? 'sqlite', synchronous: 'NORMAL' },
      // A low scrypt cost keeps sign-ins fast in tests; production keeps the default (2^17).
      auth: { adminEmail: ADMIN.email, adminPassword: ADMIN.password, jwtTtlSeconds: 3600, passwordHashCost: 1024 },
      log: { level: process.env.TEST_LOG_LEVEL ?? 'silent' },
      metrics: { token: METRICS_TOKEN, public: false },
      // Extra sections a test needs (e.g. notify.smtp); merged over the ones above.
      ...options.config,
    },
  });
  const platform = await startPlatform(config, { ...(options.logger ? { logger: options.logger } : {}), ...(options.clock ? { clock: options.clock } : {}) });
  const baseUrl = `http://127.0.0.1:${platform.ports.http}`;
  return { platform, dataDir, ports: platform.ports, baseUrl, api: await apiClient(baseUrl), stop: () => platform.stop() };
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly ports: { http: number; mqtt: number; coap: number };
  readonly output: () => string;
}

/**
 * Starts `continuum start` in a child process and waits for ports.json; `env` adds to the child's
 * environment; `readyMs` bounds the wait (a start guard, not a speed check: cluster tests give
 * more, as several nodes migrate and start on a busy machine). The default is generous: a start is ~1 s
 * of CPU, but on two cores shared with other suites a child waited 30 s for its turn (the runner's
 * per-file timeout is the guard against a real hang).
 */
export async function spawnServer(dataDir: string, extraArgs: string[] = [], env: Record<string, string> = {}, readyMs = 120_000): Promise<ServerProcess> {
  const portsFile = join(dataDir, 'ports.json');
  let output = '';
  const child = spawn(
    process.execPath,
    ['bin/continuum.mjs', 'start', '--data-dir', dataDir, '--host', '127.0.0.1', '--http-port', '0', '--mqtt-port', '0', '--coap-port', '0', '--log-level', process.env.E2E_LOG_LEVEL ?? 'warn', ...extraArgs],
    { env: { ...process.env, CONTINUUM_ADMIN_EMAIL: ADMIN.email, CONTINUUM_ADMIN_PASSWORD: ADMIN.password, CONTINUUM_AUTH_PASSWORD_HASH_COST: '1024', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const deadline = Date.now() + readyMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited ${child.exitCode}: ${output}`);
    if (existsSync(portsFile)) {
      const ports = JSON.parse(readFileSync(portsFile, 'utf8')) as ServerProcess['ports'];
      return { child, ports, output: () => output };
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`server did not write ports.json in ${readyMs / 1000} s: ${output}`);
}

export function waitForExit(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

/** Polls until `check` returns a value that is not undefined, or fails after `ms`. */
export async function eventually<T>(check: () => Promise<T | undefined>, ms = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Connects a real MQTT.js client and waits for CONNACK. */
export async function connectMqtt(port: number, options: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, ...options });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  return client;
}
