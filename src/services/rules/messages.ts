/** Telemetry messages as the rule engine evaluates them: one rule message per distinct timestamp. */
import type { RuleMessage } from '../../domain/rules/runtime.js';
import type { JsonValue, Point } from '../../domain/telemetry.js';

/** Sets an own property, also for a key named `__proto__` (which plain assignment would not create). */
function setValue(values: Record<string, JsonValue>, key: string, value: JsonValue): void {
  if (key === '__proto__') Object.defineProperty(values, key, { value, enumerable: true, writable: true, configurable: true });
  else values[key] = value;
}

/** A telemetry message split by timestamp: one rule message per distinct ts, oldest first. */
export function messagesOf(points: readonly Point[]): RuleMessage[] {
  const n = points.length;
  if (n === 0) return [];
  const ts = (points[0] as Point).ts;
  let single = true;
  for (let i = 1; i < n; i++) {
    if ((points[i] as Point).ts !== ts) {
      single = false;
      break;
    }
  }
  // The usual message: one timestamp, one object, no map or sort.
  if (single) {
    const values: Record<string, JsonValue> = {};
    for (let i = 0; i < n; i++) {
      const p = points[i] as Point;
      setValue(values, p.key, p.value as JsonValue);
    }
    return [{ ts, values }];
  }
  const byTs = new Map<number, Record<string, JsonValue>>();
  for (const p of points) {
    let values = byTs.get(p.ts);
    if (!values) byTs.set(p.ts, (values = {}));
    setValue(values, p.key, p.value as JsonValue);
  }
  return [...byTs.entries()].sort(([a], [b]) => a - b).map(([t, values]) => ({ ts: t, values }));
}
