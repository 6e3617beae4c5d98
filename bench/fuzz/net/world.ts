/**
 * The platform the network surfaces are fuzzed against: a real one in this process (SQLite,
 * every listener on 127.0.0.1 with ports chosen by the OS), with the devices and users the
 * fuzzer talks as: a target device and a gateway whose tokens it uses, an operator, and the
 * honest device that must lose nothing (honest.ts).
 */
import { apiClient, startTestPlatform, type ApiClient, type TestPlatform } from '../../../test/support/platform.js';

export interface FuzzWorld {
  readonly tp: TestPlatform;
  readonly ports: { http: number; mqtt: number; coap: number };
  readonly baseUrl: string;
  /** Tokens the fuzzer may use as device credentials (a device and a gateway). */
  readonly tokens: { device: string; gateway: string };
  /** Device ids the REST fuzzer may put in paths (never the honest device's). */
  readonly deviceIds: string[];
  readonly admin: Session;
  readonly operator: Session;
  stop(): Promise<void>;
}

/** A bearer token that is renewed when the fuzzer logged it out or changed its user. */
export interface Session {
  readonly email: string;
  token(): string;
  renew(): Promise<void>;
}

const OPERATOR = { email: 'operator@fuzz.local', password: 'fuzz-operator-password-1', role: 'user' };

async function login(baseUrl: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

function session(baseUrl: string, email: string, password: string, first: string): Session {
  let current = first;
  return {
    email,
    token: () => current,
    renew: async () => {
      current = await login(baseUrl, email, password);
    },
  };
}

export async function startWorld(options: { dataDir?: string } = {}): Promise<FuzzWorld> {
  // The fuzzer and the honest device share 127.0.0.1: with the production per-address lockout the
  // fuzzer's wrong credentials would lock the honest device out too (documented behaviour, tested
  // in test/e2e/device-auth-lockout.test.ts). Here the lockouts are out of the way: what is
  // measured is crashes, hangs and lost acknowledgements.
  const config = {
    deviceAuth: { maxFailuresPerAddress: 1_000_000_000, maxFailuresPerCredential: 1_000_000_000, windowSeconds: 60, lockoutSeconds: 1, maxLockoutSeconds: 1 },
  };
  const tp = await startTestPlatform({ ...(options.dataDir ? { dataDir: options.dataDir } : {}), config });
  try {
    const api: ApiClient = tp.api;
    const device = await api.createDevice('fuzz-target');
    const gateway = await api.createDevice('fuzz-gateway', { gateway: true });
    const spare = await Promise.all([1, 2, 3].map((i) => api.createDevice(`fuzz-spare-${i}`)));
    const created = await api.request('POST', '/api/users', OPERATOR);
    if (created.status !== 201) throw new Error(`create operator: ${created.status} ${JSON.stringify(created.body)}`);
    const { ADMIN } = await import('../../../test/support/platform.js');
    const admin = session(tp.baseUrl, ADMIN.email, ADMIN.password, await login(tp.baseUrl, ADMIN.email, ADMIN.password));
    const operator = session(tp.baseUrl, OPERATOR.email, OPERATOR.password, await login(tp.baseUrl, OPERATOR.email, OPERATOR.password));
    return {
      tp,
      ports: tp.ports,
      baseUrl: tp.baseUrl,
      tokens: { device: device.accessToken, gateway: gateway.accessToken },
      deviceIds: [device.id, gateway.id, ...spare.map((s) => s.id)],
      admin,
      operator,
      stop: () => tp.stop(),
    };
  } catch (err) {
    await tp.stop();
    throw err;
  }
}

export { apiClient };
