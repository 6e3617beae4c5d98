/**
 * The seams of the platform. Services see only these interfaces; adapters implement them;
 * apps/ wires one implementation of each. Every port has an in-memory implementation.
 * Ports that grew their own file live in src/ports/ and are re-exported here, so `ports.js` is
 * the one place to look (a new port goes in a new src/ports/<name>.ts file).
 */
export * from './ports/broker-state.js';
export * from './ports/bus.js';
export * from './ports/cluster.js';
export * from './ports/customers.js';
export * from './ports/device-api.js';
export * from './ports/device-groups.js';
export * from './ports/integrations.js';
export * from './ports/metrics.js';
export * from './ports/mqtt-grants.js';
export * from './ports/mqtt-cluster.js';
export * from './ports/notify.js';
export * from './ports/ota.js';
export * from './ports/ota-deployments.js';
export * from './ports/oidc.js';
export * from './ports/signin.js';
export * from './ports/outbound.js';
export * from './ports/presence.js';
export * from './ports/quotas.js';
export * from './ports/zones.js';
export * from './ports/trips.js';
export * from './ports/tenancy.js';
export * from './ports/users.js';
export type { AlarmAction, BusEvents, BusSubject } from './domain/bus-event-map.js';
import type { AlarmAction } from './domain/bus-event-map.js';
import type {
  AttributeEntry,
  AttributeScope,
  Device,
  DeviceCredential,
  DeviceProfile,
  DeviceStatus,
  Tenant,
} from './domain/device.js';
import type { Aggregation, JsonValue, Point, TelemetryValue, TsValue } from './domain/telemetry.js';
import type { Alarm, AlarmSeverity, AlarmStatus, Command, CommandStatus } from './domain/action-apis.js';
import type { Rule } from './domain/rules/model.js';
import type { Dashboard } from './domain/dashboard.js';
import type { OtaKeyStore, OtaStore } from './ports/ota.js';
import type { OtaDeploymentStore } from './ports/ota-deployments.js';
import type { IntegrationStore } from './ports/integrations.js';
import type { SigninStore } from './ports/signin.js';
import type { MqttGrantStore } from './ports/mqtt-grants.js';
import type { QuotaStore } from './ports/quotas.js';
import type { ZoneStore } from './ports/zones.js';
import type { TripStore } from './ports/trips.js';
import type { TenancyStore } from './ports/tenancy.js';
import type { CustomerStore, DeviceGroupStore } from './ports/customers.js';
import type { UserStore } from './ports/users.js';

// ---------------------------------------------------------------- storage

export interface Page<T> {
  readonly items: T[];
  readonly total: number;
}

export interface DeviceQuery {
  readonly tenantId: string;
  /** Case-insensitive substring of name or label. */
  readonly search?: string;
  readonly gatewayId?: string;
  readonly profileId?: string;
  /** Only devices assigned to one of these customers (a customer user's scope). */
  readonly customerIds?: readonly string[];
  /** Only these devices (a custom role scoped to a device group: the group's members). */
  readonly ids?: readonly string[];
  readonly limit: number;
  readonly offset: number;
}

/** Tenants, device profiles and devices. */
export interface RegistryStore {
  ensureTenant(tenant: Tenant): Promise<void>;
  saveProfile(profile: DeviceProfile): Promise<void>;
  getProfile(id: string): Promise<DeviceProfile | undefined>;
  findProfile(by: { tenantId: string; name: string } | { provisionKey: string }): Promise<DeviceProfile | undefined>;
  listProfiles(tenantId: string): Promise<DeviceProfile[]>;
  /** Removes a profile no device uses; false when it did not exist. The caller checks usage first. */
  deleteProfile(id: string): Promise<boolean>;
  /** Inserts the device with its credentials atomically; throws DEVICE_NAME_TAKEN on a duplicate name. */
  insertDevice(device: Device, credentials: readonly DeviceCredential[]): Promise<void>;
  /** Many devices in one transaction; returns per-row errors by index (bulk import). */
  insertDevices(rows: readonly { device: Device; credentials: readonly DeviceCredential[] }[]): Promise<Map<number, Error>>;
  updateDevice(device: Device): Promise<void>;
  deleteDevice(id: string): Promise<boolean>;
  getDevice(id: string): Promise<Device | undefined>;
  findDeviceByName(tenantId: string, name: string): Promise<Device | undefined>;
  listDevices(query: DeviceQuery): Promise<Page<Device>>;
}

