/**
 * MQTT bridge to another broker (issue 18), on MQTT.js. Out: each exported record is published
 * to the topic its template renders (`plant/{deviceName}/telemetry`), QoS 1 by default, and
 * counts as sent once the remote PUBACKed it (QoS 0: once written). In: the inbound template's
 * `{deviceName}` level becomes a `+` subscription; a message is committed as that device's
 * telemetry before the remote gets its PUBACK (a persistent session, clean: false, keeps what
 * arrives while we are away). MQTT.js reconnects by itself; the runner sends what waited.
 */
import { createSecureContext } from 'node:tls';
import mqtt from 'mqtt';
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../../../domain/errors.js';
import { inboundTopic, renderTemplate, templateVariables, type Integration, type JsonObject } from '../../../domain/integrations.js';
import type { IntegrationConnector, IntegrationLink, IntegrationLinkEvents, PinnedHosts } from '../../../ports.js';
import { checkConfig, pinnedUrl, withTimeout } from '../config.js';

const Template = Type.String({ minLength: 1, maxLength: 1024 });

export const MqttBridgeConfig = Type.Object(
  {
    url: Type.String({ pattern: '^(mqtts?|wss?)://', maxLength: 2048, description: 'mqtt://host:port, mqtts://, ws://, wss://' }),
    direction: Type.Union([Type.Literal('out'), Type.Literal('in'), Type.Literal('both')], { default: 'out' }),
    topic: Type.Optional(Template),
    inTopic: Type.Optional(Template),
    qos: Type.Union([Type.Literal(0), Type.Literal(1), Type.Literal(2)], { default: 1 }),
    retain: Type.Boolean({ default: false }),
    clientId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    username: Type.Optional(Type.String({ maxLength: 1024 })),
    password: Type.Optional(Type.String({ maxLength: 1024 })),
    keepaliveSeconds: Type.Integer({ minimum: 0, maximum: 65535, default: 30 }),
    reconnectMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 1000 }),
    ackTimeoutMs: Type.Integer({ minimum: 100, maximum: 600_000, default: 30_000 }),
    tls: Type.Optional(
      Type.Object(
        {
          ca: Type.Optional(Type.String({ maxLength: 65536, description: 'PEM' })),
          cert: Type.Optional(Type.String({ maxLength: 65536, description: 'client certificate, PEM' })),
          privateKey: Type.Optional(Type.String({ maxLength: 65536, description: 'client key, PEM (never shown back)' })),
          rejectUnauthorized: Type.Boolean({ default: true }),
          servername: Type.Optional(Type.String({ maxLength: 255 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const DEFAULT_OUT_TOPIC = 'continuum/{deviceName}/{event}';

export const mqttBridgeConnector: IntegrationConnector = {
  type: 'mqtt-bridge',
  secretFields: ['password', 'tls.privateKey'],
  validate(raw) {
    const config = checkConfig(MqttBridgeConfig, raw, 'mqtt-bridge');
    const out = config.direction !== 'in';
    const inn = config.direction !== 'out';
    if (inn && !config.inTopic) throw new PlatformError('BAD_REQUEST', 'mqtt-bridge config: direction in needs inTopic (e.g. plant/{deviceName}/telemetry)');
    if (inn) {
      try {
        inboundTopic(config.inTopic as string);
      } catch (err) {
        throw new PlatformError('BAD_REQUEST', `mqtt-bridge config: inTopic: ${(err as Error).message}`);
      }
    }
    if (out) {
      const topic = config.topic ?? DEFAULT_OUT_TOPIC;
      if (/[+#]/.test(topic)) throw new PlatformError('BAD_REQUEST', 'mqtt-bridge config: topic must not contain wildcards');
      if (topic.replace(/\$?\{[a-zA-Z]+\}/g, '').includes('{') || templateVariables(topic).length !== (topic.match(/\{/g) ?? []).length) {
        throw new PlatformError('BAD_REQUEST', 'mqtt-bridge config: topic variables are {tenantId}, {deviceId}, {deviceName}, {event}');
      }
    }
    if (config.tls) {
      // PEM that node:tls cannot read is refused here, not at the first connection attempt.
      try {
        createSecureContext({ ...(config.tls.ca ? { ca: config.tls.ca } : {}), ...(config.tls.cert ? { cert: config.tls.cert } : {}), ...(config.tls.privateKey ? { key: config.tls.privateKey } : {}) });
      } catch (err) {
        throw new PlatformError('BAD_REQUEST', `mqtt-bridge config: tls: ${(err as Error).message}`);
      }
    }
    return config as unknown as JsonObject;
  },
  directions(config) {
    const d = (config as { direction?: string }).direction ?? 'out';
    return { out: d !== 'in', in: d !== 'out' };
  },
  targets: (config) => [new URL((config as { url: string }).url)],
  open(integration, events, pinned) {
    return openLink(integration, events, pinned);
  },
};

type Config = typeof MqttBridgeConfig.static;

function openLink(integration: Integration, events: IntegrationLinkEvents, pinned: PinnedHosts): IntegrationLink {
  const c = integration.config as unknown as Config;
  // Connects (and reconnects) to the address the outbound policy allowed, never to the name again.
  const target = pinnedUrl(c.url, pinned);
  const inbound = c.direction !== 'out' && c.inTopic && events.onInbound ? { ...inboundTopic(c.inTopic), handle: events.onInbound } : undefined;
  const client = mqtt.connect(target.url, {
    clientId: c.clientId ?? `continuum-${integration.id}`,
    // A persistent session when taking data in: the remote keeps QoS ≥ 1 messages while we are away.
    clean: inbound === undefined,
    keepalive: c.keepaliveSeconds,
    reconnectPeriod: c.reconnectMs,
    connectTimeout: 10_000,
    ...(c.username !== undefined ? { username: c.username } : {}),
    ...(c.password !== undefined ? { password: c.password } : {}),
    ...(c.tls
      ? {
          ...(c.tls.ca ? { ca: c.tls.ca } : {}),
          ...(c.tls.cert ? { cert: c.tls.cert } : {}),
          ...(c.tls.privateKey ? { key: c.tls.privateKey } : {}),
          rejectUnauthorized: c.tls.rejectUnauthorized,
          ...(c.tls.servername ?? target.servername ? { servername: c.tls.servername ?? target.servername } : {}),
        }
      : target.servername
        ? { servername: target.servername }
        : {}),
  });
  if (inbound) {
    // Called before the PUBACK: the remote is acknowledged once the telemetry is committed. A
    // message we refuse (unknown device, bad JSON) is acknowledged too (counted as rejected):
    // redelivering it would never succeed. Only "unavailable" leaves it unacknowledged.
    client.handleMessage = (packet, callback) => {
      const name = inbound.deviceName(packet.topic);
      if (name === undefined) return callback();
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      inbound.handle(name, payload).then(
        () => callback(),
        (err: unknown) => callback(err instanceof PlatformError && err.code === 'UNAVAILABLE' ? err : undefined),
      );
    };
  }
  client.on('connect', (connack) => {
    if (inbound && !connack.sessionPresent) client.subscribe(inbound.filter, { qos: c.qos });
    events.onConnected();
  });
  client.on('close', () => events.onDisconnected());
  client.on('offline', () => events.onDisconnected());
  client.on('error', (err) => events.onDisconnected(err));

  const template = c.topic ?? DEFAULT_OUT_TOPIC;
  return {
    async send(records) {
      if (!client.connected) throw new PlatformError('UNAVAILABLE', `mqtt-bridge: not connected to ${c.url}`);
      const publishes = records.map(
        (r) =>
          new Promise<void>((resolve, reject) => {
            const topic = renderTemplate(template, { tenantId: r.tenantId, deviceId: r.deviceId, deviceName: r.deviceName, event: r.event });
            client.publish(topic, r.payload, { qos: c.qos, retain: c.retain }, (err) => (err ? reject(err) : resolve()));
          }),
      );
      await withTimeout(Promise.all(publishes), c.ackTimeoutMs, 'mqtt-bridge');
    },
    async close() {
      await client.endAsync(true);
    },
  };
}
