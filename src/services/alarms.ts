/**
 * Alarms: raised and cleared by rules (AlarmApi), listed, acknowledged and cleared by users.
 * Lifecycle active → acknowledged → cleared (clearing without acknowledging is fine); one open
 * alarm per (device, type), and raising it again counts a repeat on that one. Every change is
 * kept in the alarm's history and announced on the bus (`alarm.<tenant>.<device>`).
 *
 * Every call names its tenant and fails with ALARM_NOT_FOUND / DEVICE_NOT_FOUND for anything of
 * another tenant, so the REST API and rules cannot reach across tenants.
 *
 * Changes are read-modify-write: serialised per (device, type) inside this process, and
 * compare-and-set in the store against other processes (the alarm's version; the open-alarm
 * unique index for a raise), re-read and applied again on conflict (cas.ts). Two nodes raising
 * the same alarm make one alarm with both repeats counted.
 */
import { randomUUID } from 'node:crypto';
import type { Device } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import { subjectFor } from '../domain/subjects.js';
import { MAX_KEY_LENGTH, type JsonValue } from '../domain/telemetry.js';
import type { AlarmEvent, AlarmQuery, AlarmStore, Bus, Clock, Logger, Page } from '../ports.js';
import { casWrite, retryOnConflict } from './cas.js';
import { applySyncedAlarm, edgeAlarmId } from './alarm-sync.js';
import { ALARM_SEVERITIES, type Alarm, type AlarmApi, type AlarmSeverity, type AlarmStatus, type RaiseAlarm, type SyncedAlarm } from '../domain/action-apis.js';

export interface AlarmServiceDeps {
  readonly store: AlarmStore;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The device if it belongs to the tenant, else DEVICE_NOT_FOUND (RegistryService.requireDevice). */
  readonly requireDevice: (deviceId: string, tenantId: string) => Promise<Device>;
}

export interface AlarmFilter {
  readonly deviceId?: string;
  /** Only these devices' alarms (a customer user's scope). */
  readonly deviceIds?: readonly string[];
  readonly statuses?: readonly AlarmStatus[];
  readonly severities?: readonly AlarmSeverity[];
  readonly type?: string;
  readonly from?: number;
  readonly to?: number;
  readonly limit?: number;
  readonly offset?: number;
}

export const DEFAULT_ALARM_PAGE = 100;
export const MAX_ALARM_PAGE = 1000;

