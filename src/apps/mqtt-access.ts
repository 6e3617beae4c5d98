/**
 * Wires who may do what on the embedded broker beyond a device's own namespace (issue 15):
 * device-to-device grants (compiled per CONNECT, recompiled for the tenant's connections when its
 * grants change) and applications connecting with an API key.
 */
import { NO_DEVICE_GROUPS } from '../adapters/device-groups/memory/lookup.js';
import type { AppIdentity, MqttTransportOptions } from '../adapters/transport/mqtt/index.js';
import { PlatformError } from '../domain/errors.js';
import { allows } from '../domain/permissions.js';
import type { Clock, DeviceGroupLookup, Logger, Store } from '../ports.js';
import type { AuthService } from '../services/auth.js';
import { MqttGrantService } from '../services/mqtt-grants.js';
import type { TenantStatusCache } from '../services/tenant-status.js';


export interface MqttAccess {
  readonly grants: MqttGrantService;
  readonly transportOptions: Pick<MqttTransportOptions, 'grants' | 'authenticateApp'>;
  /**
   * Once the transport exists: grant changes recompile the tenant's live connections; a suspended
   * or deleted tenant's clients are disconnected.
   */
  bind(transport: { reauthorize(tenantId: string): Promise<number>; revokeTenant(tenantId: string, why: string, forget: boolean): number }): void;
}

export interface MqttAccessDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly auth: AuthService;
  readonly groups?: DeviceGroupLookup;
  readonly tenantStatus?: Pick<TenantStatusCache, 'onRevoked'>;
}

export function createMqttAccess(deps: MqttAccessDeps): MqttAccess {
  const logger = deps.logger.child({ component: 'mqtt-grants' });
  // The groups store (device groups, issue 15 item 2) supplies membership when wired by the
  // composition root; without it every `${group:…}` and group subject holds no device.
  const grants = new MqttGrantService({ store: deps.store, groups: deps.groups ?? NO_DEVICE_GROUPS, clock: deps.clock, logger });
  const authenticateApp = async (key: string): Promise<AppIdentity> => {
    const p = await deps.auth.verifyApiKey(key);
    // A customer-scoped key sees only assigned devices, which the broker's ACL cannot scope yet.
    if (p.role === 'customer-user' || p.customerId !== undefined || (await deps.auth.roles.scopeOf(p)) !== undefined) {
      throw new PlatformError('FORBIDDEN', 'customer-scoped keys cannot connect applications over MQTT');
    }
    // The same permissions as the REST API: reading device data to subscribe, operating devices to publish into their namespaces.
    const permissions = await deps.auth.roles.permissionsOf(p);
    if (!allows(permissions, 'telemetry:read')) throw new PlatformError('FORBIDDEN', `the role ${p.role} may not read device data`);
    return { tenantId: p.tenantId, userId: p.userId, mayPublish: allows(permissions, 'commands:operate') };
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
      deps.tenantStatus?.onRevoked((tenantId, status) => {
        const closed = transport.revokeTenant(tenantId, `tenant ${status}`, status === 'deleted');
        deps.logger.info({ tenantId, status, closedConnections: closed }, `mqtt: tenant ${status}, its clients disconnected`);
      });
    },
  };
}