export type CredentialLookup =
  | { readonly type: 'ACCESS_TOKEN'; readonly tokenHash: string }
  | { readonly type: 'MQTT_BASIC'; readonly clientId?: string; readonly username?: string }
  | { readonly type: 'X509_CERTIFICATE'; readonly fingerprint: string };

export interface CredentialStore {
  /** All credentials matching the lookup (basic credentials may match on client id or user name). */
  findCredentials(lookup: CredentialLookup): Promise<DeviceCredential[]>;
  getCredentials(deviceId: string): Promise<DeviceCredential[]>;
  /** Replaces the device's credential of the same type; throws CONFLICT if another device holds it. */
  setCredential(credential: DeviceCredential): Promise<void>;
}

/** One row the store writer appends; deviceId is the registry id. */
export interface TelemetryRow {
  readonly deviceId: string;
  readonly key: string;
  readonly ts: number;
  readonly value: TelemetryValue;
  /**
   * An object or array value already serialized by the caller (IngestService does it before the
   * row joins a batch, so a value that cannot be serialized fails its own message, not the batch).
   * Stores use it instead of serializing again.
   */
  readonly json?: string;
}

export interface RawQuery {
  readonly deviceId: string;
  readonly keys: readonly string[];
  readonly from: number;
  readonly to: number;
  readonly limit: number;
  readonly order: 'asc' | 'desc';
}

export interface AggregateQuery {
  readonly deviceId: string;
  readonly keys: readonly string[];
  readonly from: number;
  readonly to: number;
  /** Bucket width in ms; buckets start at `from + n * interval`. */
  readonly interval: number;
  readonly agg: Aggregation;
}

export interface TelemetryStore {
  /**
   * Appends rows durably in one transaction (group commit). Resolves only once committed.
   * Idempotent on (device, key, ts): a repeated point replaces the stored one.
   * `outbox`, when given, is written as one outbox record in the same transaction (the events
   * announcing these rows: nothing is committed without them, nor they without it); resolves
   * with that record's id.
   */
  appendTelemetry(rows: readonly TelemetryRow[], outbox?: string): Promise<number | undefined>;
  queryRaw(query: RawQuery): Promise<Record<string, TsValue[]>>;
  /** Only numeric values take part; each bucket's ts is its start. */
  queryAggregated(query: AggregateQuery): Promise<Record<string, TsValue[]>>;
  latest(deviceId: string, keys?: readonly string[]): Promise<Record<string, TsValue>>;
  /** Distinct keys the device has reported. */
  telemetryKeys(deviceId: string): Promise<string[]>;
  /**
   * Retention: deletes the device's points with ts < `before` and its roll-up hours that end by
   * `before` (the caller passes an hour boundary, so the roll-ups stay exact); latest values stay.
   * At most `limit` points per call, as one transaction; resolves with how many went (fewer than
   * `limit`: nothing older is left).
   */
  pruneTelemetry(deviceId: string, before: number, limit: number): Promise<number>;
}

/** A record of the transactional outbox: events written in the transaction of the data they announce. */
export interface OutboxRecord {
  /** Increasing in write order among the records not yet acknowledged (an acknowledged id may be used again). */
  readonly id: number;
  /** Opaque to the store: the relay's encoding of the events (services/outbox-relay.ts). */
  readonly payload: string;
}

/**
 * The outbox between a commit and the bus: records are written with the data (appendTelemetry),
 * published by the relay, then acknowledged. Whatever is not acknowledged when the process stops
 * is taken again at the next start, so each record is published at least once.
 */
