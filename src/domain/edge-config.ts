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

/** Shared attributes the edge applies as its configuration. */
export const EDGE_CONFIG_KEYS = ['edgeConnectors', 'edgeRules'] as const;
export type EdgeConfigKey = (typeof EDGE_CONFIG_KEYS)[number];

/** Client attributes the edge reports about the configuration it runs. */
export const EDGE_STATUS_KEYS: readonly string[] = ['edgeConfigVersion', 'edgeConfigError'];

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
