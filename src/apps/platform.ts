/**
 * Composition root of the embedded deployment: picks one implementation of each port from the
 * config, builds the services, starts the transports. Nothing else in the code base constructs
 * adapters.
 */
import { PlatformError } from '../domain/errors.js';
import { rmSync, readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { join, resolve } from 'node:path';
import { createRootLogger, logFormat } from './log-output.js';
import type { Config } from './config.js';
import { secureDataDir } from './data-dir.js';
import { DEFAULT_TENANT_ID } from '../domain/device.js';
import { createBus } from './bus.js';
import { closeServer, explainListenError, portsOf, writePortsFile } from './listeners.js';
import { systemClock, type BrokerStateStore, type Bus, type ListeningAddress, type Logger, type Presence, type Store, type Transport } from '../ports.js';
import { CodecRegistry } from '../services/codec-registry.js';
import { RawPayloads } from '../services/raw-payloads.js';
import { DownlinkEncoder } from '../services/downlinks.js';
import type { PayloadDecoders } from '../ports/payload-decoders.js';
import { WorkerQuickJsDecoders } from '../adapters/decoders/quickjs/worker-decoders.js';
import { NO_PAYLOAD_DECODERS } from '../adapters/decoders/none/none-decoders.js';
import { BUILTIN_CODECS } from '../adapters/codec/builtin.js';
import { openStore } from './open-store.js';
import { BusMqttClusterLink } from '../services/mqtt-cluster.js';
import { createPrometheusMetrics } from '../adapters/metrics/prometheus.js';
import { createMqttTransport, deviceApiInterceptor } from '../adapters/transport/mqtt/index.js';
import { sparkplugInterceptor } from '../adapters/transport/sparkplug/index.js';
import { createCoapTransport } from '../adapters/transport/coap/index.js';
import { buildHttpServer } from './http-server.js';
import { TenantStatusCache } from '../services/tenant-status.js';
import { TenantService } from '../services/tenants.js';
import { AlarmService } from '../services/alarms.js';
import { AttributeService } from '../services/attributes.js';
import { CustomerService } from '../services/customers.js';
import { DeviceGroupService } from '../services/device-groups.js';
import { registerGauges } from './platform-gauges.js';
import { EventLog } from '../services/event-log.js';
import { AuditService } from '../services/audit.js';
import { createBackgroundJobs } from './background-jobs.js';
import { lockDataDir } from './data-dir-lock.js';
import { AuthService } from '../services/auth.js';
import { USER_SCRYPT_COST } from '../services/auth-secrets.js';
import { CommandService } from '../services/commands.js';
import { DeviceService } from '../services/device-service.js';
import { GatewayService } from '../services/gateway.js';
import { IngestService } from '../services/ingest.js';
import { OutboxRelay } from '../services/outbox-relay.js';
import { LiveService } from '../services/live.js';
import { RegistryService, TokenHasher } from '../services/registry.js';
import { deviceAuthLimits } from './service-options.js';
import { loadCredentialKey } from './credential-key.js';
import { createOidcSignin } from './oidc.js';
import { RpcService } from '../services/rpc.js';
import { IdAllocator, RPC_ID_SEQUENCE } from '../services/ids.js';
import { Reachability } from '../services/reachability.js';
import { loadNodeId } from './node-id.js';
import { SessionHub } from '../services/sessions.js';
import { StatusService } from '../services/status.js';
import { TelemetryQueryService } from '../services/telemetry-query.js';
import { TwinService } from '../services/twin.js';
import { createRules } from '../services/rules/index.js';
import { createRuleCluster } from './rule-cluster.js';
import { ZoneService } from '../services/zones.js';
import { TripService } from '../services/trips.js';
import { createRuleMetrics } from '../adapters/metrics/rules.js';
import { createSmtpSender } from '../adapters/notify/smtp/index.js';
import { createSmppSender } from '../adapters/notify/smpp/index.js';
import { createOutboundMetrics } from '../adapters/metrics/outbound.js';
import { createNodeOutboundNetwork } from '../adapters/outbound/node/index.js';
import { OutboundPolicy } from '../domain/outbound/policy.js';
import { OutboundService } from '../services/outbound.js';
import { createIntegrations } from './integrations.js';
import { createMqttAccess } from './mqtt-access.js';
import { QuotaService } from '../services/quotas.js';
import { createQuotaMetrics } from '../adapters/metrics/quotas.js';
import { createOta } from './ota-wiring.js';
import { createClusterOps, nodeGoneHandler } from './cluster-wiring.js';
import { heartbeatInfo } from '../services/cluster-view.js';
import type { Platform, PlatformOptions } from './platform-handle.js';

export type { Platform, PlatformOptions } from './platform-handle.js';

export async function startPlatform(config: Config, options: PlatformOptions = {}): Promise<Platform> {
  const clock = options.clock ?? systemClock;
  const pinoLogger = createRootLogger(config.log.level, logFormat(process.env, process.stdout.isTTY === true));
  const logger: Logger = options.logger ?? pinoLogger;
  // Before anything touches the data dir: a second server on it is refused here, with one line.
  const dataDirLock = lockDataDir(resolve(config.dataDir));
  // A ports.json from an earlier run must not be mistaken for this run's (removed only once the
  // data dir is ours: a refused second start must not remove the running server's).
  rmSync(join(resolve(config.dataDir), 'ports.json'), { force: true });
  let store: Store;
  let brokerState: BrokerStateStore;
  let tokens: TokenHasher;
  let credentialKey: Buffer | undefined;
  let bus: Bus;
  let presence: Presence;
  let closeShared: () => Promise<void>;
  try {
    bus = await createBus(config.bus, logger.child({ component: 'bus' })); // first: a bus that cannot be built (or reached) refuses the start before the store opens
  } catch (err) {
    dataDirLock.release();
    throw err;
  }
  try {
    credentialKey = loadCredentialKey(config);
    tokens = new TokenHasher(credentialKey);
    ({ store, brokerState, presence, closeShared } = await openStore(config, logger, tokens, clock));
  } catch (err) {
    await bus.close(); // a NATS connection left open would keep the process alive
    dataDirLock.release();
    throw err;
  }
  let nodeId: string;
  try {
    secureDataDir(config.dataDir, logger);
    nodeId = loadNodeId(config);
    logger.info({ nodeId }, 'node identity');
  } catch (err) {
    await store.close();
    await closeShared();
    await bus.close();
    dataDirLock.release();
    throw err;
  }
  const metrics = createPrometheusMetrics();
  const codecs = new CodecRegistry(BUILTIN_CODECS);
  const decoders: PayloadDecoders = config.decoders.enabled
    ? new WorkerQuickJsDecoders({
        timeLimitMs: config.decoders.timeLimitMs,
        memoryLimitBytes: config.decoders.memoryLimitBytes,
        workers: config.decoders.workers,
        logger: logger.child({ component: 'decoders' }),
      })
    : NO_PAYLOAD_DECODERS;

  // Suspended tenants, in memory: device authentication asks it on every connect and HTTP request.
  const tenantStatus = new TenantStatusCache(store);
  // Tenant quotas (issue 15): limits cached in memory, checked at ingest and at device/rule creation.
  const quotas = new QuotaService({ store, clock, logger: logger.child({ component: 'quotas' }), metrics: createQuotaMetrics(metrics.registry), defaults: config.tenants.defaultQuotas });
  const registry = new RegistryService({ store, clock, logger, codecNames: codecs.names, decoders, tokens, metrics, deviceAuthLimits: deviceAuthLimits(config), deviceQuota: quotas, tenantStatus });
  try {
    await registry.init();
    await tenantStatus.start(logger);
  } catch (err) {
    await store.close(); // e.g. a credential key that does not match the database
    await closeShared();
    await bus.close();
    throw err;
  }
  const audit = new AuditService({ store, clock, logger: logger.child({ component: 'audit' }), retentionDays: config.audit.retentionDays });
  const jobs = createBackgroundJobs({ config, store, clock, logger, metrics });
  const auth = new AuthService({
    store,
    clock,
    logger: logger.child({ component: 'auth' }),
    jwtTtlSeconds: config.auth.jwtTtlSeconds,
    passwords: { cost: config.auth.passwordHashCost, concurrency: config.auth.passwordHashConcurrency },
    loginThrottle: { account: { maxFailures: config.auth.loginMaxFailures }, address: { maxFailures: config.auth.loginMaxFailuresPerAddress } },
    audit,
    ...(credentialKey ? { credentialKey } : {}),
    tenantStatus,
  });
  const oidc = createOidcSignin(config, { store, auth, clock, logger: logger.child({ component: 'oidc' }) });
  const tenants = new TenantService({ store, clock, logger: logger.child({ component: 'tenants' }), status: tenantStatus, users: auth.users });
  try {
    await auth.checkFirstAdmin({ email: config.auth.adminEmail, password: config.auth.adminPassword });
  } catch (err) {
    await store.close();
    await closeShared();
    await bus.close();
    dataDirLock.release();
    throw err;
  }
  if (config.auth.passwordHashCost < USER_SCRYPT_COST) {
    logger.warn({ passwordHashCost: config.auth.passwordHashCost, recommended: USER_SCRYPT_COST }, 'auth.passwordHashCost is below the recommended minimum for production');
  }

  const status = new StatusService({
    store,
    bus,
    clock,
    logger,
    inactivityTimeoutMs: 10 * 60_000,
    flushIntervalMs: 5_000,
    presence,
    gatewayOf: async (id) => (await registry.locateChild(id))?.gatewayId,
    nodeId,
  });
  status.start();
  const attributes = new AttributeService({ store, bus, clock, limits: config.limits });
  const reachability = new Reachability({ presence, isLocallyOnline: (id) => status.isDeviceOnline(id) });
  // Commands to devices whose profile encodes downlinks go out as the encoder's bytes.
  const downlinks = new DownlinkEncoder({
    decoders,
    decoderOf: async (deviceId) => {
      const device = await registry.getDevice(deviceId);
      const source = device ? (await registry.getProfile(device.profileId))?.decoder : undefined;
      return device && source !== undefined ? { profileId: device.profileId, source } : undefined;
    },
  });
  const rpc = new RpcService({
    bus,
    clock,
    logger,
    defaultTimeoutMs: config.rpc.defaultTimeoutMs,
    nodeId,
    ids: new IdAllocator(store, RPC_ID_SEQUENCE),
    isOnline: (id) => reachability.isOnline(id),
    holder: (id) => reachability.holder(id),
    encodeDownlink: (req) => downlinks.encode(req),
  });
  // The ingest → rules handoff goes through the store's outbox (services/outbox-relay.ts).
  const outbox = new OutboxRelay({ store, bus, logger: logger.child({ component: 'outbox' }) });
  registerGauges(metrics, { store, status, outbox, nodeId });
  const ingest = new IngestService({
    store,
    bus,
    outbox,
    clock,
    logger,
    metrics,
    limits: config.limits,
    maxBatchRows: config.ingest.maxBatchRows,
    quotas,
    onCommitted: (identity, transport) => status.activity(identity.tenantId, identity.deviceId, transport),
  });
  const twin = new TwinService({ attributes, lastDisconnect: (id) => status.lastDisconnect(id) });
  const sessions = new SessionHub({
    bus,
    clock,
    logger,
    status,
    locateChild: (id) => registry.locateChild(id),
    catchUpShared: (identity) => twin.catchUp(identity),
    presence,
    nodeId,
  });
  const requireDevice = (id: string, tenantId: string) => registry.requireDevice(id, tenantId);
  const alarms = new AlarmService({ store, bus, clock, logger: logger.child({ component: 'alarms' }), requireDevice });
  const commands = new CommandService({
    store,
    bus,
    clock,
    logger: logger.child({ component: 'commands' }),
    rpc,
    isOnline: (id) => reachability.isOnline(id),
    requireDevice,
    nodeId,
    defaultTimeoutMs: config.rpc.defaultTimeoutMs,
  });
  // Info lines an operator reads: connects, alarms, commands (services/event-log.ts).
  const eventLog = new EventLog({ bus, clock, logger });
  const live = new LiveService({
    bus,
    clock,
    logger,
    requireDevice,
    getDevice: (id) => registry.getDevice(id),
    getProfile: (id) => registry.getProfile(id),
  });
  // OTA (apps/ota-wiring.ts); external package URLs pass the outbound policy built below (used only at upload).
  const ota = createOta({ config, store, bus, clock, logger, audit, registry, attributes, requireDevice, checkUrl: (url) => outbound.checkUrl(url) });
  const { devices: otaDevices, rollouts } = ota;
  const devices = new DeviceService({
    registry,
    ingest,
    attributes,
    rpc,
    sessions,
    codecs,
    bus,
    clock,
    logger,
    metrics,
    maxPayloadBytes: config.limits.maxPayloadBytes,
    limits: config.limits,
    ota: otaDevices,
    raw: new RawPayloads({
      decoders,
      decoderOf: async (profileId) => (await registry.getProfile(profileId))?.decoder,
      json: codecs.resolve('json'),
      logger,
      decoderFailure: (transport) => metrics.decoderFailure(transport),
    }),
  });
  // The gateway API is a peer of the device API: its own service over the same registry, ingest and sessions.
  const gateways = new GatewayService({ registry, ingest, attributes, sessions, clock, logger, metrics, devices, gatewayLimits: config.gateway, limits: config.limits, alarms });
  const telemetry = new TelemetryQueryService({ store, registry });
  // Rules consume the bus after commit (ingest never waits for them) and act through the services above.
  const smtp = config.notify.smtp;
  // Binds to the SMSC now, so a wrong password shows in the log at startup rather than at the first SMS.
  const smpp = config.notify.smpp.enabled ? createSmppSender({ ...config.notify.smpp, logger }) : undefined;
  const network = createNodeOutboundNetwork();
  const outbound = new OutboundService({
    network,
    // Late-bound: the listeners are bound below; until then no rule runs.
    policy: new OutboundPolicy({ allow: config.outbound.allow, ownPorts: () => addresses.map((a) => a.port), isLocalAddress: (a) => network.isLocalAddress(a) }),
    logger: logger.child({ component: 'outbound' }),
    metrics: createOutboundMetrics(metrics.registry),
  });
  // Bridges and streams (issue 18): committed events out, remote telemetry in through the device
  // API; every host they connect to passes the outbound policy the webhooks pass.
  const integrations = createIntegrations({ store, bus, clock, logger, metrics, registry, deviceApi: devices, outbound, decoders });
  // Customers and device groups (issue 15): who sees what, and groups as targets of bulk actions.
  const customers = new CustomerService({ store, clock });
  const groups = new DeviceGroupService({
    store,
    clock,
    logger: logger.child({ component: 'groups' }),
    sendCommand: async (input) => commands.send(input),
    setShared: (tenantId, deviceId, values) => attributes.set(tenantId, deviceId, 'shared', values),
  });
  // Dynamic groups follow attribute changes: their cached memberships are resolved again.
  const stopGroupRefresh = bus.subscribe('attributes', 'attributes.>', () => groups.attributesChanged());
  // A cluster node (NATS bus + PostgreSQL store): the rule engine works on the partitions this node owns.
  // Late-bound: the MQTT transport is built below; membership reports gone nodes only after start.
  const nodeGone = nodeGoneHandler({ nodeId, presence, broker: () => mqtt.broker, logger });
  const ruleCluster = createRuleCluster({ config, store, bus, nodeId, logger, metrics, onNodeGone: async (gone) => void (await nodeGone(gone)), info: () => heartbeatInfo(addresses, ready, clock.now()) });
  const rules = createRules({
    // Membership, leases and cluster status run on every cluster node; the engine uses the leases only when asked (config-schema.ts).
    ...(ruleCluster && config.cluster.rulePartitions ? { cluster: ruleCluster.deps } : {}),
    store,
    registry,
    groups,
    bus,
    clock,
    logger,
    statuses: status,
    metrics: createRuleMetrics(metrics.registry),
    quota: quotas,
    actionDeps: {
      alarms,
      commands,
      attributes,
      devices: { idByName: async (tenantId, name) => (await registry.findDeviceByName(tenantId, name))?.id },
      telemetry: { write: async (tenantId, deviceId, points) => ingest.ingest(await registry.identityFor(await registry.requireDevice(deviceId, tenantId)), points) },
      // Late-bound: the MQTT transport is built below; rules act only after start.
      topics: { publish: (tenantId, topic, payload, opts) => mqtt.broker.publish(tenantId, topic, payload, opts) },
      ...(smtp.host ? { email: createSmtpSender({ ...smtp, host: smtp.host, from: smtp.from ?? `continuum@${smtp.host}`, ...(smtp.ca ? { ca: readFileSync(smtp.ca) } : {}) }) } : {}),
      ...(smpp ? { sms: smpp } : {}),
      outbound,
    },
  });

  let ready = false;
  /** Filled as the transports and servers bind; GET /api/endpoints reads it. */
  const addresses: ListeningAddress[] = [];
  const mqttAccess = createMqttAccess({ store, clock, logger, auth, groups: options.deviceGroups ?? groups, tenantStatus });
  const clusterOps = createClusterOps({ config, store, bus, nodeId, clock, addresses: () => addresses, started: () => ready, ...(ruleCluster ? { shared: ruleCluster.shared } : {}) });
  const zones = new ZoneService({ store, clock, changed: (tenantId) => rules.engine.zones?.invalidate(tenantId) });
  const trips = new TripService({ store, bus, logger: logger.child({ component: 'trips' }) });
  const apiDeps = { ...clusterOps, zones, trips, decoders, mqttGrants: mqttAccess.grants, registry, auth, tenants, oidc, audit, telemetry, attributes, status, rpc, alarms, commands, twin, live, rules: rules.service, ota, integrations, quotas, customers, groups, metrics, metricsAccess: config.metrics, endpoints: () => addresses, ready: () => ready };
  const mqttLogger = logger.child({ transport: 'mqtt' });
  // The broker's pipeline, in order: Sparkplug B takes `spBv1.0/…`, then the ThingsBoard device API
  // takes `v1/…` and `/provision…`; what neither takes is routed between clients under the ACL.
  const interceptors = [
    sparkplugInterceptor({ deviceApi: devices, gatewayApi: gateways, metrics, logger: mqttLogger }),
    deviceApiInterceptor({ deviceApi: devices, gatewayApi: gateways, metrics }),
  ];
  // On a shared bus other nodes may hold sessions: takeover and routing go through it (one node on the memory bus needs neither).
  const mqttCluster = config.bus.kind === 'memory' ? undefined : new BusMqttClusterLink(bus, nodeId, mqttLogger);
  const mqtt = createMqttTransport({ config, deviceApi: devices, interceptors, metrics, logger: mqttLogger, state: brokerState, ...(mqttCluster ? { cluster: mqttCluster } : {}), ...mqttAccess.transportOptions });
  mqttAccess.bind(mqtt);
  const coap = createCoapTransport({ config, deviceApi: devices, metrics, logger: logger.child({ transport: 'coap' }) });
  const transports: Transport[] = [mqtt, coap];
  const tls = config.tls.cert && config.tls.key ? { cert: readFileSync(config.tls.cert), key: readFileSync(config.tls.key) } : undefined;

  const buildServer = (https?: { key: Buffer; cert: Buffer }): Promise<FastifyInstance> => buildHttpServer({ config, apiDeps, pinoLogger, logger, metrics, devices, mqtt, https });
  const servers: { app: FastifyInstance; name: 'http' | 'https' }[] = [{ app: await buildServer(), name: 'http' }];
  if (tls) servers.push({ app: await buildServer(tls), name: 'https' });

  const started: Transport[] = [];
  const stopAll = async (): Promise<void> => {
    for (const t of started.reverse()) await t.stop().catch((err: unknown) => logger.warn({ err, transport: t.name }, 'stop failed'));
    for (const { app, name } of servers) await closeServer(app, name, logger);
    await ingest.drain();
    await quotas.stop(); // the last commits' points reach the daily counter
    tenantStatus.stop();
    await outbox.drain(); // the last commits' events reach the bus (and their records are acknowledged)
    await integrations.stop(); // what they took from the bus is in their buffers
    // After the last committed telemetry is on the bus; its actions still reach alarms and commands.
    await rules.stop();
    await ruleCluster?.stop(); // after the engine's last checkpoint: the partitions go to the other nodes
    trips.stop();
    await rollouts.stop();
    await smpp?.close();
    await sessions.settled(); // the epochs of the sessions the transports just closed reach the statuses
    await status.stop();
    await commands.stop();
    eventLog.stop();
    stopGroupRefresh();
    sessions.close();
    // Whatever this node still holds is gone with it (a shared presence must not route here).
    await presence.expireNode(nodeId).catch((err: unknown) => logger.warn({ err }, 'clearing this node from presence failed'));
    await closeShared();
    rpc.close();
    decoders.close();
    await bus.close();
    await audit.stop();
    await jobs.stop();
    await store.close();
    dataDirLock.release();
  };
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  try {
    // Before any device can connect: the outbox of an earlier run is taken back first.
    await commands.start();
    eventLog.start();
    audit.start();
    jobs.start();
    await quotas.start(); // before devices connect: today's counts and every tenant's limits
    // Before devices connect, so no committed message is missed.
    await ruleCluster?.start(); // this node's share of the partitions, before the engine consumes them
    await rules.start();
    trips.start(); // a bus group, like the rules': it exists before the outbox republishes
    await rollouts.start(); // re-reads running deployments, then listens, before the outbox replays
    await integrations.start(); // likewise: their bus groups exist before the outbox republishes
    // What an earlier run committed but never published (it stopped in between) goes out now, before new telemetry.
    const recovered = await outbox.recover();
    if (recovered > 0) logger.info({ records: recovered }, 'outbox: events of an earlier run published');
    for (const t of transports) {
      addresses.push(...(await t.start()));
      started.push(t);
    }
    for (const { app, name } of servers) {
      const configPath = name === 'http' ? 'http.port' : 'https.port';
      try {
        await app.listen({ host: config.host, port: name === 'http' ? config.http.port : config.https.port });
      } catch (err) {
        throw explainListenError(err, name.toUpperCase(), configPath);
      }
      const bound = app.server.address();
      const port = typeof bound === 'object' && bound ? bound.port : 0;
      const ws = name === 'http' ? 'ws' : 'wss';
      addresses.push(
        { name, protocol: 'tcp', host: config.host, port, url: `${name}://${shownHost}:${port}` },
        { name: `mqtt-${ws}`, protocol: 'tcp', host: config.host, port, url: `${ws}://${shownHost}:${port}/mqtt` },
      );
    }
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  // The first admin is created only once everything listens: a start that fails earlier (a port
  // taken) leaves no user behind, so the next start still honours CONTINUUM_ADMIN_PASSWORD or
  // generates and prints a password (regression: the generated one was never shown).
  let admin: Awaited<ReturnType<AuthService['ensureAdmin']>>;
  try {
    admin = await auth.ensureAdmin({ email: config.auth.adminEmail, password: config.auth.adminPassword, tenantId: DEFAULT_TENANT_ID });
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  const ports = portsOf(addresses);
  writePortsFile(resolve(config.dataDir), ports);
  ready = true;

  return {
    config,
    addresses,
    ports,
    generatedAdmin: admin.generatedPassword ? { email: admin.email, password: admin.generatedPassword } : undefined,
    adminEmail: admin.email,
    store,
    bus,
    registry,
    devices,
    gateways,
    attributes,
    rpc,
    nodeId,
    onNodeGone: nodeGone,
    alarms,
    commands,
    rules,
    mqttGrants: mqttAccess.grants,
    logger,
    async createAdminApiKey(name) {
      const user = await store.findUserByEmail(admin.email);
      if (!user) throw new PlatformError('NOT_FOUND', `admin user ${admin.email}`);
      return (await auth.createApiKey(user.id, name)).key;
    },
    stop: async () => {
      ready = false;
      await stopAll();
    },
  };
}
