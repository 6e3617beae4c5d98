/**
 * The HTTP surfaces over real loopback connections (keep-alive, like a dashboard or a device):
 * the device API (/api/v1/…) and the management REST API, as admin, as operator, anonymously
 * and with a forged token. Every answer must be a protocol-correct refusal or a success: no 5xx,
 * errors in the API's one shape `{error, message}`, and the request done within the case.
 */
import { Agent, request } from 'node:http';
import { ERRORS } from '../../../src/domain/errors.js';
import { httpCase, routesOf, type HttpCase, type Route } from '../gen/rest.js';
import { asyncSurface, check, type Surface } from '../surface.js';
import type { FuzzWorld, Session } from './world.js';

interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

/** Requests that lost their connection once and were answered on a new one (reported by the campaign). */
export const connectionRetries = { count: 0, examples: [] as string[] };

/**
 * One request; retried once on a fresh connection when the connection went away without an
 * answer (a keep-alive connection the server closed just as the agent reused it, Node's
 * documented race; or a close while the body was still being written). If the retry fails
 * too, the failure is the platform's.
 */
async function send(agent: Agent, port: number, c: HttpCase, bearer: string | undefined): Promise<Answer | undefined> {
  try {
    return await sendOnce(agent, port, c, bearer);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { reusedSocket?: boolean };
    if (e.code !== 'ECONNRESET' && e.code !== 'EPIPE') throw err;
    connectionRetries.count++;
    if (connectionRetries.examples.length < 5) connectionRetries.examples.push(`${e.code} reused=${String(e.reusedSocket)} ${c.method} ${c.path.slice(0, 120)}`);
    return sendOnce(false, port, c, bearer);
  }
}

function sendOnce(agent: Agent | false, port: number, c: HttpCase, bearer: string | undefined): Promise<Answer | undefined> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...c.headers };
    if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
    if (c.body !== undefined) headers['content-length'] = String(c.body.length);
    let req;
    try {
      req = request({ host: '127.0.0.1', port, method: c.method, path: c.path, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (d: Buffer) => chunks.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
    } catch {
      // Node refuses to send this request at all (a method or path it cannot write): nothing to test.
      resolve(undefined);
      return;
    }
    const sent = req;
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: sent.reusedSocket })));
    req.end(c.body);
  });
}

function bearerFor(world: FuzzWorld, c: HttpCase): string | undefined {
  switch (c.auth) {
    case 'admin':
      return world.admin.token();
    case 'operator':
      return world.operator.token();
    case 'garbage':
      return 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.';
    case 'none':
      return undefined;
  }
}

const PROMETHEUS_ERROR_TYPES = new Set(['bad_data', 'execution', 'timeout', 'canceled', 'internal', 'unavailable', 'not_found']);

function isPrometheusError(body: unknown): boolean {
  const b = body as { status?: unknown; errorType?: unknown; error?: unknown };
  return b.status === 'error' && typeof b.errorType === 'string' && PROMETHEUS_ERROR_TYPES.has(b.errorType) && typeof b.error === 'string';
}

async function runCase(world: FuzzWorld, agent: Agent, c: HttpCase): Promise<void> {
  const answer = await send(agent, world.ports.http, c, bearerFor(world, c));
  if (answer === undefined) return;
  check(answer.status < 500, () => `${c.method} ${c.path} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  if (answer.status >= 400 && c.method !== 'HEAD' && answer.contentType.startsWith('application/json')) {
    let body: unknown;
    try {
      body = JSON.parse(answer.body);
    } catch {
      check(false, () => `${c.method} ${c.path}: error ${answer.status} with a body that is not JSON: ${answer.body.slice(0, 200)}`);
    }
    const code = (body as { error?: unknown }).error;
    // The Prometheus read API answers in Prometheus' documented error format (what Grafana reads):
    // `error` is the message there, `errorType` the kind.
    if (c.path.startsWith('/api/prom/') && isPrometheusError(body)) return;
    check(typeof code === 'string' && Object.hasOwn(ERRORS, code), () => `${c.method} ${c.path}: error ${answer.status} without a code of the catalogue: ${answer.body.slice(0, 200)}`);
  }
  // The fuzzer may log its own sessions out or change them; start the next case with fresh ones.
  if (answer.status === 401 && (c.auth === 'admin' || c.auth === 'operator')) await renewQuietly(c.auth === 'admin' ? world.admin : world.operator);
}

async function renewQuietly(s: Session): Promise<void> {
  try {
    await s.renew();
  } catch {
    // Locked out by the login rate limit, or the user was changed: later cases run without it.
  }
}

export async function fetchRoutes(world: FuzzWorld): Promise<Route[]> {
  const res = await fetch(`${world.baseUrl}/api/openapi.json`);
  return routesOf((await res.json()) as Parameters<typeof routesOf>[0]);
}

export function httpSurfaces(world: FuzzWorld, routes: readonly Route[], options: { hostile: boolean; timeoutMs: number }): { device: Surface; rest: Surface; agent: Agent } {
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const tokens = [world.tokens.device, world.tokens.gateway];
  // The REST fuzzer may delete or re-key what it names: only the spare devices, never the
  // fuzzed transports' own target and gateway.
  const restIds = world.deviceIds.slice(2);
  const deviceRoutes = routes.filter((r) => r.path.startsWith('/api/v1/'));
  const restRoutes = routes.filter((r) => !r.path.startsWith('/api/v1/'));
  const suffix = options.hostile ? ' (hostile payloads)' : '';
  return {
    agent,
    device: asyncSurface(`HTTP device API${suffix}`, httpCase(deviceRoutes, restIds, tokens, options.hostile), (c) => runCase(world, agent, c), options.timeoutMs),
    rest: asyncSurface(`REST API (admin, operator, anonymous)${suffix}`, httpCase(restRoutes, restIds, tokens, options.hostile), (c) => runCase(world, agent, c), options.timeoutMs),
  };
}
