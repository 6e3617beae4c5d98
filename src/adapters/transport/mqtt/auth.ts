/**
 * Who may connect, and what a connected client may publish or subscribe to.
 *
 * The broker asks an AuthPolicy twice: `authenticate` once per CONNECT (async, may reject with a
 * PlatformError whose `spec.mqtt` becomes the CONNACK reason), and `authorize` for every routed
 * PUBLISH and every SUBSCRIBE filter (sync, cheap). Device API topics are intercepted by the bridge
 * before `authorize` is asked, so the ACL only governs client-to-client traffic.
 */
import type { DeviceIdentity } from '../../../domain/device.js';
import { PlatformError, isPlatformError } from '../../../domain/errors.js';
import type { GrantedFilters } from '../../../domain/mqtt-grants.js';
import type { DeviceApi, DeviceClient } from '../../../ports/device-api.js';
import type { ClientCertificate } from './client-cert.js';
import { grantsAllow } from './grants-acl.js';
import { filterWithin } from './topics.js';

export type Action = 'publish' | 'subscribe';

export interface Principal {
  /**
   * The topic space the client lives in: it only ever sees messages published in the same space.
   * Devices get their tenant's id, so tenants are isolated; the conformance profile uses ''.
   */
  readonly space: string;
  readonly kind: 'anonymous' | 'device' | 'provision' | 'application';
  readonly identity?: DeviceIdentity;
  /**
   * A device's grants beyond its own namespace, compiled at CONNECT. A holder, so a change of the
   * tenant's grants swaps the filters of a live connection in place (MqttBroker.reauthorize).
   */
  readonly acl?: { granted: GrantedFilters };
  /** An application connected with an API key: its owner, and whether its role may operate devices. */
  readonly app?: AppIdentity;
}

/** What an API key proves about the application that holds it. */
export interface AppIdentity {
  readonly tenantId: string;
  readonly userId: string;
  /** Operators and admins publish into device namespaces; viewers only subscribe. */
  readonly mayPublish: boolean;
}

/** User name an application gives with its API key (`ck_…`) as the password. */
export const APIKEY_USERNAME = 'apikey';

/** Where applications may read (and, when allowed, write): every device namespace of their tenant. */
const DEVICES_PREFIX = 'devices/';

/** A connection's principal until it is authenticated; one shared object. */
export const ANONYMOUS: Principal = Object.freeze({ space: '', kind: 'anonymous' });

/** What authentication sees of a CONNECT. */
export interface ConnectInfo {
  readonly clientId: string;
  readonly username?: string;
  readonly password?: Buffer;
  readonly protocolVersion: number;
  readonly remoteAddress?: string;
  /** The TLS client certificate, when the client presented one. */
  readonly certificate?: ClientCertificate;
}

export interface AuthPolicy {
  /** Resolves with the principal, or rejects (PlatformError → CONNACK reason from its spec). */
  authenticate(connect: ConnectInfo): Promise<Principal>;
  /** `topic` is a topic name for 'publish' and a topic filter (without `$share/g/`) for 'subscribe'. */
  authorize(principal: Principal, action: Action, topic: string): boolean;
  /** SUBACK code for a refused filter on MQTT 5 (3.1.1 always uses 0x80). */
  readonly refusedSubscribeCode: number;
  /** Recompiles what a connected principal may do (its grants changed); absent: nothing to recompile. */
  refresh?(principal: Principal): Promise<void>;
}

/** Topic of the subscription the conformance suites expect to be refused [Paho client_test]. */
export const NOSUBSCRIBE_TOPIC = 'test/nosubscribe';

/**
 * The `conformance` profile: anonymous clients, one open topic space, one refused filter. Only for
 * running the Eclipse Paho interoperability suite; never the default (see docs/MQTT.md).
 */
export function conformancePolicy(): AuthPolicy {
  const principal: Principal = { space: '', kind: 'anonymous' };
  return {
    authenticate: () => Promise.resolve(principal),
    authorize: (_p, action, topic) => !(action === 'subscribe' && topic === NOSUBSCRIBE_TOPIC),
    // The suite asserts 0x80 for MQTT 5 too, so this profile answers with the generic failure code.
    refusedSubscribeCode: 0x80,
  };
}

/** ThingsBoard's self-provisioning clients connect with this user name and no credentials. */
export const PROVISION_USERNAME = 'provision';

