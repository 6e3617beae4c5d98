import type { BusEvents } from '../ports.js';

/**
 * Bus subjects are `<event>.<tenantId>.<deviceId>`, so a subscriber can narrow to one device
 * (`rpcRequest.*.<id>`), one tenant (`telemetry.<tenant>.*`) or everything (`status.>`).
 */
export function subjectFor(event: keyof BusEvents, tenantId: string, deviceId: string): string {
  return `${event}.${tenantId}.${deviceId}`;
}
