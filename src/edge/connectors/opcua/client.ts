/**
 * Loading node-opcua and opening a client with the connector's security settings. The library
 * is loaded on first use (it takes seconds and a few MB), so an edge without OPC UA never pays
 * for it; its own console output (warnings, errors) goes to our logger instead of stdout, where
 * it would mix with `continuum edge scan` output.
 */
import type { ClientSession, OPCUAClient, UserIdentityInfo } from 'node-opcua';
import type { EdgeLogger } from '../../ports.js';
import { securityPolicyOf, type OpcuaConfig } from './schema.js';

export type OpcuaModule = typeof import('node-opcua');

let loaded: Promise<OpcuaModule> | undefined;
let logTo: EdgeLogger | undefined;

const text = (args: unknown[]): string =>
  args
    .map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.message : String(a)))
    .join(' ')
    // node-opcua colours its lines for a terminal.
    .replace(/\u001b\[[0-9;]*m/g, '')
    .slice(0, 2000);

/** node-opcua, once per process; its log lines go to the last logger that asked. */
export async function loadOpcua(logger: EdgeLogger): Promise<OpcuaModule> {
  logTo = logger;
  loaded ??= (async () => {
    const mod = await import('node-opcua');
    // node-opcua-debug is node-opcua's own logging module (same release); it prints with console.log otherwise.
    const debug = await import('node-opcua-debug');
    debug.setWarningLogger((_ctx: unknown, ...args: unknown[]) => logTo?.debug({ opcua: text(args) }, 'node-opcua warning'));
    debug.setErrorLogger((_ctx: unknown, ...args: unknown[]) => logTo?.warn({ opcua: text(args) }, 'node-opcua error'));
    return mod;
  })();
  return loaded;
}

export type ClientSettings = Pick<OpcuaConfig, 'securityMode' | 'securityPolicy' | 'pkiDir' | 'acceptUnknownCertificate' | 'reconnectMs' | 'reconnectMaxMs' | 'requestTimeoutMs'> & { readonly maxMessageBytes?: number };

/** A client that retries forever with node-opcua's backoff (reconnectMs doubling up to reconnectMaxMs). */
export function createClient(opcua: OpcuaModule, c: ClientSettings, retries = -1): OPCUAClient {
  const certificateManager = new opcua.OPCUACertificateManager({
    ...(c.pkiDir !== undefined ? { rootFolder: c.pkiDir } : {}),
    automaticallyAcceptUnknownCertificate: c.acceptUnknownCertificate,
  });
  return opcua.OPCUAClient.create({
    applicationName: 'continuum-edge',
    clientName: 'continuum-edge',
    endpointMustExist: false,
    securityMode: opcua.MessageSecurityMode[c.securityMode],
    securityPolicy: opcua.SecurityPolicy[securityPolicyOf(c)],
    connectionStrategy: { initialDelay: c.reconnectMs, maxDelay: c.reconnectMaxMs, maxRetry: retries },
    // Reads the server state while no subscription is busy, so a dead link is noticed (and repaired) without data flowing.
    keepSessionAlive: true,
    requestedSessionTimeout: 60_000,
    defaultTransactionTimeout: c.requestTimeoutMs,
    clientCertificateManager: certificateManager,
    // A server (or something pretending to be one) cannot make us buffer an unbounded message.
    transportSettings: { maxMessageSize: c.maxMessageBytes ?? 16 * 1024 * 1024 },
  });
}

export function userIdentity(opcua: OpcuaModule, c: Pick<OpcuaConfig, 'username' | 'password'>): UserIdentityInfo {
  if (c.username === undefined) return { type: opcua.UserTokenType.Anonymous };
  return { type: opcua.UserTokenType.UserName, userName: c.username, password: c.password ?? '' };
}

/** A readable reason from whatever node-opcua threw (status names like BadUserAccessDenied when it has one). */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0]?.slice(0, 300) ?? 'error';
  return String(err).slice(0, 300);
}

/** Closes session and client, waiting at most `ms` (a dead server must not hold up a stop). */
export async function closeQuietly(client: OPCUAClient | undefined, session: ClientSession | undefined, ms = 2000): Promise<void> {
  const work = (async () => {
    try {
      await session?.close(true);
    } catch {
      /* already gone */
    }
    try {
      await client?.disconnect();
    } catch {
      /* already gone */
    }
  })();
  await Promise.race([work, new Promise((r) => setTimeout(r, ms).unref())]);
}
