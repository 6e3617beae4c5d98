/**
 * ChirpStack v4 (issue 18 item 3): its MQTT integration on the broker the network server
 * publishes to. Events of one application come in (uplinks, joins, device status, downlink
 * acks); commands go out as `command/down`. Binding, decoding and ingest are the service's
 * (services/integrations/lorawan.ts); this folder knows ChirpStack's topics and JSON.
 */
import { Type } from '@sinclair/typebox';
import type { JsonObject } from '../../../domain/integrations.js';
import type { IntegrationConnector } from '../../../ports.js';
import { checkConfig } from '../config.js';
import { LorawanBindingFields, LorawanMqttFields, openLorawanMqtt, topicLevel } from '../lorawan-mqtt.js';
import { chirpstackDownlink, chirpstackFilter, parseChirpstack } from './events.js';

export const ChirpstackConfig = Type.Object(
  {
    url: Type.String({ pattern: '^(mqtts?|wss?)://', maxLength: 2048, description: "the broker ChirpStack's MQTT integration publishes to" }),
    applicationId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$', description: 'ChirpStack application id (UUID)' }),
    qos: Type.Union([Type.Literal(0), Type.Literal(1)], { default: 1 }),
    ...LorawanMqttFields,
    ...LorawanBindingFields,
  },
  { additionalProperties: false },
);
type Config = typeof ChirpstackConfig.static;

export const chirpstackConnector: IntegrationConnector = {
  type: 'chirpstack',
  secretFields: ['password'],
  validate(raw) {
    const config = checkConfig(ChirpstackConfig, raw, 'chirpstack');
    topicLevel(config.applicationId);
    return config as unknown as JsonObject;
  },
  // In: events; the downlinks are not an export of committed events (no buffer, no bus groups).
  directions: () => ({ out: false, in: true }),
  targets: (config) => [new URL((config as unknown as Config).url)],
  lorawan(config) {
    const c = config as unknown as Config;
    return { bindBy: c.bindBy, fPort: c.fPort, confirmed: c.confirmed, ...(c.provisionProfileId !== undefined ? { provisionProfileId: c.provisionProfileId } : {}) };
  },
  open(integration, events, pinned) {
    const c = integration.config as unknown as Config;
    return openLorawanMqtt(integration, events, pinned, {
      ...c,
      subscriptions: [chirpstackFilter(c.applicationId)],
      parse: (topic, payload) => parseChirpstack(c.applicationId, topic, payload),
      downlinkMessage: (d) => chirpstackDownlink(c.applicationId, d),
      what: 'chirpstack',
    });
  },
};
