/**
 * The MQTT device transport: our broker (broker.ts) on TCP and, with a certificate, TLS; WebSocket
 * connections are handed over by the HTTP server through `acceptWebSocket`.
 *
 * Profiles (config `mqtt.profile`): `default` authenticates devices through the DeviceApi and keeps
 * each tenant in its own topic space; `conformance` admits anonymous clients into one open space for
 * conformance suites only. See docs/MQTT.md.
 */
import type { WebSocket } from 'ws';
import type { BrokerStateStore, ListeningAddress, Logger, MqttClusterLink, Transport } from '../../../ports.js';
import type { DeviceApi, TransportMetrics } from '../../../ports/device-api.js';
import { conformancePolicy, platformPolicy, type PlatformPolicyOptions } from './auth.js';
import { MqttBroker, type BrokerOptions } from './broker.js';
import type { Interceptor } from './interceptor.js';
import { reauthorizeSpace, revokeSpace } from './reauthorize.js';
import { acceptWebSocket, closeServer, listen, type Listener } from './listeners.js';

export { MqttBroker } from './broker.js';
export type { BrokerOptions } from './broker.js';
export { PASS, type ClientInterceptor, type ClientLink, type InterceptedPublish, type Interceptor } from './interceptor.js';
export { deviceApiInterceptor, type DeviceApiInterceptorOptions } from './device-api-bridge.js';
export { APIKEY_USERNAME, conformancePolicy, platformPolicy, deviceNamespace, type AppIdentity, type AuthPolicy, type Principal } from './auth.js';
export { selectMqttSubprotocol } from './listeners.js';

/** The conformance suites expect this Server Keep Alive (Paho test_server_keep_alive). */
const CONFORMANCE_KEEP_ALIVE = 60;

const noopMetrics: TransportMetrics = { messageIn: () => {}, messageOut: () => {}, reject: () => {}, connections: () => {} };

/**
 * The settings this transport reads. The app's Config has this shape, so the composition root
 * passes it as is; the adapter itself never imports the app.
 */
export interface MqttSettings {
  readonly host: string;
  readonly mqtt: {
    readonly port: number;
    readonly tlsPort: number;
    readonly profile: 'default' | 'conformance';
    readonly maxKeepAlive: number;
    readonly maxQueuedMessages: number;
    readonly maxSessions: number;
    readonly connectTimeoutMs: number;
    readonly maxConnectBytes: number;
    readonly maxConnections: number;
    readonly maxConnectionsPerListener: number;
    readonly maxRetainedPerClient: number;
    readonly maxRetainedBytesPerClient: number;
    readonly maxRetainedTotal: number;
    readonly maxRetainedBytesTotal: number;
  };
  readonly limits: { readonly maxPayloadBytes: number };
  readonly tls: { readonly cert?: string; readonly key?: string; readonly ca?: string; readonly crl?: string; readonly authByCa: boolean };
}

export interface MqttTransportOptions {
  readonly config: MqttSettings;
  /** The settings to name when a port cannot be bound (default the CLI flags). */
  readonly portSettings?: { readonly mqtt?: string; readonly mqtts?: string };
  /** Authenticates devices (platform profile). */
  readonly deviceApi?: DeviceApi;
  /**
   * The broker's pipeline, in order (the composition root builds it: `[sparkplug, deviceApi]`).
   * Ignored in the conformance profile, which serves plain MQTT only.
   */
  readonly interceptors?: readonly Interceptor[];
  readonly metrics?: TransportMetrics;
  readonly logger: Logger;
  /** Replaces the device ACL (default: a device's own namespace plus its grants). */
  readonly authorize?: PlatformPolicyOptions['authorize'];
  /** A device's device-to-device grants, compiled at CONNECT (services/mqtt-grants.ts). */
  readonly grants?: PlatformPolicyOptions['grants'];
  /** Applications connecting with an API key (user name `apikey`). */
  readonly authenticateApp?: PlatformPolicyOptions['authenticateApp'];
  /** Where persistent sessions and retained messages survive a restart; none: memory only. */
  readonly state?: BrokerStateStore;
  /** The other nodes of a cluster: session takeover and routing across nodes (ports/mqtt-cluster.ts); none: one node. */
  readonly cluster?: MqttClusterLink;
  /** Broker settings that have no config key (standalone runs, tests). */
  readonly tuning?: Pick<BrokerOptions, 'receiveMaximum' | 'topicAliasMaximum' | 'connectTimeoutMs'>;
}

