/**
 * Live updates for API clients (the WebSocket at /api/ws): a subscription names what (telemetry,
 * alarms, device status, command states) and optionally one device or one device profile; the
 * matching bus events of the subscriber's tenant come out as small messages. The subject pattern
 * always carries the tenant, so a subscription can never see another tenant's events. A customer
 * user's subscription also drops every event of a device outside its scope (issue 15).
 */
import { type AccessScope, canSeeDevice, isNarrowed } from '../domain/customers.js';
import type { Device, DeviceProfile } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { Bus, BusEvents, Clock, Logger } from '../ports.js';

export const LIVE_TOPICS = ['telemetry', 'alarms', 'status', 'commands'] as const;
export type LiveTopic = (typeof LIVE_TOPICS)[number];

export interface LiveFilter {
  readonly type: LiveTopic;
  readonly deviceId?: string;
  readonly profileId?: string;
}

export interface LiveMessage {
  readonly type: LiveTopic;
  readonly deviceId: string;
  readonly data: JsonValue;
  readonly ts: number;
}

export interface LiveDeps {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly requireDevice: (deviceId: string, tenantId: string) => Promise<Device>;
  readonly getDevice: (deviceId: string) => Promise<Device | undefined>;
  readonly getProfile: (profileId: string) => Promise<DeviceProfile | undefined>;
}

const EVENT_OF = { telemetry: 'telemetry', alarms: 'alarm', status: 'status', commands: 'command' } as const satisfies Record<LiveTopic, keyof BusEvents>;

/** How long a device's profile is trusted for profile-filtered subscriptions (devices may change profile). */
const PROFILE_TTL_MS = 10_000;
const PROFILE_CACHE_SIZE = 10_000;

/** Bus event → message; every payload is plain JSON already (copied by the bus publisher). */
function render(topic: LiveTopic, msg: unknown, now: number): LiveMessage {
  switch (topic) {
    case 'telemetry': {
      const m = msg as BusEvents['telemetry'];
      const data: Record<string, { ts: number; value: JsonValue }[]> = {};
      let ts = 0;
      for (const p of m.points) {
        if (!Object.hasOwn(data, p.key)) Object.defineProperty(data, p.key, { value: [], enumerable: true, writable: true });
        data[p.key]?.push({ ts: p.ts, value: p.value as JsonValue });
        ts = Math.max(ts, p.ts);
      }
      return { type: topic, deviceId: m.deviceId, data, ts };
    }
    case 'alarms': {
      const m = msg as BusEvents['alarm'];
      return { type: topic, deviceId: m.deviceId, data: { action: m.action, ...m.alarm } as unknown as JsonValue, ts: m.alarm.updatedAt };
    }
    case 'status': {
      const { tenantId: _tenant, ...status } = msg as BusEvents['status'];
      return { type: topic, deviceId: status.deviceId, data: status as unknown as JsonValue, ts: now };
    }
    case 'commands': {
      const m = msg as BusEvents['command'];
      return { type: topic, deviceId: m.deviceId, data: m.command as unknown as JsonValue, ts: m.command.updatedAt };
    }
  }
}

export class LiveService {
  private readonly profiles = new Map<string, { device: Device | undefined; at: number }>();

  constructor(private readonly deps: LiveDeps) {}

  /** Checks the filter against the tenant; resolves with the function that ends the subscription. */
  async subscribe(tenantOrScope: string | AccessScope, filter: LiveFilter, push: (message: LiveMessage) => void): Promise<() => void> {
    const scope: AccessScope = typeof tenantOrScope === 'string' ? { tenantId: tenantOrScope } : tenantOrScope;
    const { tenantId } = scope;
    if (!LIVE_TOPICS.includes(filter.type)) throw new PlatformError('BAD_REQUEST', `unknown subscription type ${String(filter.type)}`);
    if (filter.deviceId !== undefined) {
      const device = await this.deps.requireDevice(filter.deviceId, tenantId);
      if (!canSeeDevice(scope, device)) throw new PlatformError('DEVICE_NOT_FOUND', filter.deviceId);
    }
    if (filter.profileId !== undefined) {
      const profile = await this.deps.getProfile(filter.profileId);
      if (!profile || profile.tenantId !== tenantId) throw new PlatformError('PROFILE_NOT_FOUND', filter.profileId);
    }
    const event = EVENT_OF[filter.type];
    const pattern = `${event}.${tenantId}.${filter.deviceId ?? '*'}`;
    const deliver = (msg: unknown): void => {
      try {
        push(render(filter.type, msg, this.deps.clock.now()));
      } catch (err) {
        this.deps.logger.warn({ err }, 'live update push failed');
      }
    };
    const profileId = filter.profileId;
    if (profileId === undefined && !isNarrowed(scope)) return this.deps.bus.subscribe(event, pattern, deliver);
    // Device lookups may be async: a chain keeps the messages of this subscription in order.
    let chain = Promise.resolve();
    return this.deps.bus.subscribe(event, pattern, (msg) => {
      const deviceId = (msg as { deviceId: string }).deviceId;
      chain = chain
        .then(async () => {
          const device = await this.deviceOf(deviceId, scope.customerIds !== undefined);
          if (!device) return;
          if (profileId !== undefined && device.profileId !== profileId) return;
          if (!canSeeDevice(scope, device)) return;
          deliver(msg);
        })
        .catch((err: unknown) => this.deps.logger.warn({ err, deviceId }, 'live update device lookup failed'));
    });
  }

  /**
   * The device as of at most PROFILE_TTL_MS ago. For a customer scope the cache is not trusted
   * (`fresh`): an unassigned device must stop streaming at once, so each message reads it.
   */
  private async deviceOf(deviceId: string, fresh: boolean): Promise<Device | undefined> {
    const now = this.deps.clock.now();
    const cached = this.profiles.get(deviceId);
    if (!fresh && cached && now - cached.at < PROFILE_TTL_MS) return cached.device;
    const device = await this.deps.getDevice(deviceId);
    if (this.profiles.size >= PROFILE_CACHE_SIZE) this.profiles.clear();
    this.profiles.set(deviceId, { device, at: now });
    return device;
  }
}
