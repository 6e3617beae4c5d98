/** Raise an alarm on the device (one open alarm per device and type; repeats are counted). */
import { Type } from '@sinclair/typebox';
import { ALARM_SEVERITIES, type AlarmSeverity } from '../../../domain/action-apis.js';
import type { JsonValue } from '../../../domain/telemetry.js';
import { defineAction, missing } from './types.js';

export const alarmAction = defineAction({
  type: 'alarm',
  title: 'Raise alarm',
  description: 'Creates the open alarm of this type on the device, or counts a repeat of it. Cleared automatically when the condition stops holding unless the rule sets autoClear: false.',
  configSchema: Type.Object(
    {
      alarmType: Type.String({ minLength: 1, maxLength: 255, description: 'e.g. LowBattery' }),
      severity: Type.Union(ALARM_SEVERITIES.map((s) => Type.Literal(s)), { default: 'warning' }),
      details: Type.Optional(Type.Unknown({ description: 'JSON; strings may use ${…} templates' })),
    },
    { additionalProperties: false },
  ),
  defaults: { severity: 'warning' },
  async run(p, ctx, deps) {
    if (!deps.alarms) throw missing('the alarm service');
    const details = (p.details ?? { rule: ctx.ruleName, ts: ctx.ts }) as JsonValue;
    const alarm = await deps.alarms.raise({ tenantId: ctx.tenantId, deviceId: ctx.deviceId, type: p.alarmType, severity: p.severity as AlarmSeverity, details });
    return { alarmId: alarm.id, count: alarm.count };
  },
});