export interface OutboxStore {
  /** Unacknowledged records, oldest first, at most `limit`. */
  takeOutbox(limit: number): Promise<OutboxRecord[]>;
  /**
   * The records were published: takeOutbox no longer returns them. The removal may reach the
   * disk later (with the next write, or within a second): a crash before that only makes them
   * be published again.
   */
  ackOutbox(ids: readonly number[]): Promise<void>;
}

export interface AttributeStore {
  setAttributes(deviceId: string, scope: AttributeScope, values: Record<string, JsonValue>, ts: number): Promise<void>;
  getAttributes(deviceId: string, scope: AttributeScope, keys?: readonly string[]): Promise<AttributeEntry[]>;
  deleteAttributes(deviceId: string, scope: AttributeScope, keys: readonly string[]): Promise<void>;
}

export interface StatusStore {
  /**
   * Saves many statuses at once; activity is flushed periodically, not per message. Not last
   * writer wins: per device, the session fields (online, lastConnect, lastDisconnect, transport,
   * nodeId, epoch) are replaced only by a status whose `epoch` (default 0) is at least the stored
   * one, so a node holding a stale session cannot mark a device offline after another node
   * accepted its newer session; lastActivity keeps the newest of the two.
   */
  saveStatuses(statuses: readonly DeviceStatus[]): Promise<void>;
  getStatuses(deviceIds: readonly string[]): Promise<DeviceStatus[]>;
}

export type { Role } from './domain/permissions.js';

/** One step in an alarm's life, kept as its history. */
export interface AlarmEvent {
  readonly alarmId: string;
  readonly ts: number;
  readonly action: AlarmAction;
  readonly severity: AlarmSeverity;
  /** Who: a user id, 'rule:<id>', 'api'… (absent when unknown). */
  readonly by?: string;
  readonly details?: JsonValue;
}

export interface AlarmQuery {
  readonly tenantId: string;
  readonly deviceId?: string;
  /** Only alarms of these devices (a customer user's scope). */
  readonly deviceIds?: readonly string[];
  /** Any of these statuses; absent = all. */
  readonly statuses?: readonly AlarmStatus[];
  readonly severities?: readonly AlarmSeverity[];
  readonly type?: string;
  /** createdAt range, both ends inclusive. */
  readonly from?: number;
  readonly to?: number;
  readonly limit: number;
  readonly offset: number;
}

/**
 * Alarms: at most one open (not cleared) alarm per (device, type). Lists are newest first.
 * Updates are compare-and-set on `version`, so writers on several nodes (or two services on one
 * store) never lose each other's change: they re-read and retry on CONFLICT.
 */
export interface AlarmStore {
  /** Inserts with its first history event; CONFLICT if the (device, type) already has an open alarm. */
  insertAlarm(alarm: Alarm, event: AlarmEvent): Promise<void>;
  /**
   * Replaces the alarm by id and appends the event, atomically, only if the stored alarm's version
   * is `alarm.version - 1` (the caller bumps it); CONFLICT if it is not (someone else wrote first,
   * nothing is written), ALARM_NOT_FOUND if absent.
   */
  updateAlarm(alarm: Alarm, event: AlarmEvent): Promise<void>;
  getAlarm(id: string): Promise<Alarm | undefined>;
  findOpenAlarm(deviceId: string, type: string): Promise<Alarm | undefined>;
  listAlarms(query: AlarmQuery): Promise<Page<Alarm>>;
  /** Oldest first. */
  alarmHistory(alarmId: string): Promise<AlarmEvent[]>;
}

/** A command as the outbox keeps it: the public record plus what retries need after a restart. */
export interface StoredCommand extends Command {
  readonly timeoutMs: number;
  readonly maxRetries: number;
  readonly origin?: string;
  /** Bumped by every update (compare-and-set, see CommandStore.updateCommand); 1 when inserted. */
  readonly version: number;
  /** The node that sent it (SENT/DELIVERED): it holds the lease and waits for the reply. */
  readonly claimedBy?: string;
  /**
   * Until when the claim holds (epoch ms), renewed while the command is in flight. Another node
   * takes a SENT/DELIVERED command back into the outbox only once this has passed.
   */
  readonly leaseUntil?: number;
}