export class AlarmService implements AlarmApi {
  /** Changes to one (device, type) run one after another, so two raises never make two alarms. */
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: AlarmServiceDeps) {}

  /** Opens the (device, type) alarm, or counts a repeat on the open one with the new severity and details. */
  async raise(input: RaiseAlarm, by?: string): Promise<Alarm> {
    checkType(input.type);
    if (!ALARM_SEVERITIES.includes(input.severity)) throw new PlatformError('BAD_REQUEST', `unknown alarm severity ${String(input.severity)}`);
    await this.deps.requireDevice(input.deviceId, input.tenantId);
    return this.serial(input.deviceId, input.type, async () => {
      const now = this.deps.clock.now();
      const open = await this.deps.store.findOpenAlarm(input.deviceId, input.type);
      const details = input.details ?? open?.details ?? {};
      if (open) {
        const repeated: Alarm = { ...open, severity: input.severity, details, count: open.count + 1, updatedAt: now, version: open.version + 1 };
        return this.save(repeated, this.event(repeated, 'repeated', now, by, input.details), false);
      }
      const alarm: Alarm = {
        id: randomUUID(),
        tenantId: input.tenantId,
        deviceId: input.deviceId,
        type: input.type,
        severity: input.severity,
        status: 'active',
        count: 1,
        details,
        createdAt: now,
        updatedAt: now,
        version: 1,
      };
      return this.save(alarm, this.event(alarm, 'raised', now, by, input.details), true);
    });
  }

  /** Clears the open alarm of (device, type); undefined when none is open. */
  async clear(input: { tenantId: string; deviceId: string; type: string; details?: JsonValue }, by?: string): Promise<Alarm | undefined> {
    await this.deps.requireDevice(input.deviceId, input.tenantId);
    return this.serial(input.deviceId, input.type, async () => {
      const open = await this.deps.store.findOpenAlarm(input.deviceId, input.type);
      return open ? this.clearOpen(open, by, input.details) : undefined;
    });
  }

  /** An edge gateway's alarm lifecycle (services/alarm-sync.ts); idempotent per (gateway, edge id). */
  async sync(gatewayId: string, input: SyncedAlarm): Promise<Alarm> {
    checkType(input.type);
    if (!ALARM_SEVERITIES.includes(input.severity)) throw new PlatformError('BAD_REQUEST', `unknown alarm severity ${String(input.severity)}`);
    await this.deps.requireDevice(input.deviceId, input.tenantId);
    const id = edgeAlarmId(gatewayId, input.id);
    const deps = { store: this.deps.store, clock: this.deps.clock, save: this.save.bind(this), event: this.event.bind(this) };
    return this.serial(input.deviceId, input.type, () => applySyncedAlarm(deps, input, id, `gateway:${gatewayId}`));
  }

  async get(tenantId: string, id: string): Promise<Alarm> {
    const alarm = await this.deps.store.getAlarm(id);
    if (!alarm || alarm.tenantId !== tenantId) throw new PlatformError('ALARM_NOT_FOUND', id);
    return alarm;
  }

  async list(tenantId: string, filter: AlarmFilter = {}): Promise<Page<Alarm>> {
    if (filter.deviceId !== undefined) await this.deps.requireDevice(filter.deviceId, tenantId);
    const query: AlarmQuery = {
      tenantId,
      ...(filter.deviceId !== undefined ? { deviceId: filter.deviceId } : {}),
      ...(filter.deviceIds !== undefined ? { deviceIds: filter.deviceIds } : {}),
      ...(filter.statuses !== undefined ? { statuses: filter.statuses } : {}),
      ...(filter.severities !== undefined ? { severities: filter.severities } : {}),
      ...(filter.type !== undefined ? { type: filter.type } : {}),
      ...(filter.from !== undefined ? { from: filter.from } : {}),
      ...(filter.to !== undefined ? { to: filter.to } : {}),
      limit: Math.min(filter.limit ?? DEFAULT_ALARM_PAGE, MAX_ALARM_PAGE),
      offset: filter.offset ?? 0,
    };
    return this.deps.store.listAlarms(query);
  }

  /** Acknowledges an active alarm; acknowledging twice is a no-op; a cleared alarm cannot be acknowledged. */
  async acknowledge(tenantId: string, id: string, by?: string): Promise<Alarm> {
    const found = await this.get(tenantId, id);
    return this.serial(found.deviceId, found.type, async () => {
      const alarm = await this.get(tenantId, id);
      if (alarm.status === 'acknowledged') return alarm;
      if (alarm.status === 'cleared') throw new PlatformError('CONFLICT', `alarm ${id} is already cleared`);
      const now = this.deps.clock.now();
      const acked: Alarm = { ...alarm, status: 'acknowledged', acknowledgedAt: now, updatedAt: now, version: alarm.version + 1 };
      return this.save(acked, this.event(acked, 'acknowledged', now, by), false);
    });
  }

  /** Clears by id; clearing a cleared alarm is a no-op. */
  async clearById(tenantId: string, id: string, by?: string): Promise<Alarm> {
    const found = await this.get(tenantId, id);
    return this.serial(found.deviceId, found.type, async () => {
      const alarm = await this.get(tenantId, id);
      return alarm.status === 'cleared' ? alarm : this.clearOpen(alarm, by);
    });
  }

  async history(tenantId: string, id: string): Promise<AlarmEvent[]> {
    await this.get(tenantId, id);
    return this.deps.store.alarmHistory(id);
  }

  private async clearOpen(alarm: Alarm, by: string | undefined, details?: JsonValue): Promise<Alarm> {
    const now = this.deps.clock.now();
    const cleared: Alarm = { ...alarm, status: 'cleared', clearedAt: now, updatedAt: now, version: alarm.version + 1, ...(details !== undefined ? { details } : {}) };
    return this.save(cleared, this.event(cleared, 'cleared', now, by, details), false);
  }

  private event(alarm: Alarm, action: AlarmEvent['action'], ts: number, by?: string, details?: JsonValue): AlarmEvent {
    return { alarmId: alarm.id, ts, action, severity: alarm.severity, ...(by ? { by } : {}), ...(details !== undefined ? { details } : {}) };
  }

  private async save(alarm: Alarm, event: AlarmEvent, isNew: boolean): Promise<Alarm> {
    // A CONFLICT here (another writer changed the alarm, or opened one first) runs the whole
    // read-modify-write again (serial → retryOnConflict).
    await casWrite(isNew ? this.deps.store.insertAlarm(alarm, event) : this.deps.store.updateAlarm(alarm, event));
    // Fire and forget: the change is stored; the event only feeds live views.
    void this.deps.bus.publish('alarm', subjectFor('alarm', alarm.tenantId, alarm.deviceId), {
      tenantId: alarm.tenantId,
      deviceId: alarm.deviceId,
      action: event.action,
      alarm,
    }).catch((err: unknown) => this.deps.logger.warn({ err }, 'bus: publishing an alarm event failed (the alarm is stored)'));
    this.deps.logger.debug({ alarmId: alarm.id, deviceId: alarm.deviceId, type: alarm.type, action: event.action }, 'alarm changed');
    return alarm;
  }

  /** Runs `attempt` after the earlier changes of (device, type) here, again whenever its write lost a race. */
  private serial<T>(deviceId: string, type: string, attempt: () => Promise<T>): Promise<T> {
    const key = `${deviceId}\u0000${type}`;
    const work = (): Promise<T> => retryOnConflict(attempt, `alarm ${type} of ${deviceId}`);
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return next;
  }
}

function checkType(type: string): void {
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_KEY_LENGTH) {
    throw new PlatformError('BAD_REQUEST', `alarm type must be 1..${MAX_KEY_LENGTH} characters`);
  }
}
