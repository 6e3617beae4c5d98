/**
 * Attribute names reserved for the edge gateway's configuration and its reports. The edge runs
 * the shared attributes `edgeConnectors`/`edgeRules` as its configuration (docs/EDGE.md), which
 * makes writing them an administrative act: only the edge-config endpoint (admin, audited) may
 * set them. Every other writer — the generic attributes route (any role), devices (client
 * attributes), gateways for their children, rule actions — is refused any `edge…` name, except
 * the status the edge itself reports as client attributes.
 */
import { PlatformError } from './errors.js';
import type { AttributeScope } from './device.js';
import type { JsonValue } from './telemetry.js';

/**
 * Shared attributes the edge applies as its configuration; `edgeConfigPush` is the push's
 * number (`{version, digest}`), which the edge reports back with the result of that push.
 */
export const EDGE_CONFIG_KEYS = ['edgeConnectors', 'edgeRules', 'edgeConfigPush'] as const;
export type EdgeConfigKey = (typeof EDGE_CONFIG_KEYS)[number];

/** Client attributes the edge reports about the configuration it runs. */
export const EDGE_STATUS_KEYS: readonly string[] = ['edgeConfigVersion', 'edgeConfigError', 'edgeConfigResult'];

/** Server attribute holding the gateway's push history (written by the edge-config endpoint only). */
export const EDGE_CONFIG_HISTORY_KEY = 'edgeConfigHistory';

/** `edge` followed by an upper-case letter: the namespace kept for the edge, now and later. */
export function isReservedEdgeKey(key: string): boolean {
  return key.length > 4 && key.startsWith('edge') && key.charCodeAt(4) >= 65 && key.charCodeAt(4) <= 90;
}

/** Throws FORBIDDEN when an ordinary write (not the edge-config endpoint) names a reserved key. */
export function checkOrdinaryAttributeWrite(scope: AttributeScope, keys: Iterable<string>): void {
  for (const key of keys) {
    if (!isReservedEdgeKey(key)) continue;
    if (scope === 'client' && EDGE_STATUS_KEYS.includes(key)) continue;
    const how = scope === 'client' ? 'a device may not set it' : 'set edge configuration with PUT /api/devices/{id}/edge-config (admin)';
    throw new PlatformError('FORBIDDEN', `attribute "${key}" is reserved for the edge gateway: ${how}`);
  }
}

/** Sections of the edge configuration in force on the platform side: absent = the edge's file applies. */
export interface EdgeSections {
  readonly edgeConnectors?: JsonValue;
  readonly edgeRules?: JsonValue;
}

/** One numbered push as the history keeps it: what was in force after it, so it can be pushed again. */
export interface EdgePushRecord {
  readonly version: number;
  readonly digest: string;
  readonly at: number;
  readonly actor: string;
  /** Set when this push re-pushed an earlier one (rollback). */
  readonly rollbackOf?: number;
  readonly state: EdgeSections;
}

/** Pushes kept per gateway: enough to go back a few steps, bounded in size. */
export const EDGE_PUSH_HISTORY_LIMIT = 20;

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The stored history, read defensively: entries of another shape are skipped, not trusted. */
export function parseEdgePushHistory(value: JsonValue | undefined): EdgePushRecord[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((e): EdgePushRecord[] => {
    if (!isRecord(e) || typeof e.version !== 'number' || typeof e.digest !== 'string' || typeof e.at !== 'number' || typeof e.actor !== 'string' || !isRecord(e.state)) return [];
    const state = e.state as Record<string, JsonValue>;
    return [
      {
        version: e.version,
        digest: e.digest,
        at: e.at,
        actor: e.actor,
        ...(typeof e.rollbackOf === 'number' ? { rollbackOf: e.rollbackOf } : {}),
        state: { ...(state.edgeConnectors !== undefined ? { edgeConnectors: state.edgeConnectors } : {}), ...(state.edgeRules !== undefined ? { edgeRules: state.edgeRules } : {}) },
      },
    ];
  });
}

/**
 * The sections after a push over `before`: an array replaces a section, null removes it (the
 * file's applies again), undefined leaves it as it was.
 */
export function sectionsAfter(before: EdgeSections, push: { readonly connectors?: JsonValue | null; readonly rules?: JsonValue | null }): EdgeSections {
  const pick = (old: JsonValue | undefined, change: JsonValue | null | undefined): JsonValue | undefined => (change === undefined ? old : change === null ? undefined : change);
  const edgeConnectors = pick(before.edgeConnectors, push.connectors);
  const edgeRules = pick(before.edgeRules, push.rules);
  return { ...(edgeConnectors !== undefined ? { edgeConnectors } : {}), ...(edgeRules !== undefined ? { edgeRules } : {}) };
}

/** Appends a push to the history, numbered one above the newest, keeping the last EDGE_PUSH_HISTORY_LIMIT. */
export function appendEdgePush(history: readonly EdgePushRecord[], entry: Omit<EdgePushRecord, 'version'>): { record: EdgePushRecord; history: EdgePushRecord[] } {
  const version = history.reduce((n, e) => Math.max(n, e.version), 0) + 1;
  const record: EdgePushRecord = { version, ...entry };
  return { record, history: [...history, record].slice(-EDGE_PUSH_HISTORY_LIMIT) };
}
