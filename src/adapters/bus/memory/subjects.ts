/** Subject matching, partition keys and message isolation (copy or freeze) for the memory bus (NATS subject semantics). */

/**
 * Whether `subject` matches the pattern's tokens (`*` one token, `>` the rest). The subject is
 * read in place rather than split: every telemetry message is published here, and a split array
 * per message showed up in the ingest bench's allocation profile.
 */
export function matches(pattern: readonly string[], subject: string): boolean {
  let start = 0; // where the subject's next token begins; past the end when there is none
  for (const p of pattern) {
    if (start > subject.length) return false;
    if (p === '>') return true;
    let end = subject.indexOf('.', start);
    if (end === -1) end = subject.length;
    if (p !== '*' && (end - start !== p.length || !subject.startsWith(p, start))) return false;
    start = end + 1;
  }
  return start === subject.length + 1;
}

export { deviceToken, hashKey } from '../partition.js';

/**
 * A telemetry message as one subscriber gets it: its own copy (points, and JSON values deep).
 * Telemetry is the hot path (one message per committed device message) and freezing it was
 * measured at ~1 µs a message (Object.freeze is a runtime call per object, five per message);
 * a copy of this known shape is a few allocations. Each delivery gets its own copy, so no
 * subscriber can change what the publisher or another subscriber sees.
 */
export function copyTelemetry(message: unknown): unknown {
  const m = message as { tenantId: string; deviceId: string; points: readonly { key: string; ts: number; value: unknown }[] };
  const points = m.points;
  const out = new Array<{ key: string; ts: number; value: unknown }>(points.length);
  for (let i = 0; i < points.length; i++) {
    const p = points[i] as { key: string; ts: number; value: unknown };
    out[i] = { key: p.key, ts: p.ts, value: typeof p.value === 'object' ? copyJson(p.value) : p.value };
  }
  return { tenantId: m.tenantId, deviceId: m.deviceId, points: out };
}

function copyJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // a key named __proto__ stays an own property (plain assignment would set the prototype)
    if (k === '__proto__') Object.defineProperty(out, k, { value: copyJson(v), enumerable: true, writable: true, configurable: true });
    else out[k] = copyJson(v);
  }
  return out;
}

/**
 * Freezes a message and everything it holds (events other than telemetry, which are rare):
 * no subscriber can change what the publisher or another subscriber sees. Objects already
 * frozen are not walked again.
 */
export function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
    return;
  }
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) deepFreeze((value as Record<string, unknown>)[keys[i] as string]);
}
