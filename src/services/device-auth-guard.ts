/**
 * Brute-force brakes on device authentication and provisioning, for every transport at once:
 * transports only say who is asking (DeviceClient); the registry asks this guard before it
 * checks a credential that is not in its identity cache, and tells it the outcome.
 *
 * Two counts, both of FAILURES only (an honest device never adds to either, however many
 * connect from one address — benches and the simulator open 10,000 from 127.0.0.1):
 * - per client address: one source trying many credentials (spraying);
 * - per credential key (a token's hash, a basic credential's client id + user name, a provision
 *   key): many sources guessing one device's password or one profile's provision secret.
 * A locked key answers RATE_LIMITED with the seconds to wait (HTTP 429 + Retry-After, CoAP 4.29
 * + Max-Age, MQTT 5 CONNACK 0x9F / 3.1.1 return code 3). Each lockout is logged once (warn) and
 * counted once (metrics.reject(transport, 'RATE_LIMITED'), beside the refusals answered RATE_LIMITED).
 */
import type { Clock, Logger } from '../ports.js';
import type { DeviceClient, TransportMetrics } from '../ports/device-api.js';
import { FailureThrottle, type ThrottleOptions } from './throttle.js';

export type { DeviceClient } from '../ports/device-api.js';

export interface DeviceAuthLimits {
  /** Failures from one address within windowMs that lock the address out. */
  readonly maxFailuresPerAddress: number;
  /** Failures on one credential (from anywhere) within windowMs that lock it out. */
  readonly maxFailuresPerCredential: number;
  readonly windowMs: number;
  /** First lockout; each further one doubles up to maxLockoutMs. */
  readonly lockoutMs: number;
  readonly maxLockoutMs: number;
  /** Addresses and credentials remembered at most (each); bounds memory under attack. */
  readonly maxKeys: number;
}

export const DEFAULT_DEVICE_AUTH_LIMITS: DeviceAuthLimits = {
  maxFailuresPerAddress: 30,
  maxFailuresPerCredential: 10,
  windowMs: 60_000,
  lockoutMs: 60_000,
  maxLockoutMs: 15 * 60_000,
  maxKeys: 100_000,
};

/** What a failure is about, for the lockout log line (never the secret: a hint of it at most). */
export interface AttemptLabel {
  readonly what: 'device authentication' | 'provisioning';
  /** E.g. the first characters of a token, a user name, a provision key. */
  readonly credential: string;
}

const NO_ADDRESS = '(in-process)';

export class DeviceAuthGuard {
  private readonly addresses: FailureThrottle;
  private readonly credentials: FailureThrottle;

  constructor(
    limits: DeviceAuthLimits,
    clock: Clock,
    private readonly logger: Logger,
    private readonly metrics?: TransportMetrics,
  ) {
    const common = { windowMs: limits.windowMs, lockoutMs: limits.lockoutMs, maxLockoutMs: limits.maxLockoutMs, maxKeys: limits.maxKeys };
    this.addresses = new FailureThrottle({ ...common, maxFailures: limits.maxFailuresPerAddress } satisfies ThrottleOptions, clock);
    this.credentials = new FailureThrottle({ ...common, maxFailures: limits.maxFailuresPerCredential } satisfies ThrottleOptions, clock);
  }

  /** Throws RATE_LIMITED while the client's address or the credential is locked out. */
  check(client: DeviceClient | undefined, credentialKey: string, what: AttemptLabel['what']): void {
    const plural = what === 'provisioning' ? 'provisioning attempts' : 'device authentications';
    if (client?.address !== undefined) this.addresses.check([client.address], plural);
    this.credentials.check([credentialKey], plural);
  }

  failed(client: DeviceClient | undefined, credentialKey: string, label: AttemptLabel): void {
    const byAddress = client?.address !== undefined && this.addresses.failure([client.address]);
    const byCredential = this.credentials.failure([credentialKey]);
    if (!byAddress && !byCredential) return;
    const transport = client?.transport ?? 'unknown';
    this.metrics?.reject(transport, 'RATE_LIMITED');
    this.logger.warn(
      {
        transport,
        address: client?.address ?? NO_ADDRESS,
        credential: label.credential,
        lockedOut: byAddress && byCredential ? 'address and credential' : byAddress ? 'address' : 'credential',
        retryAfterSeconds: Math.ceil(
          Math.max(this.addresses.lockedFor(client?.address !== undefined ? [client.address] : []), this.credentials.lockedFor([credentialKey])) / 1000,
        ),
      },
      `too many failed ${label.what} attempts: locked out`,
    );
  }

  /** A verified credential forgets its failures; its address keeps them (it may try others). */
  succeeded(credentialKey: string): void {
    this.credentials.success(credentialKey);
  }

  /** Keys held (addresses + credentials): bounded by 2 × maxKeys. */
  get size(): number {
    return this.addresses.size + this.credentials.size;
  }
}
