/**
 * Bus subjects are `<event>.<tenantId>.<deviceId>`, so a subscriber can narrow to one device
 * (`rpcRequest.*.<id>`), one tenant (`telemetry.<tenant>.*`) or everything (`status.>`).
 * Generic over the event name so the domain needs no port: `Bus.publish` checks that the event
 * is one of BusEvents.
 */
export function subjectFor<E extends string>(event: E, tenantId: string, deviceId: string): `${E}.${string}` {
  return `${event}.${tenantId}.${deviceId}`;
}
