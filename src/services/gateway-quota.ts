/**
 * How many child devices, and how many device types among them, one gateway may create through
 * the gateway API (`gateway.maxChildren`, `gateway.maxProfiles`). Without a cap one gateway
 * credential could fill the registry with devices and profiles.
 *
 * The counts come from the registry (the gateway's children and their profiles), so they
 * survive restarts; they are cached per gateway and kept up to date as this node admits new
 * children. A cached count can only be too high (a child deleted by an admin); before refusing,
 * a count older than RECOUNT_MS is read again.
 */
import { PlatformError } from '../domain/errors.js';
import type { DeviceIdentity } from '../domain/device.js';
import type { Clock, Logger } from '../ports.js';
import type { RegistryService } from './registry.js';
import { DEFAULT_PROFILE_NAME } from './registry.js';

export interface GatewayLimits {
  /** Child devices one gateway may have created (or been given). */
  readonly maxChildren: number;
  /** Distinct device types (profiles other than the default) among one gateway's children. */
  readonly maxProfiles: number;
}

export const DEFAULT_GATEWAY_LIMITS: GatewayLimits = { maxChildren: 1000, maxProfiles: 20 };

interface Usage {
  children: number;
  /** Profile names in use by the gateway's children (names are unique per tenant). */
  readonly profiles: Set<string>;
  readonly countedAt: number;
}

const RECOUNT_MS = 10_000;
const PAGE = 1000;

export interface GatewayQuotaDeps {
  readonly registry: RegistryService;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly limits: GatewayLimits;
}

export class GatewayQuota {
  private readonly usage = new Map<string, Promise<Usage>>();

  constructor(private readonly deps: GatewayQuotaDeps) {}

  /**
   * Admits `newChildren` more children, of type `type` when given (undefined: the default
   * profile), or throws QUOTA_EXCEEDED. Admitted ones are counted at once, so that concurrent
   * messages cannot together pass the cap.
   */
  async admit(gateway: DeviceIdentity, newChildren: number, type: string | undefined): Promise<void> {
    if (newChildren <= 0) return;
    let usage = await this.usageOf(gateway);
    let problem = this.problem(usage, newChildren, type);
    if (problem && this.deps.clock.now() - usage.countedAt >= RECOUNT_MS) {
      this.forget(gateway.deviceId);
      usage = await this.usageOf(gateway);
      problem = this.problem(usage, newChildren, type);
    }
    if (problem) {
      const { limits } = this.deps;
      this.deps.logger.warn(
        { gateway: gateway.name, gatewayId: gateway.deviceId, children: usage.children, profiles: usage.profiles.size, maxChildren: limits.maxChildren, maxProfiles: limits.maxProfiles, asked: newChildren, type },
        'gateway quota exceeded: child device not created',
      );
      throw new PlatformError('QUOTA_EXCEEDED', problem);
    }
    usage.children += newChildren;
    if (type !== undefined) usage.profiles.add(type);
  }

  /** Drops the cached counts of a gateway (a creation failed, or its children changed). */
  forget(gatewayId: string): void {
    this.usage.delete(gatewayId);
  }

  private problem(usage: Usage, newChildren: number, type: string | undefined): string | undefined {
    const { maxChildren, maxProfiles } = this.deps.limits;
    if (usage.children + newChildren > maxChildren) return `gateway may have at most ${maxChildren} child devices (gateway.maxChildren)`;
    if (type !== undefined && type !== DEFAULT_PROFILE_NAME && !usage.profiles.has(type) && usage.profiles.size + 1 > maxProfiles) {
      return `gateway children may have at most ${maxProfiles} device types (gateway.maxProfiles)`;
    }
    return undefined;
  }

  private usageOf(gateway: DeviceIdentity): Promise<Usage> {
    let found = this.usage.get(gateway.deviceId);
    if (!found) {
      found = this.count(gateway);
      this.usage.set(gateway.deviceId, found);
      found.catch(() => this.usage.delete(gateway.deviceId));
    }
    return found;
  }

  private async count(gateway: DeviceIdentity): Promise<Usage> {
    const { registry, clock } = this.deps;
    const countedAt = clock.now();
    const profileIds = new Set<string>();
    let children = 0;
    for (let offset = 0; ; offset += PAGE) {
      const page = await registry.listDevices({ tenantId: gateway.tenantId, gatewayId: gateway.deviceId, limit: PAGE, offset });
      children = page.total;
      for (const d of page.items) profileIds.add(d.profileId);
      if (page.items.length < PAGE) break;
    }
    const profiles = new Set<string>();
    for (const id of profileIds) {
      const name = (await registry.getProfile(id))?.name;
      if (name !== undefined && name !== DEFAULT_PROFILE_NAME) profiles.add(name);
    }
    return { children, profiles, countedAt };
  }
}
