/** Clear the device's open alarm of a type (nothing happens when none is open). */
import { Type } from '@sinclair/typebox';
import { defineAction, missing } from './types.js';

export const clearAlarmAction = defineAction({
  type: 'clearAlarm',
  title: 'Clear alarm',
  description: "Clears the device's open alarm of this type, if any.",
  configSchema: Type.Object({ alarmType: Type.String({ minLength: 1, maxLength: 255 }) }, { additionalProperties: false }),
  defaults: {},
  async run(p, ctx, deps) {
    if (!deps.alarms) throw missing('the alarm service');
    const alarm = await deps.alarms.clear({ tenantId: ctx.tenantId, deviceId: ctx.deviceId, type: p.alarmType, details: { rule: ctx.ruleName, ts: ctx.ts } });
    return alarm ? { alarmId: alarm.id } : null;
  },
});
