/**
 * Configuration of the OPC UA client connector (`type: opcua`), checked by the edge config loader.
 * One connector is one session with one server; each device maps server nodes to telemetry keys,
 * client attributes and commands (writes and method calls).
 */
import { Type, type Static } from '@sinclair/typebox';

/** "ns=1;s=Boiler.Temperature", "i=2258", "ns=2;g=…", "ns=3;b=…" (OPC UA Part 6, 5.3.1.10 string form). */
const NodeIdString = Type.String({ minLength: 1, maxLength: 1024 });
/** A relative path from the Objects folder in the Part 4 A.2 text form, e.g. "/1:Boiler/1:Temperature". */
const BrowsePath = Type.String({ minLength: 2, maxLength: 1024, pattern: '^[/.<]' });

export const OpcuaNodeSchema = Type.Object(
  {
    key: Type.String({ minLength: 1 }),
    /** The node, by id or by browse path (exactly one). */
    nodeId: Type.Optional(NodeIdString),
    browsePath: Type.Optional(BrowsePath),
    /** How often the server samples the value (ms); 0 = as fast as it can; omitted = the device's. */
    samplingIntervalMs: Type.Optional(Type.Number({ minimum: 0 })),
    /** Report a change only beyond this (DataChangeFilter, Part 4 7.22.2); percent needs an EURange on the server. */
    deadband: Type.Optional(Type.Object({ type: Type.Union([Type.Literal('absolute'), Type.Literal('percent')]), value: Type.Number({ minimum: 0 }) }, { additionalProperties: false })),
    /** Samples the server queues between publishes (only the last is kept in the reading). */
    queueSize: Type.Integer({ minimum: 1, maximum: 1000, default: 1 }),
    /** `setValue` commands ({"key", "value"}) may write this node. */
    writable: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);

export const OpcuaWriteCommandSchema = Type.Object(
  {
    method: Type.String({ minLength: 1 }),
    nodeId: Type.Optional(NodeIdString),
    browsePath: Type.Optional(BrowsePath),
    /** A fixed value to write; otherwise params.value, or params itself when not an object. */
    value: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export const OpcuaCallCommandSchema = Type.Object(
  {
    method: Type.String({ minLength: 1 }),
    /** The object the method is called on and the method (Part 4 5.11.2 Call). */
    objectId: NodeIdString,
    methodId: NodeIdString,
    /**
     * Names of params fields, in the method's input argument order; omitted = the method's own
     * InputArguments names. A params array is taken positionally, a scalar as the only argument.
     */
    args: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { maxItems: 64 })),
  },
  { additionalProperties: false },
);

export const OpcuaDeviceSchema = Type.Object(
  {
    /** The child device's name on the platform. */
    name: Type.String({ minLength: 1 }),
    /** Device type sent with v1/gateway/connect. */
    type: Type.Optional(Type.String()),
    /** The subscription's publishing interval: changes are sent at most this often (ms). */
    publishingIntervalMs: Type.Integer({ minimum: 10, default: 1000 }),
    /** Default sampling interval of this device's nodes (ms). */
    samplingIntervalMs: Type.Number({ minimum: 0, default: 500 }),
    /** Monitored as telemetry. */
    nodes: Type.Array(OpcuaNodeSchema, { default: [] }),
    /** Monitored as the child's client attributes (serial number, firmware, …). */
    attributes: Type.Array(OpcuaNodeSchema, { default: [] }),
    commands: Type.Array(Type.Union([OpcuaWriteCommandSchema, OpcuaCallCommandSchema]), { default: [] }),
  },
  { additionalProperties: false },
);

export const OPCUA_SECURITY_MODES = ['None', 'Sign', 'SignAndEncrypt'] as const;
export const OPCUA_SECURITY_POLICIES = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss', 'Basic256', 'Basic128Rsa15'] as const;

export const OpcuaSchema = Type.Object(
  {
    type: Type.Literal('opcua'),
    name: Type.String({ minLength: 1, default: 'opcua' }),
    /** opc.tcp://host:4840/path */
    endpoint: Type.String({ pattern: '^opc\\.tcp://[^\\s/]+', maxLength: 1024 }),
    securityMode: Type.Union(OPCUA_SECURITY_MODES.map((m) => Type.Literal(m)), { default: 'None' }),
    /** Omitted: None without security, Basic256Sha256 with it. */
    securityPolicy: Type.Optional(Type.Union(OPCUA_SECURITY_POLICIES.map((p) => Type.Literal(p)))),
    /** User name login; without it the session is anonymous. */
    username: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String()),
    /** Our certificate and the trusted/rejected server certificates (node-opcua's PKI layout); omitted = node-opcua's per-user folder. */
    pkiDir: Type.Optional(Type.String({ minLength: 1 })),
    /** Trust a server certificate seen for the first time (otherwise it lands in pki/rejected until moved to trusted). */
    acceptUnknownCertificate: Type.Boolean({ default: false }),
    /** First reconnect delay; node-opcua backs off up to reconnectMaxMs. */
    reconnectMs: Type.Integer({ minimum: 50, default: 1000 }),
    reconnectMaxMs: Type.Integer({ minimum: 50, default: 30_000 }),
    /** Per request (read, write, call) before it counts as unanswered. */
    requestTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
    /** Values from the server are bounded: longer strings are cut, longer arrays truncated. */
    maxStringLength: Type.Integer({ minimum: 1, maximum: 1_000_000, default: 4096 }),
    maxArrayLength: Type.Integer({ minimum: 1, maximum: 100_000, default: 1000 }),
    /** Largest message accepted from the server (node-opcua's default is unlimited); bigger ones break the connection. */
    maxMessageBytes: Type.Integer({ minimum: 65_536, maximum: 256 * 1024 * 1024, default: 16 * 1024 * 1024 }),
    devices: Type.Array(OpcuaDeviceSchema, { minItems: 1 }),
  },
  { additionalProperties: false },
);

