/**
 * Configuration of the `sparkplug` connector: the edge acts as a Sparkplug B host application on
 * a local MQTT broker where industrial edge nodes publish, and forwards what they report.
 */
import { Type, type Static } from '@sinclair/typebox';

export const SparkplugDeviceSchema = Type.Object(
  {
    /** The child device's name on the platform. */
    name: Type.String({ minLength: 1 }),
    /** Sparkplug edge node id, and device id; without `device` the entry is the edge node itself. */
    node: Type.String({ minLength: 1 }),
    device: Type.Optional(Type.String({ minLength: 1 })),
    /** Group id when the connector listens to several groups. */
    group: Type.Optional(Type.String({ minLength: 1 })),
    type: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const SparkplugSchema = Type.Object(
  {
    type: Type.Literal('sparkplug'),
    name: Type.String({ minLength: 1, default: 'sparkplug' }),
    /** The local broker: mqtt://host:1883 or mqtts://…. */
    url: Type.String({ pattern: '^(mqtts?|wss?)://' }),
    username: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    clientId: Type.Optional(Type.String()),
    /** Sparkplug group id to listen to; `+` = every group. */
    groupId: Type.String({ minLength: 1, default: '+' }),
    /**
     * Host application id: when set, the connector publishes STATE online/offline (Sparkplug 3.0
     * ch. 5, retained, the offline one as its will) so edge nodes waiting for a primary host start.
     */
    hostId: Type.Optional(Type.String({ minLength: 1 })),
    /** Devices not listed below still report, named after their Sparkplug device (or node) id. */
    discover: Type.Boolean({ default: true }),
    /** Named children; only these take commands (the edge routes commands by configured name). */
    devices: Type.Array(SparkplugDeviceSchema, { default: [] }),
    reconnectMs: Type.Integer({ minimum: 50, default: 1000 }),
  },
  { additionalProperties: false },
);

export type SparkplugConfig = Static<typeof SparkplugSchema>;
export type SparkplugDeviceConfig = Static<typeof SparkplugDeviceSchema>;

export function sparkplugProblems(c: SparkplugConfig, at: string): string[] {
  const problems: string[] = [];
  if (/[/#]/.test(c.groupId) || (c.groupId.includes('+') && c.groupId !== '+')) problems.push(`${at}.groupId: one group id, or + for all`);
  const seen = new Set<string>();
  c.devices.forEach((d, i) => {
    const key = `${d.group ?? c.groupId}/${d.node}/${d.device ?? ''}`;
    if (seen.has(key)) problems.push(`${at}.devices[${i}]: ${d.node}/${d.device ?? '(node)'} is mapped twice`);
    seen.add(key);
    if (d.group !== undefined && c.groupId !== '+' && d.group !== c.groupId) problems.push(`${at}.devices[${i}].group: the connector only listens to group ${c.groupId}`);
  });
  return problems;
}
