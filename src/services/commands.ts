/**
 * Commands (server-side RPC) with a history, and the durable outbox for devices that are offline
 * or asleep. Built on RpcService: a command goes out as an `rpcRequest` on the bus, the SessionHub
 * hands it to the device's session (MQTT, CoAP observe, HTTP long poll, or its gateway), tells
 * `rpcDelivered` when it did, and the reply comes back as `rpcResponse`.
 *
 * States: QUEUED (waiting for the device) → SENT (handed to the session layer) → DELIVERED (written
 * to the device's transport; the final state of a one-way command) → SUCCESSFUL (reply) / FAILED
 * (a reply carrying "error", or a non-persistent command for an offline device) / TIMEOUT (no
 * reply or delivery within timeoutMs, after maxRetries retries) / EXPIRED (expiresAt passed first).
 *
 * Persistent commands are in the store before anything is sent; a device coming online (bus
 * `status`) gets its outbox flushed in creation order. Delivery is at least once: a device may
 * see a command twice.
 *
 * Several nodes may share the store. A node claims a command when it sends it (QUEUED → SENT
 * records `claimedBy` = its node id and `leaseUntil`), renews the lease while the command is in
 * flight, and no other node touches it while the lease holds. At start a node takes back into the
 * outbox (QUEUED) the SENT/DELIVERED commands it claimed in an earlier run and those whose lease
 * expired; afterwards its sweep takes back those whose lease expires (their node is gone). Every
 * state change is a compare-and-set on the command's version, retried on conflict (cas.ts), so
 * two nodes never both claim a command and a late write never overwrites a newer state.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Device } from '../domain/device.js';
import { isPlatformError, PlatformError } from '../domain/errors.js';
import { subjectFor } from '../domain/subjects.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { Bus, Clock, CommandStore, Logger, Page, StoredCommand } from '../ports.js';
import type { Command, CommandApi, CommandStatus, SendCommand } from '../domain/action-apis.js';
import { casWrite, retryOnConflict } from './cas.js';
import type { RpcCall, RpcCallHooks } from './rpc.js';

export interface CommandServiceDeps {
  readonly store: CommandStore;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly rpc: { call(req: RpcCall, hooks?: RpcCallHooks): Promise<JsonValue | undefined> };
  /** A session on any node, or recent activity (Reachability.isOnline). */
  readonly isOnline: (deviceId: string) => Promise<boolean>;
  readonly requireDevice: (deviceId: string, tenantId: string) => Promise<Device>;
  /** This process's node id (config `node.id`): the claim on commands it sends. */
  readonly nodeId: string;
  /** How long a claim holds without renewal; renewed every third of it while in flight. Default 30 s. */
  readonly leaseMs?: number;
  readonly defaultTimeoutMs: number;
  /** How long a persistent command may wait for its device; default one day. */
  readonly defaultExpiryMs?: number;
  /** Retries after a timeout before a persistent command ends TIMEOUT; default 2. */
  readonly maxRetries?: number;
  /** How often queued commands are checked for expiry; default 1 s. */
  readonly sweepIntervalMs?: number;
}

export interface CommandFilter {
  readonly deviceId?: string;
  /** Only these devices' commands (a customer user's scope). */
  readonly deviceIds?: readonly string[];
  readonly statuses?: readonly CommandStatus[];
  readonly limit?: number;
  readonly offset?: number;
}

const FINAL: ReadonlySet<CommandStatus> = new Set(['SUCCESSFUL', 'FAILED', 'TIMEOUT', 'EXPIRED']);
export const MAX_COMMAND_TIMEOUT_MS = 600_000;
const DAY_MS = 86_400_000;
const DEFAULT_LEASE_MS = 30_000;
/** Without a known expiry the outbox is still re-read this often, in case a flush was missed. */
const IDLE_SWEEP_MS = 60_000;

export function isFinal(status: CommandStatus): boolean {
  return FINAL.has(status);
}

/** SENT, or DELIVERED and waiting for a reply: a node is (or was) working on it. DELIVERED ends a one-way command. */
function inFlight(c: StoredCommand): boolean {
  return c.status === 'SENT' || (c.status === 'DELIVERED' && !c.oneway);
}

/** The command without a claim (back in the outbox) or without a lease (final). */
function withoutClaim(c: StoredCommand, keepClaimer: boolean): StoredCommand {
  const { claimedBy, leaseUntil: _lease, ...rest } = c;
  return keepClaimer && claimedBy !== undefined ? { ...rest, claimedBy } : rest;
}

