/** Set attributes of the device: shared ones are desired state and are pushed to the device. */
import { Type } from '@sinclair/typebox';
import { checkOrdinaryAttributeWrite } from '../../../domain/edge-config.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import { defineAction, missing } from './types.js';

export const setAttributeAction = defineAction({
  type: 'setAttribute',
  title: 'Set attribute',
  description: 'Writes shared (pushed to the device) or server attributes of the device.',
  configSchema: Type.Object(
    {
      scope: Type.Union([Type.Literal('shared'), Type.Literal('server')], { default: 'shared' }),
      values: Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.Unknown(), { minProperties: 1, description: 'key → JSON value; strings may use ${…} templates' }),
    },
    { additionalProperties: false },
  ),
  defaults: { scope: 'shared' },
  // The edge's configuration keys are refused when the rule is saved (and again by the attribute
  // service when it runs): a rule must not reconfigure an edge gateway from device data.
  check(p) {
    checkOrdinaryAttributeWrite(p.scope, Object.keys(p.values));
  },
  async run(p, ctx, deps) {
    if (!deps.attributes) throw missing('the attribute service');
    await deps.attributes.set(ctx.tenantId, ctx.deviceId, p.scope, p.values as Record<string, JsonValue>);
    return { keys: Object.keys(p.values) };
  },
});