export type MqttTransport = Transport & {
  readonly broker: MqttBroker;
  acceptWebSocket(ws: WebSocket): void;
  /** A tenant's grants changed: recompile its connections' grants and drop subscriptions no longer allowed (how many). */
  reauthorize(tenantId: string): Promise<number>;
  /** A tenant was suspended (`forget` false) or deleted (true): its clients are disconnected; how many. */
  revokeTenant(tenantId: string, why: string, forget: boolean): number;
};

export function createMqttTransport(opts: MqttTransportOptions): MqttTransport {
  const { config, deviceApi, logger } = opts;
  const metrics = opts.metrics ?? noopMetrics;
  const conformance = config.mqtt.profile === 'conformance';
  const broker = new MqttBroker({
    logger,
    metrics,
    policy: conformance ? conformancePolicy() : platformPolicy({ deviceApi, authorize: opts.authorize, grants: opts.grants, authenticateApp: opts.authenticateApp, authByCa: config.tls.authByCa }),
    interceptors: conformance ? [] : (opts.interceptors ?? []),
    maxKeepAlive: conformance && config.mqtt.maxKeepAlive === 0 ? CONFORMANCE_KEEP_ALIVE : config.mqtt.maxKeepAlive,
    maxQueuedMessages: config.mqtt.maxQueuedMessages,
    maxSessions: config.mqtt.maxSessions,
    maxPayloadBytes: config.limits.maxPayloadBytes,
    connectTimeoutMs: config.mqtt.connectTimeoutMs,
    maxConnectBytes: config.mqtt.maxConnectBytes,
    maxConnections: config.mqtt.maxConnections,
    retained: {
      maxPerClient: config.mqtt.maxRetainedPerClient,
      maxBytesPerClient: config.mqtt.maxRetainedBytesPerClient,
      maxTotal: config.mqtt.maxRetainedTotal,
      maxBytesTotal: config.mqtt.maxRetainedBytesTotal,
    },
    ...(opts.state ? { state: opts.state } : {}),
    ...(opts.cluster && !conformance ? { cluster: opts.cluster } : {}),
    ...opts.tuning,
  });
  let listeners: Listener[] = [];

  return {
    name: 'mqtt',
    broker,

    async start(): Promise<ListeningAddress[]> {
      if (conformance) logger.warn({ profile: 'conformance' }, 'MQTT conformance profile: anonymous clients, one open topic space; never use in production');
      if (!conformance && !deviceApi) logger.warn({}, 'MQTT without a device API: every CONNECT will be refused');
      // Sessions and retained messages of the last run are back before the first client connects.
      await broker.restore();
      const started: Listener[] = [];
      try {
        const maxConnections = config.mqtt.maxConnectionsPerListener;
        started.push(await listen(broker, { name: 'mqtt', host: config.host, port: config.mqtt.port, flag: opts.portSettings?.mqtt ?? '--mqtt-port', maxConnections }));
        const { cert, key, ca, crl } = config.tls;
        if (cert && key) {
          const tls = { cert, key, ca, crl };
          started.push(await listen(broker, { name: 'mqtts', host: config.host, port: config.mqtt.tlsPort, flag: opts.portSettings?.mqtts ?? '--mqtts-port', tls, maxConnections }));
        }
      } catch (err) {
        await Promise.all(started.map((l) => closeServer(l.server)));
        throw err;
      }
      listeners = started;
      for (const l of started) logger.info({ url: l.address.url }, 'mqtt listening');
      return started.map((l) => l.address);
    },

    async stop(): Promise<void> {
      const closing = listeners.map((l) => closeServer(l.server));
      listeners = [];
      await broker.close();
      await Promise.all(closing);
    },

    acceptWebSocket(ws: WebSocket): void {
      acceptWebSocket(broker, ws);
    },

    reauthorize(tenantId: string): Promise<number> {
      return reauthorizeSpace(broker, tenantId);
    },

    revokeTenant(tenantId: string, why: string, forget: boolean): number {
      return revokeSpace(broker, tenantId, why, forget);
    },
  };
}
