/**
 * A committed bus event as the records an integration exports: telemetry one record per
 * timestamp (`{ts, values}` with every key of that time, the "JSON containing its keys
 * and values"), other events one record each. Every payload names its tenant, device id and name.
 */
import type { BusEvents } from '../../domain/bus-event-map.js';
import type { ExportEvent, NewExportRecord } from '../../domain/integrations.js';
import type { JsonValue } from '../../domain/telemetry.js';

interface Who {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly deviceName: string;
  readonly now: number;
}

function record(event: ExportEvent, who: Who, ts: number, body: Record<string, unknown>): NewExportRecord {
  const payload = JSON.stringify({ event, tenantId: who.tenantId, deviceId: who.deviceId, deviceName: who.deviceName, ts, ...body });
  return { event, tenantId: who.tenantId, deviceId: who.deviceId, deviceName: who.deviceName, ts, enqueuedAt: who.now, payload };
}

export function telemetryRecords(message: BusEvents['telemetry'], who: Who): NewExportRecord[] {
  const byTs = new Map<number, Record<string, JsonValue>>();
  for (const p of message.points) {
    let values = byTs.get(p.ts);
    if (!values) byTs.set(p.ts, (values = {}));
    values[p.key] = p.value as JsonValue;
  }
  return [...byTs].map(([ts, values]) => record('telemetry', who, ts, { values }));
}

export function attributeRecords(message: BusEvents['attributes'], who: Who): NewExportRecord[] {
  return [record('attributes', who, who.now, { scope: message.scope, values: message.values, ...(message.deleted ? { deleted: message.deleted } : {}) })];
}

export function alarmRecords(message: BusEvents['alarm'], who: Who): NewExportRecord[] {
  return [record('alarm', who, who.now, { action: message.action, alarm: message.alarm })];
}

export function statusRecords(message: BusEvents['status'], who: Who): NewExportRecord[] {
  const { tenantId: _t, deviceId: _d, ...status } = message;
  return [record('status', who, who.now, { status })];
}

export function commandRecords(message: BusEvents['command'], who: Who): NewExportRecord[] {
  return [record('command', who, who.now, { command: message.command })];
}
