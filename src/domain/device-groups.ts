/**
 * Device groups (issue 15): a static member list and/or a dynamic filter on attributes. A device
 * belongs to the group when it is a static member, or when the filter is set and every condition
 * holds for the device's attributes.
 */
import type { AttributeScope } from './device.js';
import type { JsonValue } from './telemetry.js';

/** One condition: the attribute `key` of `scope` equals `equals` (deep JSON equality). */
export interface GroupCondition {
  readonly scope: AttributeScope;
  readonly key: string;
  readonly equals: JsonValue;
}

/** All conditions must hold (a small AND list). */
export interface GroupFilter {
  readonly all: readonly GroupCondition[];
}

export interface DeviceGroup {
  readonly id: string;
  readonly tenantId: string;
  readonly name: string;
  readonly filter?: GroupFilter;
  readonly createdAt: number;
}

export const MAX_GROUP_CONDITIONS = 8;

function sameJson(a: JsonValue | undefined, b: JsonValue): boolean {
  return a !== undefined && JSON.stringify(a) === JSON.stringify(b);
}

/** Whether attributes (by scope, then key) satisfy the filter. */
export function matchesFilter(filter: GroupFilter, attributes: ReadonlyMap<AttributeScope, ReadonlyMap<string, JsonValue>>): boolean {
  if (filter.all.length === 0) return false;
  return filter.all.every((c) => sameJson(attributes.get(c.scope)?.get(c.key), c.equals));
}