export interface CommandQuery {
  readonly tenantId: string;
  readonly deviceId?: string;
  /** Only commands of these devices (a customer user's scope). */
  readonly deviceIds?: readonly string[];
  readonly statuses?: readonly CommandStatus[];
  readonly limit: number;
  readonly offset: number;
}

/** Commands (RPC) and the durable outbox of persistent ones. Lists are newest first. */
export interface CommandStore {
  insertCommand(command: StoredCommand): Promise<void>;
  /**
   * Replaces by id only if the stored version is `command.version - 1` (compare-and-set: the caller
   * bumps it); CONFLICT if it is not (nothing is written), COMMAND_NOT_FOUND if absent.
   */
  updateCommand(command: StoredCommand): Promise<void>;
  getCommand(id: string): Promise<StoredCommand | undefined>;
  listCommands(query: CommandQuery): Promise<Page<StoredCommand>>;
  /** Persistent commands not yet final (QUEUED, SENT, DELIVERED), oldest first; of one device or all. */
  pendingCommands(deviceId?: string): Promise<StoredCommand[]>;
}

/**
 * Integer ids unique across every node sharing the store, handed out in blocks (hi/lo): a node
 * reserves a block with one write and numbers from it in memory (services/ids.ts).
 */
export interface IdStore {
  /**
   * Reserves `count` consecutive ids of the named sequence in one atomic write and resolves with
   * the first. A sequence starts at 1; a block that would pass `max` starts again at 1, so ids are
   * unique among those in use (not forever). Two callers, in one process or in several sharing
   * the store, never get overlapping blocks.
   */
  reserveIds(sequence: string, count: number, max: number): Promise<number>;
}

/** A rule's remembered state for one device (windows, duration start, edge) as opaque JSON. */
export interface RuleStateRecord {
  readonly ruleId: string;
  readonly deviceId: string;
  readonly state: string;
  readonly updatedAt: number;
}

/** Rules and their per-device state, which survives a restart. */
export interface RuleStore {
  /** Inserts or replaces by id. */
  saveRule(rule: Rule): Promise<void>;
  getRule(id: string): Promise<Rule | undefined>;
  /** Rules of one tenant, or of all tenants (engine start), by name. */
  listRules(tenantId?: string): Promise<Rule[]>;
  /** Deletes the rule with all its state; false if there was none. */
  deleteRule(id: string): Promise<boolean>;
  /** Upserts many states in one transaction. */
  saveRuleState(states: readonly RuleStateRecord[]): Promise<void>;
  loadRuleState(ruleId: string, deviceId: string): Promise<RuleStateRecord | undefined>;
  /** Forgets a rule's state for every device (its condition changed). */
  deleteRuleState(ruleId: string): Promise<void>;
}

/** User-composed dashboards, per tenant. */
export interface DashboardStore {
  /** Inserts or replaces by id. */
  saveDashboard(dashboard: Dashboard): Promise<void>;
  getDashboard(id: string): Promise<Dashboard | undefined>;
  /** The tenant's dashboards by name. */
  listDashboards(tenantId: string): Promise<Dashboard[]>;
  /** False if there was none. */
  deleteDashboard(id: string): Promise<boolean>;
}

/** One entry of the append-only audit log: who did what, to what, when, from where. */
export interface AuditEntry {
  readonly id: string;
  readonly ts: number;
  readonly tenantId: string;
  /** A user id, `device:<id>`, `system`, or `anonymous` (a failed sign-in). */
  readonly actor: string;
  /** The actor's email when a user (kept: users may be deleted later). */
  readonly actorName?: string;
  /** A stable dotted name (`auth.login`, `credentials.read`, `edge.config_push`) or `<METHOD> <route>`. */
  readonly action: string;
  readonly outcome: 'success' | 'failure' | 'denied';
  readonly targetType?: string;
  readonly targetId?: string;
  /** The client's address as the server saw it. */
  readonly address?: string;
  /** What changed, secrets redacted, bounded in size. */
  readonly details?: JsonValue;
}

