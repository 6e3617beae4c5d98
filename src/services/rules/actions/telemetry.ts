/**
 * Write derived telemetry for the device at the timestamp of the message that fired the rule,
 * e.g. `{"values": {"dewPoint": "${temperature - (100 - humidity) / 5}"}}`. It goes through
 * ingest, so it is validated, stored and announced like device data (other rules see it).
 */
import { Type } from '@sinclair/typebox';
import type { Point, TelemetryValue } from '../../../domain/telemetry.js';
import { defineAction, missing } from './types.js';

export const telemetryAction = defineAction({
  type: 'telemetry',
  title: 'Write derived telemetry',
  description: 'Stores computed values as telemetry of the device, at the timestamp of the triggering message.',
  configSchema: Type.Object(
    { values: Type.Record(Type.String({ minLength: 1, maxLength: 255 }), Type.Unknown(), { minProperties: 1, description: 'key → value; "${expr}" stores the expression\'s value' }) },
    { additionalProperties: false },
  ),
  defaults: {},
  async run(p, ctx, deps) {
    if (!deps.telemetry) throw missing('telemetry ingest');
    // A null (missing input) is no reading: it is skipped rather than stored.
    const points: Point[] = Object.entries(p.values)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([key, value]) => ({ key, ts: ctx.ts, value: value as TelemetryValue }));
    if (points.length > 0) await deps.telemetry.write(ctx.tenantId, ctx.deviceId, points);
    return { keys: points.map((pt) => pt.key) };
  },
});
