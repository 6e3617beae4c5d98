/**
 * Names on the NATS server: subjects, streams and consumers of one bus prefix.
 *
 * A bus subject `<event>.<tenant>.<device>` is published as `<prefix>.<event>.<p>.<tenant>.<device>`
 * where `p` (0 … partitions-1) is computed at publish time from the device token (FNV-1a, the
 * memory bus's hash). nats-server 2.9 has no subject transforms on streams, so the partition has
 * to be in the subject the publisher writes; every node must therefore use the same partition
 * count (changing it re-partitions new messages only: drain the groups first). Each event has its
 * own stream `<prefix>_<event>` over `<prefix>.<event>.>` (retention and limits per event).
 */
import { BusSchemaError } from '../../../domain/bus-events.js';
import type { BusEvents } from '../../../ports.js';
import { deviceToken, hashKey } from '../partition.js';

/** A prefix or group name: one NATS subject token and a valid part of a stream or consumer name. */
export const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

export function checkName(what: string, name: string): void {
  if (!NAME_PATTERN.test(name)) throw new RangeError(`bus ${what} '${name}' must match ${NAME_PATTERN.source}`);
}

export function streamName(prefix: string, event: keyof BusEvents): string {
  return `${prefix}_${event}`;
}

/** The durable consumer of one partition of a work-queue group. */
export function consumerName(group: string, partition: number | 'all'): string {
  return partition === 'all' ? `${group}_all` : `${group}_p${partition}`;
}

/** The partition of a bus subject (its device token). */
export function partitionOf(subject: string, partitions: number): number {
  return hashKey(deviceToken(subject)) % partitions;
}

const VALID_TOKEN = /^[^\s.*>]+$/;

/**
 * The wire subject of a publish. The bus subject must be `<event>.<rest>` (NATS tokens: no empty
 * token, no wildcard, no whitespace): it is refused otherwise, as the server would refuse it.
 */
export function wireSubject(prefix: string, event: keyof BusEvents, subject: string, partitions: number): string {
  const dot = subject.indexOf('.');
  if (dot === -1 || subject.slice(0, dot) !== event) throw new BusSchemaError(`bus subject '${subject}' must start with '${event}.'`);
  const rest = subject.slice(dot + 1);
  for (const token of rest.split('.')) if (!VALID_TOKEN.test(token)) throw new BusSchemaError(`bus subject '${subject}' has an empty or invalid token`);
  return `${prefix}.${event}.${partitionOf(subject, partitions)}.${rest}`;
}

/**
 * The filter of a subscription's pattern (`*` one token, `>` the rest) for one partition, or
 * `*` for all. The pattern's first token is the event (or a wildcard standing for it): a
 * subscription to one event never sees another's messages.
 */
export function wireFilter(prefix: string, event: keyof BusEvents, pattern: string, partition: number | '*'): string {
  const tokens = pattern.split('.');
  const first = tokens[0];
  let rest: string;
  if (first === '>') rest = '>';
  else if (first === event || first === '*') rest = tokens.slice(1).join('.');
  else throw new RangeError(`bus pattern '${pattern}' does not consume ${event} (its first token must be '${event}', '*' or '>')`);
  if (rest === '') throw new RangeError(`bus pattern '${pattern}' matches no subject: subjects are <event>.<tenant>.<device>`);
  for (const token of rest.split('.')) if (!VALID_TOKEN.test(token) && token !== '*' && token !== '>') throw new RangeError(`bus pattern '${pattern}' has an invalid token`);
  return `${prefix}.${event}.${partition}.${rest}`;
}

/** The bus subject of a wire subject (drops the prefix and the partition token). */
export function busSubject(wire: string): string {
  const a = wire.indexOf('.');
  const b = wire.indexOf('.', a + 1);
  const c = wire.indexOf('.', b + 1);
  return wire.slice(a + 1, b) + wire.slice(c);
}