/** A reply `{"error": …}` is the device saying it failed (ThingsBoard firmware convention). */
function replyError(response: JsonValue | undefined): string | undefined {
  if (typeof response !== 'object' || response === null || Array.isArray(response) || !('error' in response)) return undefined;
  const error = response.error;
  return typeof error === 'string' ? error : JSON.stringify(error);
}

export class CommandService implements CommandApi {
  /** Commands with a request out: command id → the rpc request key (`device/requestId`) once known. */
  private readonly inflight = new Map<string, string | undefined>();
  /** Request key → command id, to match `rpcDelivered`. */
  private readonly byRequest = new Map<string, string>();
  /** One-way persistent commands waiting for delivery: command id → timer. */
  private readonly deliveryTimers = new Map<string, NodeJS.Timeout>();
  /** Store writes of one command, in order (a reply must never be overwritten by a late DELIVERED). */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Outbox flushes per device, one at a time. */
  private readonly flushes = new Map<string, Promise<void>>();
  private readonly unsubscribes: (() => void)[] = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private nextSweepAt = 0;
  private stopped = false;

  constructor(private readonly deps: CommandServiceDeps) {}

  private get maxRetries(): number {
    return this.deps.maxRetries ?? 2;
  }

  private get leaseMs(): number {
    return this.deps.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /**
   * Whether this node may take the command back into the outbox: in flight, not being handled
   * here, and its lease expired (or, at start, claimed by this node's earlier run; or claimed
   * before leases existed).
   */
  private takeable(c: StoredCommand, now: number, atStart: boolean): boolean {
    if (!inFlight(c) || this.inflight.has(c.id)) return false;
    if (c.claimedBy === undefined || c.leaseUntil === undefined || c.leaseUntil <= now) return true;
    return atStart && c.claimedBy === this.deps.nodeId;
  }

  /** Puts a command whose sender is gone back into the outbox, if it still is takeable when written. */
  private takeBack(id: string, atStart: boolean): Promise<StoredCommand> {
    return this.transition(id, (c) => (this.takeable(c, this.deps.clock.now(), atStart) ? { ...c, status: 'QUEUED' } : undefined));
  }

  /** Takes back the outbox of an earlier run and listens for devices coming online. */
  async start(): Promise<void> {
    this.unsubscribes.push(
      this.deps.bus.subscribe('status', 'status.>', (msg) => {
        if (msg.online) this.flush(msg.deviceId);
      }),
      this.deps.bus.subscribe('rpcDelivered', 'rpcDelivered.>', (msg) => this.onDelivered(`${msg.deviceId}/${msg.requestId}`)),
    );
    const pending = await this.deps.store.pendingCommands();
    const now = this.deps.clock.now();
    for (const c of pending) {
      // Sent by this node's earlier run, or by a node whose lease ran out: no reply can reach
      // anyone waiting for it, so it goes out again. Another live node's commands stay its own.
      if (this.takeable(c, now, true)) await this.takeBack(c.id, true);
    }
    await this.sweep();
    for (const deviceId of new Set(pending.map((c) => c.deviceId))) if (await this.deps.isOnline(deviceId)) this.flush(deviceId);
    this.sweepTimer = setInterval(() => {
      if (this.deps.clock.now() >= this.nextSweepAt) void this.sweep();
    }, this.deps.sweepIntervalMs ?? 1000);
    this.sweepTimer.unref();
    this.renewTimer = setInterval(() => void this.renewLeases(), this.leaseMs / 3);
    this.renewTimer.unref();
  }

  /** Extends the lease of every command this node has in flight, so no other node takes it back. */
  private async renewLeases(): Promise<void> {
    const leaseUntil = this.deps.clock.now() + this.leaseMs;
    const renew = (c: StoredCommand): StoredCommand | undefined =>
      inFlight(c) && c.claimedBy === this.deps.nodeId ? { ...c, leaseUntil } : undefined;
    await Promise.all(
      [...this.inflight.keys()].map((id) =>
        this.transition(id, renew, true).catch((err: unknown) => {
          if (!this.stopped) this.deps.logger.warn({ err, commandId: id }, 'renewing a command lease failed');
        }),
      ),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    if (this.renewTimer) clearInterval(this.renewTimer);
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
    for (const timer of this.deliveryTimers.values()) clearTimeout(timer);
    this.deliveryTimers.clear();
    await Promise.allSettled([...this.queues.values(), ...this.flushes.values()]);
  }

  async send(input: SendCommand): Promise<Command> {
    if (typeof input.method !== 'string' || input.method.length === 0 || input.method.length > 255) {
      throw new PlatformError('BAD_REQUEST', 'command method must be 1..255 characters');
    }
    const timeoutMs = input.timeoutMs ?? this.deps.defaultTimeoutMs;
    if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_COMMAND_TIMEOUT_MS) {
      throw new PlatformError('BAD_REQUEST', `timeoutMs must be 1..${MAX_COMMAND_TIMEOUT_MS}`);
    }
    if (input.expiresInMs !== undefined && (!Number.isSafeInteger(input.expiresInMs) || input.expiresInMs < 1)) {
      throw new PlatformError('BAD_REQUEST', 'expiresInMs must be a positive integer');
    }
    const device = await this.deps.requireDevice(input.deviceId, input.tenantId);
    const persistent = input.persistent ?? false;
    const now = this.deps.clock.now();
    const command: StoredCommand = {
      id: input.idempotencyKey === undefined ? randomUUID() : idempotentId(device.tenantId, input.idempotencyKey),
      tenantId: device.tenantId,
      deviceId: device.id,
      method: input.method,
      params: input.params ?? {},
      oneway: input.oneway ?? false,
      persistent,
      status: 'QUEUED',
      retries: 0,
      maxRetries: persistent ? this.maxRetries : 0,
      timeoutMs,
      ...(input.origin ? { origin: input.origin } : {}),
      createdAt: now,
      updatedAt: now,
      expiresAt: now + (input.expiresInMs ?? (persistent ? (this.deps.defaultExpiryMs ?? DAY_MS) : timeoutMs)),
      version: 1,
    };
    try {
      await this.deps.store.insertCommand(command);
    } catch (err) {
      // The key's command exists (the id is the store's primary key): this send is a replay.
      if (input.idempotencyKey !== undefined && isPlatformError(err, 'CONFLICT')) {
        const first = await this.deps.store.getCommand(command.id);
        if (first) return first;
      }
      throw err;
    }
    this.announce(command);
    if (persistent) {
      this.nextSweepAt = Math.min(this.nextSweepAt, command.expiresAt);
      if (!(await this.deps.isOnline(command.deviceId))) return command;
      this.flush(command.deviceId);
      await this.flushes.get(command.deviceId);
      return (await this.deps.store.getCommand(command.id)) ?? command;
    }
    if (!(await this.deps.isOnline(command.deviceId))) return this.finish(command.id, 'FAILED', { error: new PlatformError('DEVICE_OFFLINE').message });
    this.inflight.set(command.id, undefined);
    return this.dispatch(command);
  }

  async get(tenantId: string, id: string): Promise<StoredCommand> {
    const command = await this.deps.store.getCommand(id);
    if (!command || command.tenantId !== tenantId) throw new PlatformError('COMMAND_NOT_FOUND', id);
    return command;
  }

  async list(tenantId: string, filter: CommandFilter = {}): Promise<Page<StoredCommand>> {
    if (filter.deviceId !== undefined) await this.deps.requireDevice(filter.deviceId, tenantId);
    return this.deps.store.listCommands({
      tenantId,
      ...(filter.deviceId !== undefined ? { deviceId: filter.deviceId } : {}),
      ...(filter.deviceIds !== undefined ? { deviceIds: filter.deviceIds } : {}),
      ...(filter.statuses !== undefined ? { statuses: filter.statuses } : {}),
      limit: Math.min(filter.limit ?? 100, 1000),
      offset: filter.offset ?? 0,
    });
  }

  /** Sends the device's queued persistent commands, oldest first; one flush per device at a time. */
  flush(deviceId: string): void {
    if (this.stopped) return;
    const previous = this.flushes.get(deviceId) ?? Promise.resolve();
    const next = previous.then(() => this.flushNow(deviceId));
    this.flushes.set(deviceId, next);
    void next.finally(() => {
      if (this.flushes.get(deviceId) === next) this.flushes.delete(deviceId);
    });
  }

  private async flushNow(deviceId: string): Promise<void> {
    try {
      for (const c of await this.deps.store.pendingCommands(deviceId)) {
        if (this.stopped || !(await this.deps.isOnline(deviceId))) return;
        if (c.status !== 'QUEUED' || this.inflight.has(c.id)) continue;
        // Claimed synchronously, so a concurrent send() or flush never sends it twice.
        this.inflight.set(c.id, undefined);
        if (c.expiresAt <= this.deps.clock.now()) {
          this.inflight.delete(c.id);
          await this.finish(c.id, 'EXPIRED');
          continue;
        }
        this.dispatch(c).catch((err: unknown) => {
          if (!this.stopped) this.deps.logger.error({ err, commandId: c.id }, 'command dispatch failed');
        });
        // Wait until it is marked SENT, so commands leave in creation order.
        await this.queues.get(c.id);
      }
    } catch (err) {
      this.deps.logger.error({ err, deviceId }, 'command outbox flush failed');
    }
  }

  /**
   * Marks the command SENT and hands it to RpcService. Resolves with its state once the request is
   * settled: replied or timed out (two-way), published (one-way: delivery is awaited by a timer).
   * The caller has claimed the command in `inflight`.
   */
  private async dispatch(command: StoredCommand): Promise<StoredCommand> {
    let requestKey: string | undefined;
    try {
      // The claim: a compare-and-set, so of two nodes flushing the same outbox one sends it.
      let claimed = false;
      const sent = await this.transition(command.id, (c) => {
        claimed = c.status === 'QUEUED';
        return claimed ? { ...c, status: 'SENT', claimedBy: this.deps.nodeId, leaseUntil: this.deps.clock.now() + this.leaseMs } : undefined;
      });
      if (!claimed) {
        this.release(sent.id, undefined);
        return sent;
      }
      // Never wait past expiry: a command due to expire sooner ends EXPIRED on time.
      const timeoutMs = Math.max(1, Math.min(sent.timeoutMs, sent.expiresAt - this.deps.clock.now()));
      // Set before the call: the session layer may report delivery while the call is publishing.
      if (sent.oneway) this.awaitDelivery(sent.id, timeoutMs);
      const response = await this.deps.rpc.call(
        { tenantId: sent.tenantId, deviceId: sent.deviceId, method: sent.method, params: sent.params, oneway: sent.oneway, timeoutMs },
        {
          onRequestId: (requestId) => {
            requestKey = `${sent.deviceId}/${requestId}`;
            this.inflight.set(sent.id, requestKey);
            this.byRequest.set(requestKey, sent.id);
          },
        },
      );
      if (sent.oneway) {
        // Let a DELIVERED reported during the publish reach the store before answering.
        await this.queues.get(sent.id);
        return (await this.deps.store.getCommand(sent.id)) ?? sent;
      }
      this.release(sent.id, requestKey);
      const error = replyError(response);
      return await this.finish(sent.id, error === undefined ? 'SUCCESSFUL' : 'FAILED', { response: response ?? null, ...(error !== undefined ? { error } : {}) });
    } catch (err) {
      this.release(command.id, requestKey);
      if (isPlatformError(err, 'RPC_TIMEOUT')) return this.timedOut(command.id);
      if (isPlatformError(err, 'DEVICE_OFFLINE')) {
        // Went offline between the check and the send.
        if (command.persistent) return this.transition(command.id, (c) => (isFinal(c.status) || c.claimedBy !== this.deps.nodeId ? undefined : { ...c, status: 'QUEUED' }));
        return this.finish(command.id, 'FAILED', { error: err.message });
      }
      if (isPlatformError(err, 'MALFORMED_PAYLOAD')) {
        // The profile's encodeDownlink failed (user code): the command fails with its reason, nothing was sent.
        this.deps.logger.warn({ commandId: command.id, deviceId: command.deviceId, reason: err.message }, 'command not sent: the profile could not encode it');
        return this.finish(command.id, 'FAILED', { error: err.message });
      }
      this.deps.logger.error({ err, commandId: command.id }, 'command dispatch failed');
      return this.finish(command.id, 'FAILED', { error: err instanceof Error ? err.message : String(err) });
    }
  }

  /** Forgets the command's request and its delivery timer. */
  private release(id: string, requestKey: string | undefined): void {
    if (requestKey !== undefined) this.byRequest.delete(requestKey);
    this.inflight.delete(id);
    const timer = this.deliveryTimers.get(id);
    if (timer) clearTimeout(timer);
    this.deliveryTimers.delete(id);
  }

  /** One-way commands end DELIVERED, or time out (and are retried) if the session layer never delivers them. */
  private awaitDelivery(id: string, timeoutMs: number): void {
    const timer = setTimeout(() => {
      this.deliveryTimers.delete(id);
      this.release(id, this.inflight.get(id));
      this.timedOut(id).catch((err: unknown) => this.deps.logger.error({ err, commandId: id }, 'recording command timeout failed'));
    }, timeoutMs);
    timer.unref();
    this.deliveryTimers.set(id, timer);
  }

  private onDelivered(requestKey: string): void {
    const id = this.byRequest.get(requestKey);
    if (id === undefined) return;
    void this.transition(id, (c) => (c.status === 'SENT' && c.claimedBy === this.deps.nodeId ? { ...c, status: 'DELIVERED' } : undefined)).then(
      // DELIVERED is the final state of a one-way command.
      (c) => {
        if (c.oneway) this.release(id, requestKey);
      },
      (err: unknown) => this.deps.logger.warn({ err, commandId: id }, 'recording command delivery failed'),
    );
  }

  /** No reply (or no delivery) in time: retry while retries and time remain, else TIMEOUT. */
  private async timedOut(id: string): Promise<StoredCommand> {
    const now = this.deps.clock.now();
    const after = await this.transition(id, (c) => {
      // Only the node still holding the claim: after its lease ran out another node may have it.
      if (!inFlight(c) || c.claimedBy !== this.deps.nodeId) return undefined;
      // A non-persistent command's expiry is its timeout: that is a TIMEOUT, not an expiry.
      if (c.persistent && c.expiresAt <= now) return { ...c, status: 'EXPIRED' };
      if (c.persistent && c.retries < c.maxRetries) return { ...c, status: 'QUEUED', retries: c.retries + 1 };
      return { ...c, status: 'TIMEOUT', error: `no ${c.oneway ? 'delivery' : 'reply'} within ${c.timeoutMs} ms` };
    });
    if (after.status === 'QUEUED') {
      this.nextSweepAt = Math.min(this.nextSweepAt, after.expiresAt);
      if (await this.deps.isOnline(after.deviceId)) this.flush(after.deviceId);
    }
    return after;
  }

  /**
   * Expires queued commands whose time is up and takes back those whose node let the lease run
   * out; re-reads the outbox only when something is due.
   */
  private async sweep(): Promise<void> {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    this.nextSweepAt = now + IDLE_SWEEP_MS;
    try {
      for (const c of await this.deps.store.pendingCommands()) {
        if (this.inflight.has(c.id)) continue;
        if (inFlight(c)) {
          if (!this.takeable(c, now, false)) this.nextSweepAt = Math.min(this.nextSweepAt, c.leaseUntil ?? now);
          else if ((await this.takeBack(c.id, false)).status === 'QUEUED' && (await this.deps.isOnline(c.deviceId))) this.flush(c.deviceId);
          continue;
        }
        if (c.status !== 'QUEUED') continue;
        if (c.expiresAt <= now) await this.finish(c.id, 'EXPIRED');
        else this.nextSweepAt = Math.min(this.nextSweepAt, c.expiresAt);
      }
    } catch (err) {
      if (!this.stopped) this.deps.logger.warn({ err }, 'command outbox sweep failed');
    }
  }

  private finish(id: string, status: CommandStatus, extra: { response?: JsonValue; error?: string } = {}): Promise<StoredCommand> {
    return this.transition(id, (c) => (isFinal(c.status) ? undefined : { ...c, ...extra, status }));
  }

  /**
   * Applies `change` to the stored command (undefined = no change), one write per command at a
   * time in this process, compare-and-set against other processes (re-read and applied again when
   * another writer came first), then announces it unless `quiet` (lease renewals). Resolves with
   * the command as stored afterwards. Back in the outbox a command has no claim; final, no lease.
   */
  private transition(id: string, change: (c: StoredCommand) => StoredCommand | undefined, quiet = false): Promise<StoredCommand> {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const attempt = async (): Promise<StoredCommand> => {
      const current = await this.deps.store.getCommand(id);
      if (!current) throw new PlatformError('COMMAND_NOT_FOUND', id);
      const changed = change(current);
      if (!changed) return current;
      const next = changed.status === 'QUEUED' ? withoutClaim(changed, false) : isFinal(changed.status) ? withoutClaim(changed, true) : changed;
      const updated: StoredCommand = { ...next, version: current.version + 1, updatedAt: this.deps.clock.now() };
      await casWrite(this.deps.store.updateCommand(updated));
      if (!quiet) this.announce(updated);
      return updated;
    };
    const work = (): Promise<StoredCommand> => retryOnConflict(attempt, `command ${id}`);
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => {
      if (this.queues.get(id) === tail) this.queues.delete(id);
    });
    return next;
  }

  private announce(command: StoredCommand): void {
    // Fire and forget: the command is stored; the event only feeds live views.
    void this.deps.bus.publish('command', subjectFor('command', command.tenantId, command.deviceId), {
      tenantId: command.tenantId,
      deviceId: command.deviceId,
      command,
    }).catch((err: unknown) => this.deps.logger.warn({ err }, 'bus: publishing a command event failed (the command is stored)'));
  }
}

/** A UUID (version 8, RFC 9562 §5.8: custom) from SHA-256 of (tenant, key): the same key, the same id. */
export function idempotentId(tenantId: string, key: string): string {
  const h = createHash('sha256').update(tenantId).update('\u0000').update(key).digest();
  h[6] = ((h[6] as number) & 0x0f) | 0x80;
  h[8] = ((h[8] as number) & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
