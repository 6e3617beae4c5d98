/**
 * Device-to-device MQTT grants (issue 15, item 5): CRUD for tenant admins, and compiling the
 * grants that apply to one connecting device into plain topic filters (policy variables resolved:
 * its name and id, its attributes, group members). The broker compiles once per CONNECT and checks
 * the result synchronously per PUBLISH/SUBSCRIBE, so no grant is read from the store per message.
 * A change to a tenant's grants is announced to `onChange` listeners; the composition root makes
 * the broker recompile the tenant's live connections (docs/MQTT.md).
 */
import { randomUUID } from 'node:crypto';
import type { DeviceIdentity } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import {
  GRANT_ACTIONS,
  TemplateError,
  expandTemplate,
  grantApplies,
  parseTemplate,
  templateNeeds,
  validateTemplate,
  type GrantAction,
  type GrantSubject,
  type GrantedFilters,
  type MqttGrant,
} from '../domain/mqtt-grants.js';
import type { Clock, DeviceGroupLookup, Logger, Store } from '../ports.js';

export interface MqttGrantDeps {
  readonly store: Pick<Store, 'listMqttGrants' | 'getMqttGrant' | 'insertMqttGrant' | 'deleteMqttGrant' | 'getDevice' | 'getAttributes'>;
  readonly groups: DeviceGroupLookup;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface NewGrant {
  readonly subject: { readonly deviceId?: string; readonly group?: string; readonly all?: boolean };
  readonly actions: readonly string[];
  readonly topic: string;
}

/** The most grants one tenant may hold: each is expanded at every CONNECT of its devices. */
export const MAX_GRANTS_PER_TENANT = 1000;

function badRequest(message: string): PlatformError {
  return new PlatformError('BAD_REQUEST', message);
}

function subjectOf(input: NewGrant['subject']): GrantSubject {
  const given = [input.deviceId !== undefined, input.group !== undefined, input.all !== undefined].filter(Boolean).length;
  if (given !== 1) throw badRequest('subject must be exactly one of {deviceId}, {group} or {all: true}');
  if (input.deviceId !== undefined) return { deviceId: input.deviceId };
  if (input.group !== undefined) {
    if (input.group.length === 0 || input.group.length > 255) throw badRequest('subject.group must be 1..255 characters');
    return { group: input.group };
  }
  if (input.all !== true) throw badRequest('subject.all must be true');
  return { all: true };
}

function actionsOf(actions: readonly string[]): GrantAction[] {
  const out = [...new Set(actions)];
  if (out.length === 0) throw badRequest('actions must name publish, subscribe or both');
  for (const a of out) if (!(GRANT_ACTIONS as readonly string[]).includes(a)) throw badRequest(`unknown action "${a}" (publish or subscribe)`);
  return out as GrantAction[];
}

/** An attribute value as text in a topic; objects and arrays are not usable there. */
function attributeText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

export class MqttGrantService {
  private readonly listeners = new Set<(tenantId: string) => void>();

  constructor(private readonly deps: MqttGrantDeps) {}

