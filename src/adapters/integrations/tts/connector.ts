/**
 * The Things Stack v3 (issue 18 item 3): uplinks and joins from its MQTT server
 * (`v3/{app}@{tenant}/devices/{device}/up|join|down/…`) and/or its webhooks (POST
 * /api/integrations/{id}/tts/uplink with the integration's secret header); downlinks are
 * published to `…/down/push` (MQTT only). Binding, decoding and ingest are the service's.
 */
import { Type } from '@sinclair/typebox';
import { PlatformError } from '../../../domain/errors.js';
import type { JsonObject } from '../../../domain/integrations.js';
import type { IntegrationConnector } from '../../../ports.js';
import { checkConfig } from '../config.js';
import { LorawanBindingFields, LorawanMqttFields, openLorawanMqtt } from '../lorawan-mqtt.js';
import { isTtsId, parseTtsMessage, parseTtsMqtt, ttsAppRef, ttsDownlink, ttsFilters } from './events.js';

const PRIORITIES = ['LOWEST', 'LOW', 'BELOW_NORMAL', 'NORMAL', 'ABOVE_NORMAL', 'HIGH', 'HIGHEST'] as const;

export const TtsConfig = Type.Object(
  {
    url: Type.Optional(Type.String({ pattern: '^(mqtts?|wss?)://', maxLength: 2048, description: 'the MQTT server of The Things Stack; absent: webhooks only (no downlinks)' })),
    applicationId: Type.String({ minLength: 2, maxLength: 36, description: 'TTS application id' }),
    tenantId: Type.Optional(Type.String({ minLength: 2, maxLength: 36, description: 'TTS tenant (Cloud: e.g. ttn); topics and user name become {applicationId}@{tenantId}' })),
    webhookSecret: Type.Optional(Type.String({ minLength: 16, maxLength: 256, description: 'the X-Continuum-Secret header a webhook request must carry (never shown back)' })),
    priority: Type.Union(PRIORITIES.map((p) => Type.Literal(p)), { default: 'NORMAL' }),
    ...LorawanMqttFields,
    ...LorawanBindingFields,
  },
  { additionalProperties: false },
);
type Config = typeof TtsConfig.static;

export const ttsConnector: IntegrationConnector = {
  type: 'tts',
  secretFields: ['password', 'webhookSecret'],
  validate(raw) {
    const config = checkConfig(TtsConfig, raw, 'tts');
    if (!isTtsId(config.applicationId) || (config.tenantId !== undefined && !isTtsId(config.tenantId))) {
      throw new PlatformError('BAD_REQUEST', 'tts config: ids are lowercase letters, digits and single dashes');
    }
    if (config.url === undefined && config.webhookSecret === undefined) throw new PlatformError('BAD_REQUEST', 'tts config: give url (MQTT server), webhookSecret (webhooks) or both');
    return config as unknown as JsonObject;
  },
  directions: () => ({ out: false, in: true }),
  targets: (config) => {
    const url = (config as unknown as Config).url;
    return url === undefined ? [] : [new URL(url)];
  },
  lorawan(config) {
    const c = config as unknown as Config;
    return { bindBy: c.bindBy, fPort: c.fPort, confirmed: c.confirmed, ...(c.provisionProfileId !== undefined ? { provisionProfileId: c.provisionProfileId } : {}) };
  },
  webhook: {
    secret: (config) => (config as unknown as Config).webhookSecret,
    parse(config, body) {
      try {
        const event = parseTtsMessage((config as unknown as Config).applicationId, body);
        return event ? [event] : [];
      } catch (err) {
        throw new PlatformError('MALFORMED_PAYLOAD', `tts webhook: ${(err as Error).message}`);
      }
    },
  },
  open(integration, events, pinned) {
    const c = integration.config as unknown as Config;
    if (c.url === undefined) {
      // Webhooks only: nothing to connect to, and nowhere to send downlinks.
      queueMicrotask(() => events.onConnected());
      return { send: () => Promise.resolve(), close: () => Promise.resolve() };
    }
    const appRef = ttsAppRef(c.applicationId, c.tenantId);
    return openLorawanMqtt(integration, events, pinned, {
      ...c,
      url: c.url,
      username: c.username ?? appRef,
      // The MQTT server supports QoS 0 only.
      qos: 0,
      subscriptions: ttsFilters(appRef),
      parse: (topic, payload) => parseTtsMqtt(appRef, c.applicationId, topic, payload),
      downlinkMessage: (d) => ttsDownlink(appRef, c.priority, d),
      what: 'tts',
    });
  },
};
