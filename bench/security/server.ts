/**
 * The platform of one checkout, started as a user starts it (`node bin/continuum.mjs start` in a
 * child process, cwd = the checkout), and a small REST client that never throws on a status: the
 * reproductions need to see 401/403/404/429 as answers, not as failures.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnTracked, type Spawned } from '../lib/proc.js';

export const ADMIN = { email: 'admin@repro.local', password: 'repro-admin-password-1' };
export const OPERATOR = { email: 'operator@repro.local', password: 'operator-password-1' };

export interface Ports {
  readonly http: number;
  readonly mqtt: number;
  readonly coap: number;
}

export interface Server {
  readonly proc: Spawned;
  readonly ports: Ports;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The environment both versions read: the admin's credentials, and no metrics token. */
function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CONTINUUM_ADMIN_EMAIL: ADMIN.email, CONTINUUM_ADMIN_PASSWORD: ADMIN.password };
  delete env.CONTINUUM_METRICS_TOKEN;
  return env;
}

export function spawnServer(checkout: string, dataDir: string, name = 'platform'): Spawned {
  const args = [join(checkout, 'bin/continuum.mjs'), 'start', '--data-dir', dataDir, '--host', '127.0.0.1'];
  args.push('--http-port', '0', '--mqtt-port', '0', '--coap-port', '0');
  return spawnTracked(name, process.execPath, args, { cwd: checkout, env: serverEnv() });
}

/** Waits (bounded) for ports.json; null if the process exited or the time ran out first. */
export async function waitForPorts(proc: Spawned, dataDir: string, timeoutMs: number, differentFrom?: string): Promise<Ports | null> {
  const file = join(dataDir, 'ports.json');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      if (text.trim() !== '' && text !== differentFrom) {
        try {
          return JSON.parse(text) as Ports;
        } catch {
          // written while we read it: try again
        }
      }
    }
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) return null;
    await sleep(50);
  }
  return null;
}

export async function startServer(checkout: string, dataDir: string): Promise<Server> {
  const proc = spawnServer(checkout, dataDir);
  const ports = await waitForPorts(proc, dataDir, 60_000);
  if (!ports) {
    await proc.stop(2000);
    throw new Error(`the platform did not write ports.json: ${proc.output().slice(-2000)}`);
  }
  return { proc, ports };
}

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  /** The body parsed as JSON, or undefined. */
  readonly body: unknown;
}

/** One REST call with an optional bearer token; 10 s bound; a network error is status 0. */
export async function call(baseUrl: string, method: string, path: string, token?: string, json?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  try {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers, text, body };
  } catch (err) {
    return { status: 0, headers: new Headers(), text: (err as Error).message, body: undefined };
  }
}

/** A field of a JSON answer, as a string ('' when absent). */
export function field(answer: Answer, name: string): string {
  const value = (answer.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

export async function login(baseUrl: string, email: string, password: string): Promise<string> {
  const answer = await call(baseUrl, 'POST', '/api/auth/login', undefined, { email, password });
  if (answer.status !== 200) throw new Error(`login ${email}: ${answer.status} ${answer.text.slice(0, 200)}`);
  return field(answer, 'token');
}

/** Creates a device as admin; the token is the one shown at creation (both versions show it). */
export async function createDevice(baseUrl: string, adminToken: string, name: string, gateway = false): Promise<{ id: string; token: string }> {
  const answer = await call(baseUrl, 'POST', '/api/devices', adminToken, gateway ? { name, gateway: true } : { name });
  if (answer.status !== 201) throw new Error(`create device ${name}: ${answer.status} ${answer.text.slice(0, 200)}`);
  return { id: field(answer, 'id'), token: field(answer, 'accessToken') };
}