  /** Called after a tenant's grants changed (never throws into the caller). */
  onChange(listener: (tenantId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(tenantId: string): Promise<MqttGrant[]> {
    return this.deps.store.listMqttGrants(tenantId);
  }

  /** Another tenant's grant answers NOT_FOUND, like one that does not exist. */
  async get(tenantId: string, id: string): Promise<MqttGrant> {
    const grant = await this.deps.store.getMqttGrant(id);
    if (!grant || grant.tenantId !== tenantId) throw new PlatformError('NOT_FOUND', `grant ${id}`);
    return grant;
  }

  async create(tenantId: string, input: NewGrant): Promise<MqttGrant> {
    const subject = subjectOf(input.subject);
    const actions = actionsOf(input.actions);
    try {
      validateTemplate(input.topic);
    } catch (err) {
      if (err instanceof TemplateError) throw badRequest(`topic: ${err.message}`);
      throw err;
    }
    if ('deviceId' in subject) {
      const device = await this.deps.store.getDevice(subject.deviceId);
      if (!device || device.tenantId !== tenantId) throw new PlatformError('NOT_FOUND', `device ${subject.deviceId}`);
    }
    if ((await this.deps.store.listMqttGrants(tenantId)).length >= MAX_GRANTS_PER_TENANT) {
      throw new PlatformError('QUOTA_EXCEEDED', `a tenant holds at most ${MAX_GRANTS_PER_TENANT} grants`);
    }
    const grant: MqttGrant = { id: randomUUID(), tenantId, subject, actions, topic: input.topic, createdAt: this.deps.clock.now() };
    await this.deps.store.insertMqttGrant(grant);
    this.changed(tenantId);
    return grant;
  }

  async remove(tenantId: string, id: string): Promise<void> {
    await this.get(tenantId, id);
    await this.deps.store.deleteMqttGrant(id);
    this.changed(tenantId);
  }

  /**
   * The filters granted to this device now: every grant of its tenant whose subject is the device,
   * one of its groups or all devices, with the variables filled in. A grant whose attribute is
   * missing, or whose group is empty, adds nothing; one that expands too far is skipped and logged.
   */
  async compile(identity: DeviceIdentity): Promise<GrantedFilters> {
    const grants = await this.deps.store.listMqttGrants(identity.tenantId);
    if (grants.length === 0) return { publish: [], subscribe: [] };
    const members = new Map<string, readonly string[]>();
    const membersOf = async (group: string): Promise<readonly string[]> => {
      let names = members.get(group);
      if (!names) members.set(group, (names = await this.deps.groups.deviceNamesInGroup(identity.tenantId, group)));
      return names;
    };
    const applying: MqttGrant[] = [];
    for (const g of grants) {
      const inGroup = 'group' in g.subject ? (await membersOf(g.subject.group)).includes(identity.name) : false;
      if (grantApplies(g, identity.deviceId, () => inGroup)) applying.push(g);
    }
    const parsed = applying.map((g) => ({ grant: g, parts: parseTemplate(g.topic) }));
    const needs = parsed.map((p) => templateNeeds(p.parts));
    const attributes = await this.attributes(identity.deviceId, [...new Set(needs.flatMap((n) => n.attributes))]);
    for (const group of new Set(needs.flatMap((n) => n.groups))) await membersOf(group);
    const values = { deviceName: identity.name, deviceId: identity.deviceId, attributes, groups: members };
    const publish = new Set<string>();
    const subscribe = new Set<string>();
    for (const { grant, parts } of parsed) {
      let filters: string[];
      try {
        filters = expandTemplate(parts, values);
      } catch (err) {
        this.deps.logger.warn({ grantId: grant.id, deviceId: identity.deviceId, err: (err as Error).message }, 'mqtt grant skipped');
        continue;
      }
      for (const f of filters) {
        if (grant.actions.includes('publish')) publish.add(f);
        if (grant.actions.includes('subscribe')) subscribe.add(f);
      }
    }
    return { publish: [...publish], subscribe: [...subscribe] };
  }

  /** Server attributes first, then shared ones for keys the server scope lacks. */
  private async attributes(deviceId: string, keys: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (keys.length === 0) return out;
    for (const scope of ['server', 'shared'] as const) {
      for (const e of await this.deps.store.getAttributes(deviceId, scope, keys)) {
        const text = attributeText(e.value);
        if (text !== undefined && !out.has(e.key)) out.set(e.key, text);
      }
    }
    return out;
  }

  private changed(tenantId: string): void {
    for (const l of this.listeners) {
      try {
        l(tenantId);
      } catch (err) {
        this.deps.logger.error({ err: (err as Error).message, tenantId }, 'mqtt grant change listener failed');
      }
    }
  }
}