/**
 * A device's own namespace: `devices/<name>/`. Characters that would let a name reach into another
 * device's namespace or act as wildcards (`/ + # %` and NUL) are percent-encoded.
 */
export function deviceNamespace(deviceName: string): string {
  const safe = deviceName.replace(/[%/+#\u0000]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
  return `devices/${safe}/`;
}

/** Default ACL: a device may publish and subscribe inside its own namespace only. */
export function ownNamespaceOnly(principal: Principal, _action: Action, topic: string): boolean {
  if (principal.kind !== 'device' || !principal.identity) return false;
  return filterWithin(topic, deviceNamespace(principal.identity.name));
}

/** The platform's ACL: a device's own namespace, plus what its grants allow. */
export function ownNamespaceOrGranted(principal: Principal, action: Action, topic: string): boolean {
  if (ownNamespaceOnly(principal, action, topic)) return true;
  return principal.acl !== undefined && grantsAllow(principal.acl.granted, action, topic);
}

/** An application: its tenant's device namespaces, subscribe always, publish when its role operates. */
function applicationMay(app: AppIdentity, action: Action, topic: string): boolean {
  if (action === 'publish' && !app.mayPublish) return false;
  return filterWithin(topic, DEVICES_PREFIX) && topic !== DEVICES_PREFIX.slice(0, -1);
}

export interface PlatformPolicyOptions {
  readonly deviceApi?: DeviceApi;
  /** Replaces the default ACL for devices (own namespace + grants); tests and special profiles. */
  readonly authorize?: (principal: Principal, action: Action, topic: string) => boolean;
  /** A device's grants, compiled once per CONNECT (and again when its tenant's grants change). */
  readonly grants?: (identity: DeviceIdentity) => Promise<GrantedFilters>;
  /** Checks an application's API key (user name `apikey`, the key as password); rejects with UNAUTHORIZED. */
  readonly authenticateApp?: (key: string) => Promise<AppIdentity>;
  /** A certificate that chains to the device CA may name its device (CN or SAN) without a registered fingerprint. */
  readonly authByCa?: boolean;
}

function isCredentialFailure(err: unknown): boolean {
  return (
    isPlatformError(err) &&
    ['UNAUTHORIZED', 'BAD_CREDENTIALS', 'NOT_FOUND', 'DEVICE_NOT_FOUND', 'FORBIDDEN'].includes(err.code)
  );
}

function devicePrincipal(identity: DeviceIdentity): Principal {
  return { space: identity.tenantId, kind: 'device', identity };
}

async function withGrants(principal: Principal, grants: PlatformPolicyOptions['grants']): Promise<Principal> {
  if (!grants || !principal.identity) return principal;
  return { ...principal, acl: { granted: await grants(principal.identity) } };
}

/**
 * X.509: a certificate that failed verification refuses the connection whatever else the CONNECT
 * carries. A certificate registered for a device identifies it (possession of its key was proven
 * by the handshake); with `authByCa`, one that chains to the device CA identifies the device its
 * CN or a SAN names (ThingsBoard's "X.509 certificate chain"). Undefined: not identified by it.
 */
async function authenticateByCertificate(api: DeviceApi, cert: ClientCertificate, authByCa: boolean, client: DeviceClient): Promise<DeviceIdentity | undefined> {
  if (cert.refused) throw new PlatformError('CERTIFICATE_REFUSED', cert.refused);
  try {
    return await api.authenticateCertificate(cert.fingerprint, client);
  } catch (err) {
    if (!isCredentialFailure(err) || !authByCa || !cert.chainVerified) throw err;
  }
  return api.authenticateCertificateSubject(cert.names);
}

/**
 * ThingsBoard's rules: a known TLS client certificate (X.509 credentials) first; then user name =
 * access token when there is no password; otherwise MQTT basic
 * credentials (client id / user name / password). A token that fails stays "not authorized" even
 * when the basic fallback also fails, so an unknown or revoked token always answers 5 / 0x87.
 */
async function authenticateDevice(api: DeviceApi, c: ConnectInfo, authByCa: boolean): Promise<Principal> {
  const client: DeviceClient = { transport: 'mqtt', ...(c.remoteAddress !== undefined ? { address: c.remoteAddress } : {}) };
  // Other credentials are only tried when a (valid) certificate identifies no device.
  if (c.certificate) {
    try {
      const identity = await authenticateByCertificate(api, c.certificate, authByCa, client);
      if (identity) return devicePrincipal(identity);
    } catch (err) {
      if (isPlatformError(err, 'CERTIFICATE_REFUSED') || !isCredentialFailure(err) || (!c.username && !c.password?.length)) throw err;
    }
  }
  const password = c.password && c.password.length > 0 ? c.password.toString('utf8') : undefined;
  const clientId = c.clientId || undefined;
  if (password !== undefined) {
    return devicePrincipal(await api.authenticateBasic({ clientId, username: c.username, password }, client));
  }
  if (c.username) {
    try {
      return devicePrincipal(await api.authenticateToken(c.username, client));
    } catch (tokenErr) {
      if (!isCredentialFailure(tokenErr)) throw tokenErr;
      try {
        return devicePrincipal(await api.authenticateBasic({ clientId, username: c.username }, client));
      } catch {
        throw tokenErr;
      }
    }
  }
  // No user name: only basic credentials made of a client id can match [ThingsBoard: 4 = empty user name].
  if (clientId) {
    try {
      return devicePrincipal(await api.authenticateBasic({ clientId }, client));
    } catch (err) {
      if (!isCredentialFailure(err)) throw err;
    }
  }
  throw new PlatformError('BAD_CREDENTIALS', 'no user name');
}

/** An API key as password under the user name `apikey`: an application principal in its owner's tenant. */
function isAppConnect(c: ConnectInfo): boolean {
  return c.username === APIKEY_USERNAME && c.password !== undefined && c.password.subarray(0, 3).toString('latin1') === 'ck_';
}

/** The platform's default profile. */
export function platformPolicy(options: PlatformPolicyOptions): AuthPolicy {
  const authorizeDevice = options.authorize ?? ownNamespaceOrGranted;
  const provisionPrincipal: Principal = { space: '\u0000provision', kind: 'provision' };
  return {
    authenticate: async (c) => {
      const api = options.deviceApi;
      if (!api) throw new PlatformError('UNAVAILABLE', 'device API not configured');
      if (c.username === PROVISION_USERNAME) return provisionPrincipal;
      if (options.authenticateApp && isAppConnect(c)) {
        const app = await options.authenticateApp((c.password as Buffer).toString('utf8'));
        return { space: app.tenantId, kind: 'application', app };
      }
      return withGrants(await authenticateDevice(api, c, options.authByCa === true), options.grants);
    },
    authorize: (principal, action, topic) => {
      if (principal.kind === 'device') return authorizeDevice(principal, action, topic);
      return principal.kind === 'application' && principal.app !== undefined && applicationMay(principal.app, action, topic);
    },
    refresh: async (principal) => {
      if (principal.kind !== 'device' || !principal.identity || !principal.acl || !options.grants) return;
      principal.acl.granted = await options.grants(principal.identity);
    },
    refusedSubscribeCode: 0x87,
  };
}

/**
 * MQTT 3.1.1 CONNACK return code (§3.2.2.3) for an MQTT 5 reason code (§3.2.2.2): the v5 codes
 * refine the six 3.1.1 ones, so each maps back to its nearest ancestor.
 */
export function connackReturnCode(reasonCode: number): number {
  switch (reasonCode) {
    case 0x00:
      return 0;
    case 0x84:
      return 1; // unacceptable protocol version
    case 0x85:
      return 2; // identifier rejected
    case 0x83:
    case 0x88:
    case 0x89:
    case 0x97:
    // Connection rate exceeded (our brute-force lockout): 3.1.1 has no "try later" code but this
    // one, and 5 (not authorized) would tell an honest device its credentials are wrong.
    case 0x9f:
      return 3; // server unavailable
    case 0x86:
    case 0x8c:
      return 4; // bad user name or password
    default:
      return 5; // not authorized
  }
}

/** CONNACK reason for a failed authentication: the error's catalogue entry, never a bare string. */
export function authFailureCode(err: unknown): number {
  if (isPlatformError(err)) {
    const code = err.spec.mqtt;
    // Generic "not found"/"bad request" (0x80) says nothing useful to a device at CONNECT time.
    return code === 0x80 ? 0x87 : code;
  }
  return new PlatformError('INTERNAL').spec.mqtt;
}
