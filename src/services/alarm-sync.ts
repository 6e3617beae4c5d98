/**
 * Alarms raised and cleared on an edge gateway, synced when the platform is reachable
 * (docs/EDGE.md "Alarms at the edge"). The edge sends an alarm's whole lifecycle each time it
 * changes (`raisedAt`, and `clearedAt` once cleared) and resends what was not acknowledged, so
 * this is idempotent: the platform's alarm id is derived from the gateway and the edge's id, a
 * lifecycle already stored changes nothing, and one raised and cleared during an outage is
 * stored once with both of the edge's timestamps.
 *
 * The platform keeps one open alarm per (device, type): an edge alarm that arrives open while
 * another of that type is open (a platform rule raised it) counts a repeat on that one, as a
 * raise would.
 */
import { createHash } from 'node:crypto';
import { PlatformError } from '../domain/errors.js';
import type { Alarm, SyncedAlarm } from '../domain/action-apis.js';
import type { AlarmEvent, AlarmStore, Clock } from '../ports.js';

/** Edge clocks drift; a timestamp further ahead of the platform's than this is refused. */
export const MAX_EDGE_CLOCK_AHEAD_MS = 5 * 60_000;

/** The platform id of an edge alarm: a UUID-shaped digest of (gateway, edge id), so no gateway can name another's alarms. */
export function edgeAlarmId(gatewayId: string, edgeId: string): string {
  const h = createHash('sha256').update(`edge-alarm\u0000${gatewayId}\u0000${edgeId}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export interface AlarmSyncDeps {
  readonly store: AlarmStore;
  readonly clock: Clock;
  /** Writes through AlarmService (compare-and-set, bus event). */
  readonly save: (alarm: Alarm, event: AlarmEvent, isNew: boolean) => Promise<Alarm>;
  readonly event: (alarm: Alarm, action: AlarmEvent['action'], ts: number, by?: string, details?: SyncedAlarm['details']) => AlarmEvent;
}

/** Applies one synced lifecycle; runs inside AlarmService's per-(device, type) serialisation. */
export async function applySyncedAlarm(deps: AlarmSyncDeps, input: SyncedAlarm, id: string, by: string): Promise<Alarm> {
  const now = deps.clock.now();
  if (input.raisedAt > now + MAX_EDGE_CLOCK_AHEAD_MS) throw new PlatformError('BAD_REQUEST', 'raisedAt is in the future');
  if (input.clearedAt !== undefined && (input.clearedAt < input.raisedAt || input.clearedAt > now + MAX_EDGE_CLOCK_AHEAD_MS)) throw new PlatformError('BAD_REQUEST', 'clearedAt must lie between raisedAt and now');
  const known = await deps.store.getAlarm(id);
  if (known) {
    if (known.deviceId !== input.deviceId || known.type !== input.type) throw new PlatformError('CONFLICT', `edge alarm ${input.id} was synced for another device or type`);
    if (input.clearedAt === undefined || known.status === 'cleared') return known;
    const cleared: Alarm = { ...known, status: 'cleared', clearedAt: input.clearedAt, updatedAt: now, version: known.version + 1 };
    return deps.save(cleared, deps.event(cleared, 'cleared', input.clearedAt, by), false);
  }
  const details = input.details ?? {};
  if (input.clearedAt === undefined) {
    const open = await deps.store.findOpenAlarm(input.deviceId, input.type);
    if (open) {
      const repeated: Alarm = { ...open, severity: input.severity, details, count: open.count + 1, updatedAt: now, version: open.version + 1 };
      return deps.save(repeated, deps.event(repeated, 'repeated', input.raisedAt, by, input.details), false);
    }
  }
  const raised: Alarm = { id, tenantId: input.tenantId, deviceId: input.deviceId, type: input.type, severity: input.severity, status: 'active', count: 1, details, createdAt: input.raisedAt, updatedAt: now, version: 1 };
  if (input.clearedAt === undefined) return deps.save(raised, deps.event(raised, 'raised', input.raisedAt, by, input.details), true);
  // Raised and cleared while the platform was away: stored cleared from the start (it never
  // held the open slot of its type), with both events in its history.
  const closed: Alarm = { ...raised, status: 'cleared', clearedAt: input.clearedAt };
  await deps.save(closed, deps.event(closed, 'raised', input.raisedAt, by, input.details), true);
  const final: Alarm = { ...closed, version: 2 };
  return deps.save(final, deps.event(final, 'cleared', input.clearedAt, by), false);
}
