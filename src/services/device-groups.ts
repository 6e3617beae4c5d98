/**
 * Device groups (issue 15): static members and/or a dynamic attribute filter; the unit of
 * customer assignment, bulk actions (one command per member, shared attributes) and rule targets.
 *
 * Resolved memberships are cached per group and dropped when the group changes here or when an
 * attribute of a filtered scope changes (the composition root calls attributesChanged from the
 * bus), so the rule engine asks isMember() per message without a store read.
 */
import { randomUUID } from 'node:crypto';
import type { AttributeScope, Device } from '../domain/device.js';
import { type DeviceGroup, type GroupFilter, matchesFilter, MAX_GROUP_CONDITIONS } from '../domain/device-groups.js';
import { PlatformError } from '../domain/errors.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { Clock, DeviceGroupLookup, Logger, Store } from '../ports.js';

export interface DeviceGroupServiceDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The commands service's send (one command per member). */
  readonly sendCommand?: (input: { tenantId: string; deviceId: string; method: string; params: JsonValue; persistent?: boolean; origin: string }) => Promise<{ id: string; status: string }>;
  /** The attribute service's set (shared values are pushed to each device). */
  readonly setShared?: (tenantId: string, deviceId: string, values: Record<string, JsonValue>) => Promise<void>;
}

export type BulkResult = { readonly deviceId: string; readonly commandId: string; readonly status: string } | { readonly deviceId: string; readonly error: string };

const MAX_NAME = 255;
/** Resolving a dynamic group walks the tenant's devices a page at a time. */
const PAGE = 1000;
/** Upper bound on members a bulk action reaches (one request must stay bounded). */
export const MAX_BULK_MEMBERS = 10_000;

const notFound = (id: string): PlatformError => new PlatformError('NOT_FOUND', `group ${id}`);

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_NAME) throw new PlatformError('BAD_REQUEST', `group name must be 1..${MAX_NAME} characters`);
  return trimmed;
}

function checkFilter(filter: GroupFilter | undefined): void {
  if (filter === undefined) return;
  if (filter.all.length === 0 || filter.all.length > MAX_GROUP_CONDITIONS) throw new PlatformError('BAD_REQUEST', `a filter has 1..${MAX_GROUP_CONDITIONS} conditions`);
}