export type OpcuaConfig = Static<typeof OpcuaSchema>;
export type OpcuaDeviceConfig = Static<typeof OpcuaDeviceSchema>;
export type OpcuaNodeConfig = Static<typeof OpcuaNodeSchema>;
export type OpcuaWriteCommandConfig = Static<typeof OpcuaWriteCommandSchema>;
export type OpcuaCallCommandConfig = Static<typeof OpcuaCallCommandSchema>;
export type OpcuaCommandConfig = OpcuaWriteCommandConfig | OpcuaCallCommandConfig;

export const isCall = (c: OpcuaCommandConfig): c is OpcuaCallCommandConfig => 'methodId' in c;

/** The policy used: the configured one, or the default that fits the mode. */
export function securityPolicyOf(c: Pick<OpcuaConfig, 'securityMode' | 'securityPolicy'>): (typeof OPCUA_SECURITY_POLICIES)[number] {
  return c.securityPolicy ?? (c.securityMode === 'None' ? 'None' : 'Basic256Sha256');
}

/** The reserved command that writes any `writable` node by key. */
export const SET_VALUE = 'setValue';

/** Checks the schema cannot express; `at` is the connector's path in the file. */
export function opcuaProblems(c: OpcuaConfig, at: string): string[] {
  const problems: string[] = [];
  if (c.reconnectMaxMs < c.reconnectMs) problems.push(`${at}.reconnectMaxMs: less than reconnectMs`);
  const policy = securityPolicyOf(c);
  if ((c.securityMode === 'None') !== (policy === 'None')) problems.push(`${at}.securityPolicy: ${policy} does not go with securityMode ${c.securityMode}`);
  if (c.password !== undefined && c.username === undefined) problems.push(`${at}.password: without username`);
  const oneNode = (n: { nodeId?: string | undefined; browsePath?: string | undefined }, path: string): void => {
    if ((n.nodeId === undefined) === (n.browsePath === undefined)) problems.push(`${path}: give exactly one of nodeId and browsePath`);
  };
  c.devices.forEach((d, di) => {
    const dat = `${at}.devices[${di}]`;
    if (d.nodes.length + d.attributes.length === 0 && d.commands.length === 0) problems.push(`${dat}: no nodes, attributes or commands`);
    const keys = new Set<string>();
    for (const [list, name] of [[d.nodes, 'nodes'], [d.attributes, 'attributes']] as const) {
      list.forEach((n, ni) => {
        if (keys.has(`${name}:${n.key}`)) problems.push(`${dat}.${name}[${ni}].key: "${n.key}" is defined twice`);
        keys.add(`${name}:${n.key}`);
        oneNode(n, `${dat}.${name}[${ni}]`);
        if (n.deadband?.type === 'percent' && n.deadband.value > 100) problems.push(`${dat}.${name}[${ni}].deadband.value: a percent is at most 100`);
      });
    }
    const methods = new Set<string>();
    d.commands.forEach((m, mi) => {
      if (methods.has(m.method)) problems.push(`${dat}.commands[${mi}].method: "${m.method}" is defined twice`);
      methods.add(m.method);
      if (m.method === SET_VALUE) problems.push(`${dat}.commands[${mi}].method: ${SET_VALUE} is reserved (it writes nodes marked writable)`);
      if (!isCall(m)) oneNode(m, `${dat}.commands[${mi}]`);
    });
  });
  return problems;
}
