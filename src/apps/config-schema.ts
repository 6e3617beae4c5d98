/**
 * What the settings are: the configuration schema (types, bounds, enums, descriptions) and its
 * defaults. Where the values come from — file, environment, flags — is config.ts.
 */
import { Type, type Static } from '@sinclair/typebox';

const Port = Type.Integer({ minimum: 0, maximum: 65535 });
/** A node id (apps/node-id.ts): safe in bus subjects, file names and logs. */
export const NODE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

export const ConfigSchema = Type.Object({
  dataDir: Type.String({ default: './data' }),
  host: Type.String({ default: '0.0.0.0', description: 'address every listener binds' }),
  /**
   * This process in a cluster. `id` absent: the file node-id in the data dir, created on first
   * start as `<hostname>-<8 hex>` (apps/node-id.ts). Every node sharing a store needs its own.
   */
  node: Type.Object({ id: Type.Optional(Type.String({ pattern: NODE_ID_PATTERN })) }, { default: {} }),
  /**
   * Cluster mode (`start --cluster`, apps/cluster-config.ts): store postgres and bus nats, with the
   * cluster's name as the NATS prefix, so several clusters (and test runs) can share one server.
   */
  cluster: Type.Object(
    {
      enabled: Type.Boolean(),
      /** Namespaces the NATS streams, subjects and buckets (bus.nats.prefix); the same on every node. */
      name: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
      /**
       * The rule engine works only on the partitions this node leases, with fenced checkpoints and
       * firing keys (issue 14). Off by default until a SIGKILL test passes: with it on, a node's
       * death can lose a rule edge (test/e2e/cluster/kill-node-rules.test.ts with
       * CONTINUUM_CLUSTER_RULE_PARTITIONS=true). Off: every node pulls every partition, one
       * message of a partition in flight at a time (adapters/bus/nats/group.ts).
       */
      rulePartitions: Type.Boolean(),
    },
    { default: {} },
  ),
  /** HTTP listener; the HTTPS listener uses the same limits. */
  http: Type.Object(
    {
      port: Port,
      /** Whole request (headers and body) must arrive within this; else 408 and the connection closes. */
      requestTimeoutMs: Type.Integer({ minimum: 1 }),
      /** Request headers must arrive within this (also bounds a connection that never sends a request, and a TLS handshake). */
      headersTimeoutMs: Type.Integer({ minimum: 1 }),
      /** An idle keep-alive connection is closed after this. */
      keepAliveTimeoutMs: Type.Integer({ minimum: 1 }),
      /** A socket with no traffic in either direction is closed after this (long polls are capped below it). */
      idleTimeoutMs: Type.Integer({ minimum: 1000 }),
      /** Open connections per listener; more are closed at once (WebSockets count while open). */
      maxConnections: Type.Integer({ minimum: 1 }),
    },
    { default: {} },
  ),
  https: Type.Object({ port: Port }, { default: {} }),
  mqtt: Type.Object(
    {
      port: Port,
      tlsPort: Port,
      /** default: production rules; conformance: anonymous clients for conformance suites only. */
      profile: Type.Union([Type.Literal('default'), Type.Literal('conformance')]),
      /** Server keep-alive cap in seconds (MQTT 5 Server Keep Alive). 0 = no cap. */
      maxKeepAlive: Type.Integer({ minimum: 0, maximum: 65535 }),
      /** Messages queued per offline persistent session before the oldest are dropped. */
      maxQueuedMessages: Type.Integer({ minimum: 0 }),
      /** Sessions the broker holds, connected or persistent offline; CONNECTs needing more are refused. */
      maxSessions: Type.Integer({ minimum: 1 }),
      /** CONNECT must be complete within this after the connection opens (TLS handshake included). */
      connectTimeoutMs: Type.Integer({ minimum: 1 }),
      /** Largest packet before CONNECT has been accepted (the CONNECT itself). */
      maxConnectBytes: Type.Integer({ minimum: 64 }),
      /** Open MQTT connections in total (TCP, TLS and WebSocket); more are closed at once. */
      maxConnections: Type.Integer({ minimum: 1 }),
      /** Open connections per TCP/TLS listener. */
      maxConnectionsPerListener: Type.Integer({ minimum: 1 }),
      /** Retained messages one device (or client) may hold: topics and bytes (topic + payload). */
      maxRetainedPerClient: Type.Integer({ minimum: 0 }),
      maxRetainedBytesPerClient: Type.Integer({ minimum: 0 }),
      /** Retained messages the broker holds in all. */
      maxRetainedTotal: Type.Integer({ minimum: 0 }),
      maxRetainedBytesTotal: Type.Integer({ minimum: 0 }),
    },
    { default: {} },
  ),
  coap: Type.Object(
    {
      port: Port,
      /** Block1 uploads being reassembled: per client endpoint, in total, and idle lifetime. */
      maxBlockTransfersPerEndpoint: Type.Integer({ minimum: 1 }),
      maxBlockTransfers: Type.Integer({ minimum: 1 }),
      maxBlockBytes: Type.Integer({ minimum: 1024 }),
      blockTransferTtlMs: Type.Integer({ minimum: 100 }),
      /** Observe registrations of one device per client endpoint, and in total. */
      maxObservationsPerEndpoint: Type.Integer({ minimum: 1 }),
      maxObservations: Type.Integer({ minimum: 1 }),
    },
    { default: {} },
  ),
  tls: Type.Object(
    {
      cert: Type.Optional(Type.String()),
      key: Type.Optional(Type.String()),
      /** Device CA bundle (PEM): when set, MQTT client certificates must chain to it. */
      ca: Type.Optional(Type.String()),
      /** Certificate revocation list(s) for the device CA (PEM); needs `ca`. */
      crl: Type.Optional(Type.String()),
      /** A client certificate that chains to `ca` and whose CN or a SAN names a device authenticates as it. */
      authByCa: Type.Boolean(),
    },
    { default: {} },
  ),
  store: Type.Object(
    {
      kind: Type.Union([Type.Literal('sqlite'), Type.Literal('memory'), Type.Literal('postgres')]),
      /** SQLite synchronous mode: NORMAL survives a process kill; FULL also survives power loss. */
      synchronous: Type.Union([Type.Literal('NORMAL'), Type.Literal('FULL')]),
      /** Used when kind is 'postgres' (adapters/store/postgres); env CONTINUUM_POSTGRES_URL sets the URL. */
      postgres: Type.Object(
        {
          /** postgres://user[:password]@host:port/database; the tables go in its `public` schema. */
          url: Type.String({ minLength: 1 }),
          /** Connections in the pool of this node. */
          poolSize: Type.Integer({ minimum: 1, maximum: 1000 }),
          /** Every statement is cancelled after this long (0 = never), set per connection. */
          statementTimeoutMs: Type.Integer({ minimum: 0 }),
        },
        { default: {} },
      ),
    },
    { default: {} },
  ),
  /** 'memory': the in-process bus (one node). 'nats': NATS JetStream, for a cluster (adapters/bus/nats). */
  bus: Type.Object(
    {
      kind: Type.Union([Type.Literal('memory'), Type.Literal('nats')]),
      /** Used when kind is 'nats'. Every node of a cluster must use the same prefix and partitions. */
      nats: Type.Object(
        {
          /** Server URL(s), comma-separated: nats://host:4222,nats://host2:4222. */
          url: Type.String({ minLength: 1 }),
          /** Names the streams (`<prefix>_<event>`) and subjects (`<prefix>.…`): one per cluster sharing a NATS server. */
          prefix: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
          /** Partitions of every event; fixed for the life of the streams (a device's order holds within one). */
          partitions: Type.Integer({ minimum: 1, maximum: 4096 }),
          /** Stream replicas: 1 for one server, 3 for a three-server NATS cluster. */
          replicas: Type.Integer({ minimum: 1, maximum: 5 }),
          /** A work-queue delivery not settled within this (its node died) goes to another node. */
          ackWaitMs: Type.Integer({ minimum: 1000 }),
          /** How long the streams keep events (the horizon for a replay). */
          maxAgeSeconds: Type.Integer({ minimum: 60 }),
        },
        { default: {} },
      ),
    },
    { default: {} },
  ),
  limits: Type.Object(
    {
      maxPayloadBytes: Type.Integer({ minimum: 64 }),
      maxKeyLength: Type.Integer({ minimum: 1, maximum: 255 }),
      maxFutureSkewMs: Type.Integer({ minimum: 0 }),
      /** Levels of objects/arrays in one device JSON document. */
      maxDepth: Type.Integer({ minimum: 2, maximum: 1000 }),
      /** Characters in one string value (telemetry, attribute, nested JSON). */
      maxStringLength: Type.Integer({ minimum: 1 }),
      /** Points in one telemetry message, keys in one attribute message. */
      maxValuesPerMessage: Type.Integer({ minimum: 1 }),
    },
    { default: {} },
  ),
  /** Firmware and software over the air (docs/OTA.md). */
  ota: Type.Object(
    {
      /** Largest package accepted by upload (413 past it); packages are streamed to `<dataDir>/ota`, never held whole. */
      maxPackageBytes: Type.Integer({ minimum: 1 }),
      /** Largest chunk one device request may ask for (MQTT, CoAP, HTTP); 0 = whole package counts as its size. */
      maxChunkBytes: Type.Integer({ minimum: 64, maximum: 16 * 1024 * 1024 }),
      /** How often the rollout scheduler moves deployments forward (timeouts, waves, notifications). */
      rolloutTickMs: Type.Integer({ minimum: 50, maximum: 60_000 }),
    },
    { default: {} },
  ),
  /** Payload decoders: user code per device profile, in the QuickJS sandbox (docs/DEVICE-API.md). */
  decoders: Type.Object(
    {
      enabled: Type.Boolean(),
      /** Wall time one decodeUplink/encodeDownlink call may take. */
      timeLimitMs: Type.Integer({ minimum: 1, maximum: 10_000 }),
      /** Heap of one profile's sandbox. */
      memoryLimitBytes: Type.Integer({ minimum: 1024 * 1024, maximum: 256 * 1024 * 1024 }),
      /** Worker threads the decoders run on (a stuck one is terminated and replaced). */
      workers: Type.Integer({ minimum: 1, maximum: 8 }),
    },
    { default: {} },
  ),
  ingest: Type.Object(
    {
      /** Rows per group commit at most; a batch also closes when the event loop turns. */
      maxBatchRows: Type.Integer({ minimum: 1 }),
    },
    { default: {} },
  ),
  auth: Type.Object(
    {
      adminEmail: Type.Optional(Type.String()),
      adminPassword: Type.Optional(Type.String()),
      jwtTtlSeconds: Type.Integer({ minimum: 60 }),
      /** scrypt N for new password hashes, a power of two; production: at least 131072 (2^17, OWASP). Lower only for tests. */
      passwordHashCost: Type.Integer({ minimum: 1024, maximum: 1048576 }),
      /** Password hashes computed at once (each takes 128·N·8 bytes: 128 MiB at 2^17); a few more wait, the rest get 503. */
      passwordHashConcurrency: Type.Integer({ minimum: 1, maximum: 64 }),
      /** Failed sign-ins per account within 15 minutes before it is locked (1 minute, doubling up to 15). */
      loginMaxFailures: Type.Integer({ minimum: 1 }),
      /** Failed sign-ins per client address within 15 minutes before it is locked. */
      loginMaxFailuresPerAddress: Type.Integer({ minimum: 1 }),
      /**
       * The key access tokens are hashed with (base64 of at least 32 bytes). Absent: the file
       * credential.key in the data dir, created on first start. Never stored in the database.
       */
      credentialKey: Type.Optional(Type.String({ minLength: 43 })),
      /** Single sign-on with an OpenID Connect provider (docs/OPERATIONS.md); absent: off. */
      oidc: Type.Optional(
        Type.Object(
          {
            /** The provider's issuer URL (discovery at <issuer>/.well-known/openid-configuration). */
            issuer: Type.String({ minLength: 1 }),
            clientId: Type.String({ minLength: 1 }),
            /** Absent: a public client (PKCE only). */
            clientSecret: Type.Optional(Type.String({ minLength: 1 })),
            /** Registered at the provider; absent: http(s)://<host the browser used>/api/auth/oidc/callback. */
            redirectUri: Type.Optional(Type.String({ minLength: 1 })),
            /** Default 'openid email profile'. */
            scopes: Type.Optional(Type.String({ minLength: 1 })),
            /** Claim (dotted path, e.g. realm_access.roles) whose value(s) give the role; absent: everyone gets defaultRole. */
            roleClaim: Type.Optional(Type.String({ minLength: 1 })),
            /** Claim naming the tenant id; absent: the default tenant. An unknown tenant is refused. */
            tenantClaim: Type.Optional(Type.String({ minLength: 1 })),
            customerClaim: Type.Optional(Type.String({ minLength: 1 })),
            /** Role of accounts whose claims map to none; default 'viewer'. */
            defaultRole: Type.Optional(Type.String({ minLength: 1 })),
            /** Claim value → role; without it a claim value that is a role name is taken (never sysadmin). */
            roleMap: Type.Optional(Type.Record(Type.String(), Type.String())),
            /** Create an account on first sign-in; default true. */
            autoCreate: Type.Optional(Type.Boolean()),
            /** Text of the sign-in button; default 'Sign in with SSO'. */
            label: Type.Optional(Type.String({ minLength: 1, maxLength: 80 })),
            /** Plain http to the provider (tests, loopback development only); default false. */
            allowInsecureHttp: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
      ),
    },
    { default: {} },
  ),
  /** Brute-force limits on device authentication and provisioning (MQTT, CoAP, HTTP); failures only. */
  deviceAuth: Type.Object(
    {
      maxFailuresPerAddress: Type.Integer({ minimum: 1 }),
      maxFailuresPerCredential: Type.Integer({ minimum: 1 }),
      windowSeconds: Type.Integer({ minimum: 1 }),
      lockoutSeconds: Type.Integer({ minimum: 1 }),
      maxLockoutSeconds: Type.Integer({ minimum: 1 }),
    },
    { default: {} },
  ),
  rpc: Type.Object({ defaultTimeoutMs: Type.Integer({ minimum: 100 }) }, { default: {} }),
  /** Gateway API: how many child devices, and how many device types among them, one gateway may create. */
  gateway: Type.Object({ maxChildren: Type.Integer({ minimum: 0 }), maxProfiles: Type.Integer({ minimum: 0 }) }, { default: {} }),
  /**
   * Tenants: the quotas of a tenant without its own (PUT /api/tenants/{id}/quotas); unset = unlimited,
   * so a single-tenant install is unchanged (docs/DEVICE-API.md, "Tenant quotas").
   */
  tenants: Type.Object(
    {
      defaultQuotas: Type.Object(
        {
          maxDevices: Type.Optional(Type.Integer({ minimum: 0 })),
          maxMessagesPerSecond: Type.Optional(Type.Integer({ minimum: 0 })),
          maxPointsPerDay: Type.Optional(Type.Integer({ minimum: 0 })),
          maxRules: Type.Optional(Type.Integer({ minimum: 0 })),
        },
        { additionalProperties: false, default: {} },
      ),
    },
    { default: {} },
  ),
  /** The audit log (GET /api/audit): entries older than retentionDays are removed; 0 keeps them for ever. */
  audit: Type.Object({ retentionDays: Type.Integer({ minimum: 0 }) }, { default: {} }),
  /** Telemetry retention set per device profile (retentionDays): how often the background job runs (0 = never) and points per transaction. */
  retention: Type.Object({ everyMinutes: Type.Integer({ minimum: 0 }), stepPoints: Type.Integer({ minimum: 100, maximum: 100_000 }) }, { default: {} }),
  /** The forecast job: writes forecast.<key> series (docs/RULES.md) for these keys of the default tenant's devices; no keys = off. */
  forecast: Type.Object({ keys: Type.Array(Type.String({ minLength: 1, maxLength: 255 })), horizonHours: Type.Integer({ minimum: 1, maximum: 336 }), everyMinutes: Type.Integer({ minimum: 5 }) }, { default: {} }),
  /** Outgoing notifications of rule actions. E-mail is off until notify.smtp.host is set, SMS until notify.smpp.enabled. */
  notify: Type.Object(
    {
      smtp: Type.Object(
        {
          host: Type.Optional(Type.String()),
          port: Port,
          /** starttls: required, certificate verified (default); implicit: TLS from the first byte (port 465); none: plain, for a local relay only. */
          tls: Type.Union([Type.Literal('starttls'), Type.Literal('implicit'), Type.Literal('none')]),
          /** PEM file of the CA(s) to trust for the server's certificate instead of the system's. */
          ca: Type.Optional(Type.String()),
          from: Type.Optional(Type.String()),
          username: Type.Optional(Type.String()),
          password: Type.Optional(Type.String()),
        },
        { default: {} },
      ),
      /** SMS over SMPP 3.4 (an ESME bound to this SMSC); off until enabled. Lengths are SMPP's field sizes. */
      smpp: Type.Object(
        {
          enabled: Type.Boolean(),
          host: Type.String(),
          port: Port,
          systemId: Type.String({ maxLength: 15 }),
          password: Type.String({ maxLength: 8 }),
          /** Default sender: a number or a name of up to 11 characters; empty lets the SMSC choose. */
          sourceAddr: Type.String({ maxLength: 20 }),
          bindMode: Type.Union([Type.Literal('transmitter'), Type.Literal('transceiver')]),
          enquireLinkMs: Type.Integer({ minimum: 1000 }),
        },
        { default: {} },
      ),
    },
    { default: {} },
  ),
  /**
   * Connections rules make (webhooks): non-public addresses (loopback, private, link-local…) and
   * this platform's own ports are refused unless an entry here allows them (docs/RULES.md).
   */
  outbound: Type.Object(
    {
      allow: Type.Array(Type.String({ minLength: 1 }), {
        description: 'exceptions: "host", "host:port", "*.domain", "10.1.0.0/16", "127.0.0.1:9000", "[::1]:9000"',
      }),
    },
    { default: {} },
  ),
  /** GET /metrics: `Authorization: Bearer <token>` or an admin's credentials; anonymous only when public. */
  metrics: Type.Object(
    { token: Type.Optional(Type.String({ minLength: 16, description: 'shared secret for the Prometheus scraper' })), public: Type.Boolean() },
    { default: {} },
  ),
  /** Dashboard settings the browser reads from GET /api/ui-config (no tile server by default: works offline). */
  web: Type.Object(
    { tileUrl: Type.Optional(Type.String({ description: 'map tiles, e.g. https://tile.example.org/{z}/{x}/{y}.png' })), tileAttribution: Type.Optional(Type.String()) },
    { default: {} },
  ),
  log: Type.Object(
    { level: Type.Union(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].map((l) => Type.Literal(l))) },
    { default: {} },
  ),
});

export type Config = Static<typeof ConfigSchema>;

export const DEFAULTS: Config = {
  dataDir: './data',
  host: '0.0.0.0',
  node: {},
  cluster: { enabled: false, name: 'continuum', rulePartitions: false },
  http: { port: 8080, requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 72_000, idleTimeoutMs: 310_000, maxConnections: 10_000 },
  https: { port: 8443 },
  mqtt: {
    port: 1883,
    tlsPort: 8883,
    profile: 'default',
    maxKeepAlive: 0,
    maxQueuedMessages: 1000,
    maxSessions: 200_000,
    connectTimeoutMs: 10_000,
    maxConnectBytes: 64 * 1024,
    maxConnections: 100_000,
    maxConnectionsPerListener: 100_000,
    maxRetainedPerClient: 100,
    maxRetainedBytesPerClient: 1024 * 1024,
    maxRetainedTotal: 100_000,
    maxRetainedBytesTotal: 256 * 1024 * 1024,
  },
  coap: {
    port: 5683,
    maxBlockTransfersPerEndpoint: 4,
    maxBlockTransfers: 256,
    maxBlockBytes: 16 * 1024 * 1024,
    blockTransferTtlMs: 60_000,
    maxObservationsPerEndpoint: 8,
    maxObservations: 50_000,
  },
  tls: { authByCa: false },
  store: { kind: 'sqlite', synchronous: 'NORMAL', postgres: { url: 'postgres://postgres@127.0.0.1:5432/continuum', poolSize: 10, statementTimeoutMs: 30_000 } },
  bus: { kind: 'memory', nats: { url: 'nats://127.0.0.1:4222', prefix: 'continuum', partitions: 64, replicas: 1, ackWaitMs: 30_000, maxAgeSeconds: 24 * 60 * 60 } },
  limits: {
    maxPayloadBytes: 256 * 1024,
    maxKeyLength: 255,
    maxFutureSkewMs: 24 * 60 * 60 * 1000,
    maxDepth: 32,
    maxStringLength: 64 * 1024,
    maxValuesPerMessage: 10_000,
  },
  ota: { maxPackageBytes: 512 * 1024 * 1024, maxChunkBytes: 1024 * 1024, rolloutTickMs: 1000 },
  decoders: { enabled: true, timeLimitMs: 50, memoryLimitBytes: 16 * 1024 * 1024, workers: 2 },
  ingest: { maxBatchRows: 10_000 },
  auth: { jwtTtlSeconds: 24 * 60 * 60, passwordHashCost: 131072, passwordHashConcurrency: 2, loginMaxFailures: 5, loginMaxFailuresPerAddress: 20 },
  deviceAuth: { maxFailuresPerAddress: 30, maxFailuresPerCredential: 10, windowSeconds: 60, lockoutSeconds: 60, maxLockoutSeconds: 900 },
  rpc: { defaultTimeoutMs: 10_000 },
  gateway: { maxChildren: 1000, maxProfiles: 20 },
  tenants: { defaultQuotas: {} },
  audit: { retentionDays: 365 },
  forecast: { keys: [], horizonHours: 24, everyMinutes: 60 },
  retention: { everyMinutes: 60, stepPoints: 5_000 },
  notify: {
    smtp: { port: 587, tls: 'starttls' },
    smpp: { enabled: false, host: 'localhost', port: 2775, systemId: '', password: '', sourceAddr: '', bindMode: 'transmitter', enquireLinkMs: 30_000 },
  },
  outbound: { allow: [] },
  metrics: { public: false },
  log: { level: 'info' },
  web: {},
};