export class DeviceGroupService implements DeviceGroupLookup {
  /** groupId → resolved member ids. */
  private readonly members = new Map<string, Promise<ReadonlySet<string>>>();
  /** Groups rules target: members kept in memory, answered synchronously (isMemberNow). */
  private readonly watched = new Map<string, ReadonlySet<string>>();
  private readonly listeners: (() => void)[] = [];
  private refreshing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: DeviceGroupServiceDeps) {}

  async create(tenantId: string, input: { name: string; filter?: GroupFilter }): Promise<DeviceGroup> {
    checkFilter(input.filter);
    const group: DeviceGroup = { id: randomUUID(), tenantId, name: checkName(input.name), ...(input.filter ? { filter: input.filter } : {}), createdAt: this.deps.clock.now() };
    await this.deps.store.insertGroup(group);
    return group;
  }

  list(tenantId: string): Promise<DeviceGroup[]> {
    return this.deps.store.listGroups(tenantId);
  }

  async get(tenantId: string, id: string): Promise<DeviceGroup> {
    const g = await this.deps.store.getGroup(id);
    if (!g || g.tenantId !== tenantId) throw notFound(id);
    return g;
  }

  /** Renames and/or replaces the filter (null: static only). */
  async update(tenantId: string, id: string, patch: { name?: string; filter?: GroupFilter | null }): Promise<DeviceGroup> {
    const current = await this.get(tenantId, id);
    let next: DeviceGroup = patch.name !== undefined ? { ...current, name: checkName(patch.name) } : current;
    if (patch.filter !== undefined) {
      const { filter: _old, ...rest } = next;
      checkFilter(patch.filter ?? undefined);
      next = patch.filter === null ? rest : { ...rest, filter: patch.filter };
    }
    await this.deps.store.updateGroup(next);
    this.members.delete(id);
    this.refreshWatched();
    return next;
  }

  async remove(tenantId: string, id: string): Promise<void> {
    await this.get(tenantId, id);
    await this.deps.store.deleteGroup(id);
    this.members.delete(id);
    this.refreshWatched();
  }

  /** Adds static members; every id must be a device of the tenant (404 naming the first that is not). */
  async addMembers(tenantId: string, id: string, deviceIds: readonly string[]): Promise<void> {
    await this.get(tenantId, id);
    for (const deviceId of deviceIds) {
      const d = await this.deps.store.getDevice(deviceId);
      if (!d || d.tenantId !== tenantId) throw new PlatformError('DEVICE_NOT_FOUND', deviceId);
    }
    await this.deps.store.addGroupMembers(id, [...new Set(deviceIds)]);
    this.members.delete(id);
    this.refreshWatched();
  }

  async removeMember(tenantId: string, id: string, deviceId: string): Promise<void> {
    await this.get(tenantId, id);
    if (!(await this.deps.store.removeGroupMember(id, deviceId))) throw new PlatformError('DEVICE_NOT_FOUND', deviceId);
    this.members.delete(id);
    this.refreshWatched();
  }

  /** The resolved members (static ∪ matching the filter), by name. */
  async devices(tenantId: string, id: string): Promise<Device[]> {
    const group = await this.get(tenantId, id);
    const ids = await this.memberIds(group);
    const devices: Device[] = [];
    for (const deviceId of ids) {
      const d = await this.deps.store.getDevice(deviceId);
      if (d && d.tenantId === tenantId) devices.push(d);
    }
    return devices.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** One command per member through the commands service; a member's failure does not stop the others. */
  async sendCommand(tenantId: string, id: string, input: { method: string; params: JsonValue; persistent?: boolean }, origin: string): Promise<BulkResult[]> {
    const send = this.deps.sendCommand;
    if (!send) throw new PlatformError('BAD_REQUEST', 'commands are not enabled');
    const members = await this.bulkMembers(tenantId, id);
    const results: BulkResult[] = [];
    for (const deviceId of members) {
      try {
        const c = await send({ tenantId, deviceId, method: input.method, params: input.params, ...(input.persistent !== undefined ? { persistent: input.persistent } : {}), origin });
        results.push({ deviceId, commandId: c.id, status: c.status });
      } catch (err) {
        results.push({ deviceId, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return results;
  }

  /** Sets shared attributes on every member (pushed to each device). */
  async setSharedAttributes(tenantId: string, id: string, values: Record<string, JsonValue>): Promise<string[]> {
    const set = this.deps.setShared;
    if (!set) throw new PlatformError('BAD_REQUEST', 'attributes are not enabled');
    const members = await this.bulkMembers(tenantId, id);
    for (const deviceId of members) await set(tenantId, deviceId, values);
    return members;
  }

  /** The member ids of a group of the tenant (customer assignment of a whole group). */
  async memberIdsOf(tenantId: string, id: string): Promise<string[]> {
    return [...(await this.memberIds(await this.get(tenantId, id)))];
  }

  /** For rules: is the device a member? Cached; a miss resolves the group once. */
  async isMember(groupId: string, deviceId: string): Promise<boolean> {
    const group = await this.deps.store.getGroup(groupId);
    if (!group) return false;
    return (await this.memberIds(group)).has(deviceId);
  }

  /** DeviceGroupLookup: names of the members of the tenant's group `groupName` (none if no such group). */
  async deviceNamesInGroup(tenantId: string, groupName: string): Promise<readonly string[]> {
    const group = (await this.deps.store.listGroups(tenantId)).find((g) => g.name === groupName);
    if (!group) return [];
    return (await this.devices(tenantId, group.id)).map((d) => d.name);
  }

  /** A device's attributes changed, or it was created or deleted: dynamic groups resolve again. */
  attributesChanged(): void {
    this.members.clear();
    this.refreshWatched();
  }

  getGroup(id: string): Promise<DeviceGroup | undefined> {
    return this.deps.store.getGroup(id);
  }

  isMemberNow(groupId: string, deviceId: string): boolean {
    return this.watched.get(groupId)?.has(deviceId) ?? false;
  }

  watch(groupId: string): void {
    if (!this.watched.has(groupId)) this.watched.set(groupId, new Set());
    this.refreshWatched();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Resolves the watched groups again (one pass at a time), then tells the listeners. */
  private refreshWatched(): void {
    if (this.watched.size === 0) return;
    this.refreshing = this.refreshing
      .then(async () => {
        for (const groupId of [...this.watched.keys()]) {
          const group = await this.deps.store.getGroup(groupId);
          this.watched.set(groupId, group ? await this.memberIds(group) : new Set());
        }
        for (const listener of this.listeners) listener();
      })
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'group membership refresh failed'));
  }

  private async bulkMembers(tenantId: string, id: string): Promise<string[]> {
    const ids = [...(await this.memberIds(await this.get(tenantId, id)))].sort();
    if (ids.length > MAX_BULK_MEMBERS) throw new PlatformError('BAD_REQUEST', `a bulk action reaches at most ${MAX_BULK_MEMBERS} devices`);
    return ids;
  }

  private memberIds(group: DeviceGroup): Promise<ReadonlySet<string>> {
    let found = this.members.get(group.id);
    if (!found) {
      found = this.resolve(group);
      this.members.set(group.id, found);
      found.catch(() => this.members.delete(group.id));
    }
    return found;
  }

  private async resolve(group: DeviceGroup): Promise<ReadonlySet<string>> {
    const ids = new Set(await this.deps.store.groupMembers(group.id));
    const filter = group.filter;
    if (!filter) return ids;
    const scopes = [...new Set(filter.all.map((c) => c.scope))];
    for (let offset = 0; ; offset += PAGE) {
      const page = await this.deps.store.listDevices({ tenantId: group.tenantId, limit: PAGE, offset });
      for (const d of page.items) {
        if (ids.has(d.id)) continue;
        const attrs = new Map<AttributeScope, Map<string, JsonValue>>();
        for (const scope of scopes) {
          const keys = filter.all.filter((c) => c.scope === scope).map((c) => c.key);
          const entries = await this.deps.store.getAttributes(d.id, scope, keys);
          attrs.set(scope, new Map(entries.map((e) => [e.key, e.value])));
        }
        if (matchesFilter(filter, attrs)) ids.add(d.id);
      }
      if (page.items.length < PAGE) break;
    }
    return ids;
  }
}
