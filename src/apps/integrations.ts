/**
 * Wires the integrations (issue 18): the connectors this build runs, their metrics, and the
 * service that runs them over the bus. Inbound data enters through the device API, as if the
 * device had published it (codec, limits, ingest, acknowledgement after commit).
 */
import type { PrometheusMetrics } from '../adapters/metrics/prometheus.js';
import { createIntegrationMetrics } from '../adapters/metrics/integrations.js';
import { mqttBridgeConnector } from '../adapters/integrations/mqtt-bridge/index.js';
import { natsConnector } from '../adapters/integrations/nats/index.js';
import { amqpConnector } from '../adapters/integrations/amqp/index.js';
import { chirpstackConnector } from '../adapters/integrations/chirpstack/index.js';
import { ttsConnector } from '../adapters/integrations/tts/index.js';
import { fhirConnector } from '../adapters/integrations/fhir/index.js';
import { PlatformError } from '../domain/errors.js';
import type { Bus, Clock, DeviceApi, Logger, Store } from '../ports.js';
import type { PayloadDecoders } from '../ports/payload-decoders.js';
import { IntegrationService } from '../services/integrations/service.js';
import type { OutboundTargets } from '../services/outbound.js';
import type { RegistryService } from '../services/registry.js';

export function createIntegrations(deps: { store: Store; bus: Bus; clock: Clock; logger: Logger; metrics: PrometheusMetrics; registry: RegistryService; deviceApi: DeviceApi; outbound: OutboundTargets; decoders: PayloadDecoders }): IntegrationService {
  const { registry } = deps;
  // The gauges read the service, which is built with the counters: bound once both exist.
  const late: { service?: IntegrationService } = {};
  const metrics = createIntegrationMetrics(deps.metrics.registry, () => late.service);
  const service = new IntegrationService({
    store: deps.store,
    bus: deps.bus,
    clock: deps.clock,
    logger: deps.logger.child({ component: 'integrations' }),
    metrics,
    connectors: [mqttBridgeConnector, natsConnector, amqpConnector, chirpstackConnector, ttsConnector, fhirConnector],
    outbound: deps.outbound,
    getDevice: (id) => deps.registry.getDevice(id),
    inbound: async (tenantId, deviceName, payload) => {
      const device = await deps.registry.findDeviceByName(tenantId, deviceName);
      if (!device) throw new PlatformError('DEVICE_NOT_FOUND', deviceName);
      await deps.deviceApi.publishTelemetry(await deps.registry.identityFor(device), payload, 'mqtt');
    },
    // LoRaWAN network servers (chirpstack, tts): devices of the integration's tenant only.
    lorawan: {
      deviceApi: deps.deviceApi,
      decoders: deps.decoders,
      clock: deps.clock,
      logger: deps.logger.child({ component: 'lorawan' }),
      findDevice: async (tenantId, name) => {
        const device = await registry.findDeviceByName(tenantId, name);
        return device ? registry.identityFor(device) : undefined;
      },
      createDevice: async (tenantId, name, profileId) => registry.identityFor((await registry.createDevice({ tenantId, name, profileId })).device),
      decoderOf: async (profileId) => (await registry.getProfile(profileId))?.decoder,
    },
    profileOfTenant: async (tenantId, profileId) => (await registry.getProfile(profileId))?.tenantId === tenantId,
  });
  late.service = service;
  return service;
}
