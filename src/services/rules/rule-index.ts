/**
 * Enabled rules, compiled, indexed by what they target, so finding the rules of a device is three
 * map lookups. A tenant without rules costs the engine one set lookup per bus message.
 */
import type { Device } from '../../domain/device.js';
import { compileRule, type CompiledRule } from '../../domain/rules/compile.js';
import type { Rule } from '../../domain/rules/model.js';

export class RuleIndex {
  private readonly rules = new Map<string, CompiledRule>();
  private readonly byDevice = new Map<string, Set<string>>();
  private readonly byProfile = new Map<string, Set<string>>();
  private readonly byTenant = new Map<string, Set<string>>();
  /** tenant id → number of enabled rules. */
  private readonly tenants = new Map<string, number>();
  /** What forDevice answered per device, valid while the index version and the device's targets are unchanged. */
  private readonly resolved = new Map<string, { version: number; profileId: string; tenantId: string; rules: readonly CompiledRule[] }>();
  /** Bumped on every upsert/remove: invalidates every resolved entry at once. */
  private version = 0;

  /**
   * `memberOf` answers from the group service's kept memberships (no store read per message);
   * membershipChanged() is called when they change.
   */
  constructor(private readonly memberOf: (groupId: string, deviceId: string) => boolean = () => false) {}

  /** A group's members changed: rules targeting groups resolve again. */
  membershipChanged(): void {
    this.invalidate();
  }

  get size(): number {
    return this.rules.size;
  }

  hasTenant(tenantId: string): boolean {
    return (this.tenants.get(tenantId) ?? 0) > 0;
  }

  get(id: string): CompiledRule | undefined {
    return this.rules.get(id);
  }

  all(): CompiledRule[] {
    return [...this.rules.values()];
  }

  /** Compiles and indexes an enabled rule (a disabled one is removed). Throws RuleError. */
  upsert(rule: Rule): CompiledRule | undefined {
    this.remove(rule.id);
    this.invalidate();
    if (!rule.enabled) return undefined;
    const compiled = compileRule(rule);
    this.rules.set(rule.id, compiled);
    this.bucket(rule).add(rule.id);
    this.tenants.set(rule.tenantId, (this.tenants.get(rule.tenantId) ?? 0) + 1);
    return compiled;
  }

  remove(id: string): void {
    const old = this.rules.get(id);
    if (!old) return;
    this.invalidate();
    this.rules.delete(id);
    this.bucket(old.rule).delete(id);
    const n = (this.tenants.get(old.rule.tenantId) ?? 1) - 1;
    if (n > 0) this.tenants.set(old.rule.tenantId, n);
    else this.tenants.delete(old.rule.tenantId);
  }

  /**
   * Every enabled rule that applies to the device: its own, its profile's, its tenant's. Resolved
   * once per device and index version (the engine asks on every message); the array is shared,
   * never mutate it.
   */
  forDevice(device: Device): readonly CompiledRule[] {
    const hit = this.resolved.get(device.id);
    if (hit && hit.version === this.version && hit.profileId === device.profileId && hit.tenantId === device.tenantId) return hit.rules;
    const rules = this.resolve(device);
    this.resolved.set(device.id, { version: this.version, profileId: device.profileId, tenantId: device.tenantId, rules });
    return rules;
  }

  private invalidate(): void {
    this.version++;
    this.resolved.clear();
  }

  private resolve(device: Device): readonly CompiledRule[] {
    const out: CompiledRule[] = [];
    for (const ids of [this.byDevice.get(device.id), this.byProfile.get(device.profileId), this.byTenant.get(device.tenantId)]) {
      for (const id of ids ?? []) {
        const r = this.rules.get(id);
        if (!r || r.rule.tenantId !== device.tenantId) continue;
        if (r.rule.groupId !== undefined && !this.memberOf(r.rule.groupId, device.id)) continue;
        out.push(r);
      }
    }
    return Object.freeze(out);
  }

  private bucket(rule: Rule): Set<string> {
    const [map, key] =
      rule.deviceId !== undefined ? [this.byDevice, rule.deviceId] : rule.profileId !== undefined ? [this.byProfile, rule.profileId] : [this.byTenant, rule.tenantId];
    let set = map.get(key);
    if (!set) map.set(key, (set = new Set()));
    return set;
  }
}
