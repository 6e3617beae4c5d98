/**
 * Integrations (issue 18): connections that carry a tenant's committed data to another system
 * (MQTT bridge, NATS JetStream, RabbitMQ, a FHIR R4 server) or bring data in (MQTT bridge, direction in). Pure
 * types and the topic templates both directions use; the connectors are adapters
 * (adapters/integrations/<type>/), the runner is services/integrations/.
 */
import type { JsonValue } from './telemetry.js';

export type JsonObject = { [key: string]: JsonValue };

/**
 * The integration types this build runs. Kafka is documented (docs/INTEGRATIONS.md), not built.
 * `chirpstack` and `tts` are LoRaWAN network servers (domain/lorawan.ts): data in, downlinks out.
 */
export const INTEGRATION_TYPES = ['mqtt-bridge', 'nats', 'amqp', 'chirpstack', 'tts', 'fhir'] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

/** The committed events an integration may export (the bus events of the same names). */
export const EXPORT_EVENTS = ['telemetry', 'attributes', 'alarm', 'status', 'command'] as const;
export type ExportEvent = (typeof EXPORT_EVENTS)[number];

/** Which events leave: by event type, device id and device profile id (absent: all). */
export interface ExportFilter {
  readonly events?: readonly ExportEvent[];
  readonly devices?: readonly string[];
  readonly profiles?: readonly string[];
}

export interface Integration {
  readonly id: string;
  /** Every integration belongs to one tenant and sees only that tenant's data. */
  readonly tenantId: string;
  readonly type: IntegrationType;
  readonly name: string;
  readonly enabled: boolean;
  /** The connector's own settings, checked by the connector when created (secrets included). */
  readonly config: JsonObject;
  readonly filter: ExportFilter;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/**
 * One exported event as it waits in the integration's durable buffer and goes on the wire.
 * `seq` orders the buffer (the persisted cursor is "everything up to seq was acknowledged by
 * the remote"); `payload` is the JSON text sent.
 */
export interface ExportRecord {
  readonly seq: number;
  readonly event: ExportEvent;
  readonly tenantId: string;
  readonly deviceId: string;
  readonly deviceName: string;
  /** When the event happened (the point's time for telemetry). */
  readonly ts: number;
  /** When it entered the buffer: the lag of the oldest unsent record is now − this. */
  readonly enqueuedAt: number;
  readonly payload: string;
}

export type NewExportRecord = Omit<ExportRecord, 'seq'>;

export function passesFilter(filter: ExportFilter, event: ExportEvent, deviceId: string, profileId: string | undefined): boolean {
  if (filter.events && !filter.events.includes(event)) return false;
  if (filter.devices && !filter.devices.includes(deviceId)) return false;
  if (filter.profiles && (profileId === undefined || !filter.profiles.includes(profileId))) return false;
  return true;
}

/** The variables a topic/subject/routing-key template may use. */
export interface TemplateVars {
  readonly tenantId: string;
  readonly deviceId: string;
  readonly deviceName: string;
  readonly event: string;
}

const VAR = /\$?\{(tenantId|tenant|deviceId|deviceName|event)\}/g;

/** Names in templates: `{deviceName}` and `${deviceName}` both work (the contract uses the latter). */
export function templateVariables(template: string): string[] {
  return [...template.matchAll(VAR)].map((m) => (m[1] === 'tenant' ? 'tenantId' : (m[1] as string)));
}

/**
 * Renders a template. Values come from device names (untrusted): characters that would change
 * the meaning of a topic or subject level (`/ + # . * >`, whitespace, NUL) become `_`, so a name
 * can never add a level or a wildcard.
 */
export function renderTemplate(template: string, vars: TemplateVars): string {
  return template.replace(VAR, (_m, name: string) => {
    const value = name === 'tenant' ? vars.tenantId : vars[name as keyof TemplateVars];
    return value.replace(/[/+#.*>\s\0]/g, '_') || '_';
  });
}

/**
 * An inbound MQTT topic template (`plant/{deviceName}/telemetry`) as the filter subscribed to
 * (`plant/+/telemetry`) and a matcher returning the device name of a topic (undefined: not ours).
 * Each variable must fill a whole level.
 */
export function inboundTopic(template: string): { filter: string; deviceName: (topic: string) => string | undefined } {
  const levels = template.split('/');
  const index = levels.findIndex((l) => /^\$?\{deviceName\}$/.test(l));
  if (index < 0) throw new Error('an inbound topic needs a {deviceName} level');
  if (levels.some((l, i) => i !== index && (l.includes('{') || l.includes('#') || l.includes('+')))) throw new Error('an inbound topic has one variable, {deviceName}, and no wildcards');
  const filter = levels.map((l, i) => (i === index ? '+' : l)).join('/');
  return {
    filter,
    deviceName: (topic) => {
      const parts = topic.split('/');
      if (parts.length !== levels.length) return undefined;
      for (let i = 0; i < levels.length; i++) if (i !== index && parts[i] !== levels[i]) return undefined;
      return parts[index] || undefined;
    },
  };
}
