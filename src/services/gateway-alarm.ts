/**
 * The body of `v1/gateway/alarm`, an edge alarm's lifecycle (docs/EDGE.md "Alarms at the edge"):
 * `{"device":"plc-1","id":"<edge id>","type":"OverTemperature","severity":"major",
 *   "details":{…},"raisedAt":1763800000000,"clearedAt":1763800060000}` (clearedAt absent or
 * null while open). Checked against this schema before anything is looked up.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ALARM_SEVERITIES, type AlarmSeverity } from '../domain/action-apis.js';
import { PlatformError } from '../domain/errors.js';
import { MAX_KEY_LENGTH, type JsonValue } from '../domain/telemetry.js';

const Timestamp = Type.Integer({ minimum: 0, maximum: 8_640_000_000_000 });

export const GatewayAlarmSchema = Type.Object(
  {
    device: Type.String({ minLength: 1, maxLength: 255 }),
    id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_.:-]+$' }),
    type: Type.String({ minLength: 1, maxLength: MAX_KEY_LENGTH }),
    severity: Type.Union(ALARM_SEVERITIES.map((s) => Type.Literal(s))),
    details: Type.Optional(Type.Unknown()),
    raisedAt: Timestamp,
    clearedAt: Type.Optional(Type.Union([Timestamp, Type.Null()])),
  },
  { additionalProperties: false },
);

export interface GatewayAlarm {
  readonly device: string;
  readonly id: string;
  readonly type: string;
  readonly severity: AlarmSeverity;
  readonly details?: JsonValue;
  readonly raisedAt: number;
  readonly clearedAt?: number;
}

export function parseGatewayAlarm(body: JsonValue): GatewayAlarm {
  if (!Value.Check(GatewayAlarmSchema, body)) {
    const first = Value.Errors(GatewayAlarmSchema, body).First();
    throw new PlatformError('MALFORMED_PAYLOAD', `gateway alarm: ${first ? `${first.path || '(root)'} ${first.message}` : 'invalid'}`);
  }
  const b: Static<typeof GatewayAlarmSchema> = body;
  return {
    device: b.device,
    id: b.id,
    type: b.type,
    severity: b.severity,
    ...(b.details !== undefined ? { details: b.details as JsonValue } : {}),
    raisedAt: b.raisedAt,
    ...(b.clearedAt !== undefined && b.clearedAt !== null ? { clearedAt: b.clearedAt } : {}),
  };
}
