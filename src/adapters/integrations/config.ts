/** Shared by the integration connectors: checking a config against its TypeBox schema. */
import type { TSchema, Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { PlatformError } from '../../domain/errors.js';
import { normalHostname } from '../../domain/outbound/allow-list.js';
import type { PinnedHosts } from '../../ports.js';

/** The config with defaults applied, or BAD_REQUEST naming the first field that does not fit. */
export function checkConfig<T extends TSchema>(schema: T, config: unknown, what: string): Static<T> {
  const value = Value.Default(schema, structuredClone(config ?? {}));
  if (Value.Check(schema, value)) return value;
  const first = Value.Errors(schema, value).First();
  throw new PlatformError('BAD_REQUEST', `${what} config: ${first ? `${first.path || '/'} ${first.message}` : 'invalid'}`);
}

/** Bounded time for a remote to acknowledge, so a send never hangs the drain loop. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new PlatformError('UNAVAILABLE', `${what}: no acknowledgement in ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The URL with its host name replaced by the address the outbound policy allowed, and the name
 * to present in TLS (SNI and the certificate check) when the URL named a host. A URL whose host
 * was not pinned is refused: connecting to it would skip the policy.
 */
export function pinnedUrl(text: string, pinned: PinnedHosts): { url: string; servername?: string } {
  const url = new URL(text);
  const host = normalHostname(url.hostname);
  const address = pinned.get(host);
  if (address === undefined) throw new PlatformError('OUTBOUND_REFUSED', `${url.protocol}//${url.host} was not checked by the outbound policy`);
  url.hostname = address.includes(':') ? `[${address}]` : address;
  return { url: url.toString(), ...(address === host ? {} : { servername: host }) };
}
