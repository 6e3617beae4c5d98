/** One Fastify server of the platform (HTTP, and HTTPS when TLS is configured): management API, device API under /api/v1, MQTT over WebSocket at /mqtt. */
import type { FastifyInstance } from 'fastify';
import type { Logger as PinoLogger } from 'pino';
import type { PrometheusMetrics } from '../adapters/metrics/prometheus.js';
import { createHttpDeviceRoutes } from '../adapters/transport/http/index.js';
import type { MqttTransport } from '../adapters/transport/mqtt/index.js';
import { buildHttpApp } from '../api/index.js';
import type { Logger } from '../ports.js';
import type { Config } from './config.js';

export async function buildHttpServer(deps: {
  readonly config: Config;
  readonly apiDeps: Parameters<typeof buildHttpApp>[0];
  readonly pinoLogger: PinoLogger;
  readonly logger: Logger;
  readonly metrics: PrometheusMetrics;
  readonly devices: Parameters<typeof createHttpDeviceRoutes>[0]['deviceApi'];
  readonly mqtt: Pick<MqttTransport, 'acceptWebSocket'>;
  readonly https: { key: Buffer; cert: Buffer } | undefined;
}): Promise<FastifyInstance> {
  const { config, metrics, https } = deps;
  const app = await buildHttpApp(deps.apiDeps, {
    logger: deps.pinoLogger.child({ component: https ? 'https' : 'http' }),
    maxBodyBytes: Math.max(config.limits.maxPayloadBytes, 1024 * 1024),
    https,
    ui: config.web,
    limits: config.http,
    onConnectionRefused: () => metrics.reject(https ? 'https' : 'http', 'CONNECTION_LIMIT'),
  });
  await app.register(createHttpDeviceRoutes({ config, deviceApi: deps.devices, metrics, logger: deps.logger.child({ transport: 'http' }) }), { prefix: '/api/v1' });
  // Upgrades go through Fastify's router (@fastify/websocket, registered by buildHttpApp) so /mqtt
  // and /api/ws share the server; any other upgrade URL is refused by Fastify.
  app.get('/mqtt', { websocket: true, schema: { hide: true } }, (socket) => deps.mqtt.acceptWebSocket(socket));
  return app;
}