export interface AuditQuery {
  readonly tenantId: string;
  /** Exact action, or a prefix ending in `.` or ` ` (e.g. `auth.`). */
  readonly action?: string;
  readonly actor?: string;
  readonly targetId?: string;
  readonly outcome?: AuditEntry['outcome'];
  /** ts range, both ends inclusive. */
  readonly from?: number;
  readonly to?: number;
  readonly limit: number;
  readonly offset: number;
}

/** The audit log: entries are appended, listed newest first, and only ever removed by age. */
export interface AuditStore {
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  listAudit(query: AuditQuery): Promise<Page<AuditEntry>>;
  /** Removes entries older than `before` (retention); returns how many. */
  pruneAudit(before: number): Promise<number>;
}

/** Everything a storage backend provides; one adapter (sqlite, postgres, memory) implements all. */
export interface Store
  extends RegistryStore,
    CredentialStore,
    TelemetryStore,
    OutboxStore,
    AttributeStore,
    StatusStore,
    UserStore,
    SigninStore,
    AlarmStore,
    CommandStore,
    IdStore,
    RuleStore,
    DashboardStore,
    OtaStore,
    OtaKeyStore,
    OtaDeploymentStore,
    IntegrationStore,
    MqttGrantStore,
    QuotaStore,
    ZoneStore,
    TripStore,
    TenancyStore,
    CustomerStore,
    DeviceGroupStore,
    AuditStore {
  readonly kind: string;
  /**
   * Resolves once the backend answered a trivial query; rejects when it cannot be reached. Only
   * stores on a server implement it (PostgreSQL): an embedded one is reachable while the process
   * runs. /readyz asks it (services/readiness.ts).
   */
  ping?(): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- codecs

/** Turns device payload bytes into canonical points and attribute maps. */
export interface Codec {
  readonly name: string;
  /** Content types this codec answers to (CoAP content-format, HTTP content-type). */
  readonly contentTypes: readonly string[];
  /** `now` stamps points that carry no timestamp. Throws MALFORMED_PAYLOAD. */
  decodeTelemetry(payload: Buffer, now: number): Point[];
  decodeAttributes(payload: Buffer): Record<string, JsonValue>;
}

// ---------------------------------------------------------------- transports

export interface ListeningAddress {
  /** e.g. 'mqtt', 'mqtts', 'mqtt-ws', 'coap', 'http'. */
  readonly name: string;
  readonly protocol: 'tcp' | 'udp';
  readonly host: string;
  readonly port: number;
  readonly url: string;
}

/** A device-facing protocol server. */
export interface Transport {
  readonly name: string;
  start(): Promise<ListeningAddress[]>;
  /** Stops accepting, lets in-flight acknowledgements finish, closes sessions. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------- misc

/** Publishes into a tenant's MQTT topic space (the embedded broker), for rule actions. */
export interface TopicPublisher {
  publish(tenantId: string, topic: string, payload: string | Buffer, options?: { qos?: 0 | 1; retain?: boolean }): void;
}

/** An outgoing SMS: `to` is a phone number ("+4917…"), `from` a number or sender name. */
export interface SmsMessage {
  readonly to: string;
  readonly text: string;
  readonly from?: string;
}

/** Sends SMS (rule action `sms`); the SMPP adapter and an in-memory one implement it. */
export interface SmsSender {
  /** Resolves once the SMSC accepted every part; `messageId` is the first part's SMSC id. */
  send(message: SmsMessage): Promise<{ messageId: string; parts: number }>;
}

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** The subset of pino the core uses, so services do not import a logger library. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: object): Logger;
}
