/**
 * The Bus port: how events travel between services and nodes (broadcast or work-queue
 * subscriptions, partitions, acknowledgement by settling). The events themselves are domain
 * types (domain/bus-event-map.ts); ports.ts re-exports this file.
 */
import type { BusEvents } from '../domain/bus-event-map.js';

/**
 * What the handler of one delivery is told besides the message. `attempt` counts deliveries of
 * this message to this subscription (1 on the first); a handler may treat attempt > 1 as a
 * possible duplicate.
 */
export interface BusDelivery {
  readonly subject: string;
  readonly attempt: number;
  /** The message's position in its partition's log (JetStream: the stream sequence), when the bus has one. */
  readonly position?: number;
}

/**
 * Which partitions of a work-queue group this member consumes (cluster partition ownership,
 * services/cluster/coordinator.ts). Without it a member consumes every partition.
 */
export interface PartitionOwnership {
  /** The partitions owned now. */
  owned(): Iterable<number>;
  /**
   * Told after partitions were gained and before lost ones are given up (the lease is released
   * only once every listener's promise settled): the member starts or stops consuming them.
   * Returns the function that removes the listener.
   */
  onChange(listener: (change: { readonly gained: readonly number[]; readonly lost: readonly number[] }) => void | Promise<void>): () => void;
}

/**
 * Settles the delivery: returning (or resolving) acknowledges the message; throwing or rejecting
 * asks for it again (nak), to this or another member, up to `maxDeliveries`.
 */
export type BusHandler<E extends keyof BusEvents> = (message: BusEvents[E], subject: string, delivery: BusDelivery) => void | Promise<void>;

/**
 * How a subscription consumes. Without `group` it is broadcast: every broadcast subscription
 * whose pattern matches gets every message, from the moment it subscribes until it
 * unsubscribes (nothing is kept for it meanwhile). With `group` it is a member of a work queue
 * (on NATS JetStream: durable consumers named after it): each message goes to exactly one member,
 * and messages are partitioned (default: by the subject's device token) so one partition has
 * one message in flight at a time, in publish order, across all members.
 */
export interface BusSubscribeOptions {
  /** Work-queue group name; every member of a group must use the same event and pattern. */
  readonly group?: string;
  /**
   * The partition of a message: one message of a partition in flight at a time, in publish
   * order. Default: for a work queue the subject's third token (`<event>.<tenant>.<device>`), so
   * each device's messages are handled in order by one member at a time; for a broadcast
   * subscription a single partition (all its messages in publish order). The NATS bus partitions
   * by device when publishing, so a work queue with an explicit function gets a total order there
   * (one message of the group in flight at a time), which satisfies any partition function.
   */
  readonly partition?: (subject: string) => string;
  /**
   * Messages this subscription handles at once (unsettled promises): default 1 for broadcast
   * (in publish order), 1,000 for a work-queue member (at most one per partition).
   */
  readonly maxInFlight?: number;
  /** Deliveries of one message before it is dead-lettered; default 5. */
  readonly maxDeliveries?: number;
  /**
   * Consume only the partitions this member owns (a work queue partitioned by device, no
   * `partition` function). Ownership is exclusive, so the bus may hand a member several messages
   * of one partition at once (in order); the handler keeps per-device order itself. The memory
   * bus ignores it (one process owns everything).
   */
  readonly ownership?: PartitionOwnership;
}

/** A message given up on after `maxDeliveries` (logged; the NATS adapter maps it to the MAX_DELIVERIES advisory). */
export interface DeadLetter {
  readonly event: keyof BusEvents;
  readonly subject: string;
  readonly group: string | undefined;
  readonly attempts: number;
  readonly message: unknown;
  readonly error: unknown;
}

/**
 * The message bus between services (and, in a cluster, between nodes). Semantics pinned by
 * test/adapters/bus/contract.ts; docs/ARCHITECTURE.md, "The bus".
 */
export interface Bus {
  /**
   * Subject = `<event>.<tenantId>.<deviceId>`; see subjectFor(). Resolves once the bus holds the
   * message (durably, for a durable bus): the point after which the publisher may forget it.
   * The message is handed over: the publisher does not change it afterwards, and no subscriber
   * can change what another one sees (the memory bus copies telemetry per delivery and freezes
   * other events; a serializing bus decodes per node). Rejects only when the bus cannot take it
   * (a durable bus unreachable; a message that does not fit its schema, domain/bus-events.ts,
   * in a bus that serializes); the memory bus never rejects.
   */
  publish<E extends keyof BusEvents>(event: E, subject: string, message: BusEvents[E]): Promise<void>;
  /**
   * `pattern` uses NATS wildcards: `*` one token, `>` the rest. The returned function ends the
   * subscription; a work-queue message it held unsettled is delivered again to another member
   * (or to the next one to join), as when a consumer dies.
   */
  subscribe<E extends keyof BusEvents>(event: E, pattern: string, handler: BusHandler<E>, options?: BusSubscribeOptions): () => void;
  /**
   * Drops a work-queue group that will never have members again (a deleted integration's), with
   * what it queued; a group otherwise outlives its members. Optional: the NATS bus does not
   * implement it yet (its durable consumers stay until removed on the server).
   */
  removeGroup?(group: string): Promise<void>;
  /**
   * Resolves once the bus server answered a round trip; rejects when it cannot be reached (for
   * /readyz). Only a bus on a server implements it (NATS); the memory bus is always reachable.
   */
  ping?(): Promise<void>;
  /** Stops delivering; queued and unsettled messages of a non-durable bus are dropped. */
  close(): Promise<void>;
}

