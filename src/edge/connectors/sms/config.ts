/**
 * Configuration of `type: sms` connectors (added to the edge's connector union in
 * src/edge/config.ts). Text patterns are regular expressions, compiled and checked at start by
 * ./patterns.ts, so a typo is a start-up error with its path, never a silently ignored SMS.
 */
import { Type, type Static } from '@sinclair/typebox';

const Reconnect = Type.Object(
  { minMs: Type.Integer({ minimum: 10, default: 1000 }), maxMs: Type.Integer({ minimum: 10, default: 30_000 }) },
  { default: {}, additionalProperties: false },
);

/** Values looked up after `$n`/`{key}` substitution: `{ ON: true, OFF: false }`. */
const ValueMap = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]));

const Phone = Type.String({ pattern: '^\\+?[0-9]{3,20}$' });

export const SmsSmppSchema = Type.Object(
  {
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 2775 }),
    systemId: Type.String({ minLength: 1, maxLength: 15 }),
    password: Type.String({ maxLength: 8, default: '' }),
    systemType: Type.String({ maxLength: 12, default: '' }),
    /** Our number (source_addr of what we send); empty = the SMSC's default for this account. */
    sourceAddr: Type.String({ default: '' }),
    enquireLinkMs: Type.Integer({ minimum: 100, default: 30_000 }),
    responseTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
    reconnect: Reconnect,
  },
  { additionalProperties: false },
);

export const SmsModemSchema = Type.Object(
  {
    /** Serial device: /dev/ttyUSB2, /dev/serial/by-id/…, or a pty in tests. */
    path: Type.String({ minLength: 1 }),
    baudRate: Type.Integer({ minimum: 300, default: 115_200 }),
    /** SIM PIN, sent with AT+CPIN when the modem asks for it. */
    pin: Type.Optional(Type.String({ pattern: '^[0-9]{4,8}$' })),
    commandTimeoutMs: Type.Integer({ minimum: 100, default: 10_000 }),
    /** An idle `AT` this often finds a modem that went away silently (a pty's peer, a hung modem); 0 = never. */
    keepaliveMs: Type.Integer({ minimum: 0, default: 60_000 }),
    reconnect: Reconnect,
  },
  { additionalProperties: false },
);

export const SmsCommandSchema = Type.Object(
  {
    method: Type.String({ minLength: 1 }),
    /** SMS text; `{key}` is params.key, `{}` the params when scalar. */
    text: Type.String({ minLength: 1 }),
    /** Replaces a whole substituted value: `{ "true": "ON", "false": "OFF" }`. */
    map: Type.Optional(ValueMap),
  },
  { additionalProperties: false },
);

/** One SIM on the whitelist: heard when it texts us, and a target of platform commands. */
export const SmsDeviceSchema = Type.Object(
  {
    /** Child device this SIM is on the platform. */
    name: Type.String({ minLength: 1 }),
    /** The SIM's number, international form recommended: +4917… */
    number: Phone,
    type: Type.Optional(Type.String()),
    /** Platform commands to this device that become SMS texts to `number`. */
    commands: Type.Array(SmsCommandSchema, { default: [] }),
  },
  { additionalProperties: false },
);

export const SmsPatternSchema = Type.Object(
  {
    /** Regular expression on the whole trimmed text; `$1`… are its groups. */
    match: Type.String({ minLength: 1 }),
    /** Case-insensitive unless false. */
    ignoreCase: Type.Boolean({ default: true }),
    /** Only these sender devices may use the pattern; default all whitelisted senders. */
    from: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** Telemetry of the sender's device: `{ stock: "$1" }`. */
    telemetry: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Unknown())),
    /** A command to a device of this edge (any connector): `{ device: pump-1, method: setPump, params: { value: "$1" } }`. */
    command: Type.Optional(
      Type.Object(
        { device: Type.String({ minLength: 1 }), method: Type.String({ minLength: 1 }), params: Type.Unknown({ default: {} }) },
        { additionalProperties: false },
      ),
    ),
    /** Replaces a whole substituted value: `{ ON: true, OFF: false }`. */
    map: Type.Optional(ValueMap),
    /** Answer to the sender once done; `$1`… and `{result}` (ok / the error). */
    reply: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);

export const SmsConnectorSchema = Type.Object(
  {
    type: Type.Literal('sms'),
    name: Type.String({ minLength: 1, default: 'sms' }),
    transport: Type.Union([Type.Literal('smpp'), Type.Literal('modem')]),
    smpp: Type.Optional(SmsSmppSchema),
    modem: Type.Optional(SmsModemSchema),
    /** The whitelist: only these SIMs are heard (SIM-based identification). */
    devices: Type.Array(SmsDeviceSchema, { minItems: 1 }),
    patterns: Type.Array(SmsPatternSchema, { default: [] }),
    /** Answer to a rejected SMS (unknown number or no pattern); none when omitted. */
    rejectReply: Type.Optional(Type.String({ minLength: 1 })),
    /** Also send rejectReply to numbers not on the whitelist (default no: it costs, and confirms the number to spammers). */
    replyToStrangers: Type.Boolean({ default: false }),
    /** How long a command waits for the delivery report before it is answered without one. */
    reportTimeoutMs: Type.Integer({ minimum: 0, default: 60_000 }),
  },
  { additionalProperties: false },
);

export type SmsConnectorConfig = Static<typeof SmsConnectorSchema>;
export type SmsPatternConfig = Static<typeof SmsPatternSchema>;
export type SmsDeviceConfig = Static<typeof SmsDeviceSchema>;
export type SmsCommandConfig = Static<typeof SmsCommandSchema>;
export type SmsSmppConfig = Static<typeof SmsSmppSchema>;
export type SmsModemConfig = Static<typeof SmsModemSchema>;

/** Cross-checks TypeBox cannot express; `at` is the connector's path, e.g. "connectors[1]". */
export function smsProblems(c: SmsConnectorConfig, at: string): string[] {
  const problems: string[] = [];
  if (c.transport === 'smpp' && !c.smpp) problems.push(`${at}.smpp: required with transport smpp`);
  if (c.transport === 'modem' && !c.modem) problems.push(`${at}.modem: required with transport modem`);
  const numbers = new Set<string>();
  const names = new Set(c.devices.map((d) => d.name));
  c.devices.forEach((d, i) => {
    const n = normalizeNumber(d.number);
    if (numbers.has(n)) problems.push(`${at}.devices[${i}].number: ${d.number} is listed twice`);
    numbers.add(n);
  });
  c.patterns.forEach((p, i) => {
    const where = `${at}.patterns[${i}]`;
    try {
      new RegExp(p.match, p.ignoreCase ? 'i' : '');
    } catch (err) {
      problems.push(`${where}.match: ${(err as Error).message}`);
    }
    if (!p.telemetry && !p.command) problems.push(`${where}: needs telemetry or command`);
    for (const d of p.from ?? []) if (!names.has(d)) problems.push(`${where}.from: "${d}" is not a device of this connector`);
  });
  return problems;
}

/** Command patterns must name a device of this edge (any connector); `devices` is every device name. */
export function smsTargetProblems(c: SmsConnectorConfig, at: string, devices: ReadonlySet<string>): string[] {
  return c.patterns.flatMap((p, i) => (p.command && !devices.has(p.command.device) ? [`${at}.patterns[${i}].command.device: no device "${p.command.device}" on this edge`] : []));
}

/** Numbers compare by digits: "+49 170 123" and "0049170123" are not merged (no country rules), "+49170123" and "49170123" are. */
export function normalizeNumber(n: string): string {
  return n.replace(/[\s-]/g, '').replace(/^\+/, '');
}
