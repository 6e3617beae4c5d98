/**
 * The MQTT link both LoRaWAN connectors use (ChirpStack v4's MQTT integration, The Things
 * Stack's MQTT server), on MQTT.js: subscribes to the server's event topics, hands each message,
 * read by the connector's own parser, to the service, and publishes downlinks. A message that
 * cannot be read is reported (counted, logged) and acknowledged: redelivering it would never
 * succeed; one the service refuses is acknowledged too, unless the platform is unavailable.
 */
import mqtt from 'mqtt';
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../../domain/errors.js';
import type { Integration } from '../../domain/integrations.js';
import type { LorawanDownlink, LorawanEvent } from '../../domain/lorawan.js';
import type { IntegrationLink, IntegrationLinkEvents, PinnedHosts } from '../../ports.js';
import { pinnedUrl, withTimeout } from './config.js';

/** Bigger than any uplink event the servers send (a few KB with many gateways), small enough to bound memory. */
export const MAX_EVENT_BYTES = 64 * 1024;

/** Connection settings both LoRaWAN connectors share (their schemas spread these). */
export const LorawanMqttFields = {
  username: Type.Optional(Type.String({ maxLength: 1024 })),
  password: Type.Optional(Type.String({ maxLength: 4096, description: 'never shown back' })),
  clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  keepaliveSeconds: Type.Integer({ minimum: 0, maximum: 65535, default: 30 }),
  reconnectMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 1000 }),
  ackTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000 }),
};

/** Shared binding settings (services/integrations/lorawan.ts acts on them). */
export const LorawanBindingFields = {
  bindBy: Type.Union([Type.Literal('devEui'), Type.Literal('deviceName')], { default: 'devEui', description: 'how a Continuum device is found: named after the DevEUI (lowercase hex) or after the server-side device name/id' }),
  provisionProfileId: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'create unknown devices in this profile' })),
  fPort: Type.Integer({ minimum: 1, maximum: 223, default: 1, description: 'downlink fPort when the encoder names none' }),
  confirmed: Type.Boolean({ default: false, description: 'send downlinks confirmed' }),
};

export interface LorawanMqttOptions {
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  readonly clientId?: string;
  readonly keepaliveSeconds: number;
  readonly reconnectMs: number;
  readonly ackTimeoutMs: number;
  readonly qos: 0 | 1;
  /** Topic filters subscribed to. */
  readonly subscriptions: readonly string[];
  /** The event a message holds; undefined to ignore it (a topic we do not handle); throws when unreadable. */
  parse(topic: string, payload: Buffer): LorawanEvent | undefined;
  /** Where and what a downlink is published. */
  downlinkMessage(downlink: LorawanDownlink): { topic: string; payload: string };
  readonly what: string;
}

export function openLorawanMqtt(integration: Integration, events: IntegrationLinkEvents, pinned: PinnedHosts, o: LorawanMqttOptions): IntegrationLink {
  const target = pinnedUrl(o.url, pinned);
  const client = mqtt.connect(target.url, {
    clientId: o.clientId ?? `continuum-${integration.id}`,
    // A persistent session: the broker keeps QoS 1 events while we are away.
    clean: false,
    keepalive: o.keepaliveSeconds,
    reconnectPeriod: o.reconnectMs,
    connectTimeout: 10_000,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(target.servername ? { servername: target.servername } : {}),
  });
  // Called before the PUBACK: an uplink is acknowledged to the broker once committed.
  client.handleMessage = (packet, callback) => {
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    let event: LorawanEvent | undefined;
    try {
      if (payload.length > MAX_EVENT_BYTES) throw new Error(`event of ${payload.length} bytes (limit ${MAX_EVENT_BYTES})`);
      event = o.parse(packet.topic, payload);
    } catch (err) {
      events.onMalformed?.(err instanceof Error ? err.message : String(err), { topic: packet.topic });
      return callback();
    }
    if (!event || !events.onLorawan) return callback();
    events.onLorawan(event).then(
      () => callback(),
      (err: unknown) => callback(err instanceof PlatformError && err.code === 'UNAVAILABLE' ? err : undefined),
    );
  };
  client.on('connect', (connack) => {
    if (!connack.sessionPresent) client.subscribe([...o.subscriptions], { qos: o.qos });
    events.onConnected();
  });
  client.on('close', () => events.onDisconnected());
  client.on('offline', () => events.onDisconnected());
  client.on('error', (err) => events.onDisconnected(err));
  return {
    // Nothing is exported to a network server: the runner never subscribes this link to events.
    send: () => Promise.resolve(),
    async downlink(d) {
      if (!client.connected) throw new PlatformError('UNAVAILABLE', `${o.what}: not connected`);
      const m = o.downlinkMessage(d);
      await withTimeout(
        new Promise<void>((resolve, reject) => client.publish(m.topic, m.payload, { qos: o.qos }, (err) => (err ? reject(err) : resolve()))),
        o.ackTimeoutMs,
        o.what,
      );
    },
    async close() {
      await client.endAsync(true);
    },
  };
}

/** A topic level built from a server-side id must stay one level (no separators or wildcards). */
export function topicLevel(value: string): string {
  if (value === '' || /[/+#\0]/.test(value)) throw new PlatformError('BAD_REQUEST', `${JSON.stringify(value)} cannot be an MQTT topic level`);
  return value;
}
