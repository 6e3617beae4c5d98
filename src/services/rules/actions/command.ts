/**
 * Send a command (server-side RPC) to the device, or to another device of the tenant named by
 * `device` (a motion sensor switching the hall light). Persistent by default: a device that is
 * offline or asleep gets it from the durable outbox when it comes back, so a rule never loses a
 * command.
 */
import { Type } from '@sinclair/typebox';
import type { JsonValue } from '../../../domain/telemetry.js';
import { defineAction, missing } from './types.js';

export const commandAction = defineAction({
  type: 'command',
  title: 'Send command',
  description: 'Sends an RPC command to the device; persistent commands wait in the outbox until the device is reachable.',
  configSchema: Type.Object(
    {
      method: Type.String({ minLength: 1, maxLength: 255 }),
      device: Type.Optional(
        Type.String({ minLength: 1, maxLength: 255, description: "name of the device to command, default the rule's device; may use ${…} templates" }),
      ),
      params: Type.Optional(Type.Unknown({ description: 'JSON; strings may use ${…} templates', default: {} })),
      persistent: Type.Boolean({ default: true }),
      oneway: Type.Boolean({ default: false }),
      timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
      expiresInMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 30 * 86_400_000 })),
    },
    { additionalProperties: false },
  ),
  defaults: { persistent: true, oneway: false },
  async run(p, ctx, deps) {
    if (!deps.commands) throw missing('the command service');
    let deviceId = ctx.deviceId;
    if (p.device !== undefined && p.device !== ctx.deviceName) {
      if (!deps.devices) throw missing('device lookup by name');
      const found = await deps.devices.idByName(ctx.tenantId, p.device);
      if (found === undefined) throw new Error(`no device named "${p.device}"`);
      deviceId = found;
    }
    const command = await deps.commands.send({
      tenantId: ctx.tenantId,
      deviceId,
      method: p.method,
      params: (p.params ?? {}) as JsonValue,
      persistent: p.persistent,
      oneway: p.oneway,
      ...(p.timeoutMs !== undefined ? { timeoutMs: p.timeoutMs } : {}),
      ...(p.expiresInMs !== undefined ? { expiresInMs: p.expiresInMs } : {}),
      origin: `rule:${ctx.ruleId}`,
      ...(ctx.firing !== undefined ? { idempotencyKey: ctx.firing } : {}),
    });
    return { commandId: command.id, status: command.status, ...(deviceId !== ctx.deviceId ? { deviceId } : {}) };
  },
});
