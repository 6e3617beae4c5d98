/**
 * Publish a message into the tenant's MQTT topic space on the embedded broker (for dashboards,
 * other devices, bridges). Device API topics (v1/…) and system topics ($…) are refused: commands
 * go through the command action, which tracks delivery.
 */
import { Type } from '@sinclair/typebox';
import { defineAction, missing } from './types.js';

export function checkTopic(topic: string): void {
  if (topic.length === 0) throw new Error('empty topic');
  if (/[+#\u0000]/.test(topic)) throw new Error(`topic "${topic}" contains a wildcard or NUL`);
  if (topic.startsWith('$') || topic.startsWith('v1/')) throw new Error(`topic "${topic}" is reserved (device API or system topic)`);
}

export const mqttPublishAction = defineAction({
  type: 'mqttPublish',
  title: 'Publish to MQTT',
  description: "Publishes to a topic in the tenant's space on the embedded broker; strings are sent as they are, other JSON serialized.",
  configSchema: Type.Object(
    {
      topic: Type.String({ minLength: 1, maxLength: 1024 }),
      payload: Type.Unknown({ description: 'string or JSON; may use ${…} templates' }),
      qos: Type.Union([Type.Literal(0), Type.Literal(1)], { default: 0 }),
      retain: Type.Boolean({ default: false }),
    },
    { additionalProperties: false },
  ),
  defaults: { qos: 0, retain: false },
  check: (p) => {
    if (!p.topic.includes('${')) checkTopic(p.topic);
  },
  async run(p, ctx, deps) {
    if (!deps.topics) throw missing('the MQTT broker');
    checkTopic(p.topic);
    const payload = typeof p.payload === 'string' ? p.payload : JSON.stringify(p.payload ?? null);
    deps.topics.publish(ctx.tenantId, p.topic, payload, { qos: p.qos, retain: p.retain });
    return { topic: p.topic, bytes: Buffer.byteLength(payload) };
  },
});
