/**
 * Wires who may do what on the embedded broker beyond a device's own namespace (issue 15):
 * device-to-device grants (compiled per CONNECT, recompiled for the tenant's connections when its
 * grants change) and applications connecting with an API key.
 */
import { NO_DEVICE_GROUPS } from '../adapters/device-groups/memory/lookup.js';
import type { AppIdentity, MqttTransportOptions } from '../adapters/transport/mqtt/index.js';
import { PlatformError } from '../domain/errors.js';
import type { Clock, DeviceGroupLookup, Logger, Store } from '../ports.js';
import type { AuthService } from '../services/auth.js';
import { MqttGrantService } from '../services/mqtt-grants.js';

/** Roles whose API keys may publish into device namespaces (operating); others subscribe only. */
const OPERATING_ROLES = new Set(['admin', 'user', 'sysadmin', 'tenant-admin', 'operator']);
/** Roles whose keys may not connect: a customer user sees only assigned devices, which the broker's ACL cannot scope yet. */
const REFUSED_ROLES = new Set(['customer-user']);

export interface MqttAccess {
  readonly grants: MqttGrantService;
  readonly transportOptions: Pick<MqttTransportOptions, 'grants' | 'authenticateApp'>;
  /** Once the transport exists: grant changes recompile the tenant's live connections. */
  bind(transport: { reauthorize(tenantId: string): Promise<number> }): void;
}

export function createMqttAccess(deps: { store: Store; clock: Clock; logger: Logger; auth: AuthService; groups?: DeviceGroupLookup }): MqttAccess {
  const logger = deps.logger.child({ component: 'mqtt-grants' });
  // The groups store (device groups, issue 15 item 2) supplies membership when wired by the
  // composition root; without it every `${group:…}` and group subject holds no device.
  const grants = new MqttGrantService({ store: deps.store, groups: deps.groups ?? NO_DEVICE_GROUPS, clock: deps.clock, logger });
  const authenticateApp = async (key: string): Promise<AppIdentity> => {
    const p = await deps.auth.verifyApiKey(key);
    if (REFUSED_ROLES.has(p.role)) throw new PlatformError('FORBIDDEN', 'customer users cannot connect applications over MQTT');
    return { tenantId: p.tenantId, userId: p.userId, mayPublish: OPERATING_ROLES.has(p.role) };
  };
  return {
    grants,
    transportOptions: { grants: (identity) => grants.compile(identity), authenticateApp },
    bind(transport) {
      grants.onChange((tenantId) => {
        transport.reauthorize(tenantId).then(
          (removed) => logger.info({ tenantId, removedSubscriptions: removed }, 'mqtt grants changed: connections recompiled'),
          (err: unknown) => logger.error({ tenantId, err: (err as Error).message }, 'mqtt grants changed: recompiling connections failed'),
        );
      });
    },
  };
}
