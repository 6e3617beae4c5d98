/**
 * What the management API needs from the rest of the platform. The small interfaces here are
 * implemented by the attribute, status and RPC services; tests pass simple fakes.
 */
import type { PayloadDecoders } from '../ports/payload-decoders.js';
import type { AttributeEntry, AttributeScope, DeviceStatus } from '../domain/device.js';
import type { EdgeConfigKey } from '../domain/edge-config.js';
import type { JsonValue } from '../domain/telemetry.js';
import type { AlarmService } from '../services/alarms.js';
import type { AuditService } from '../services/audit.js';
import type { MetricsAccess } from './metrics-access.js';
import type { ListeningAddress } from '../ports.js';
import type { ClusterView } from '../ports/cluster-view.js';
import type { ReadinessReport } from '../services/readiness.js';
import type { AuthService } from '../services/auth.js';
import type { OidcSignin } from '../services/auth-oidc.js';
import type { CommandService } from '../services/commands.js';
import type { LiveService } from '../services/live.js';
import type { TwinService } from '../services/twin.js';
import type { OtaDeviceService } from '../services/ota-devices.js';
import type { OtaSigningService } from '../services/ota-signing.js';
import type { OtaPackageService } from '../services/ota-packages.js';
import type { RolloutApi } from './ota-deployments.js';
import type { TenantService } from '../services/tenants.js';
import type { RegistryService } from '../services/registry.js';
import type { RuleService } from '../services/rules/index.js';
import type { TelemetryQueryService } from '../services/telemetry-query.js';
import type { IntegrationService } from '../services/integrations/service.js';
import type { MqttGrantService } from '../services/mqtt-grants.js';
import type { QuotaService } from '../services/quotas.js';
import type { CustomerService } from '../services/customers.js';
import type { DeviceGroupService } from '../services/device-groups.js';

export interface AttributeApi {
  get(deviceId: string, scope: AttributeScope, keys?: string[]): Promise<AttributeEntry[]>;
  /** Stores the values; shared ones are pushed to the device. */
  set(tenantId: string, deviceId: string, scope: AttributeScope, values: Record<string, JsonValue>): Promise<void>;
  remove(tenantId: string, deviceId: string, scope: AttributeScope, keys: string[]): Promise<void>;
  /**
   * Sets (or, null, removes) the edge's reserved configuration attributes, and stores the push
   * history (server attribute edgeConfigHistory) when given; only the edge-config route calls it.
   */
  pushEdgeConfig(tenantId: string, deviceId: string, sections: Partial<Record<EdgeConfigKey, JsonValue | null>>, history?: JsonValue): Promise<void>;
}

export interface StatusApi {
  getStatuses(deviceIds: readonly string[]): Promise<DeviceStatus[]>;
}

export interface RpcApi {
  /** Resolves with the device's answer (undefined for one-way); throws RPC_TIMEOUT / DEVICE_OFFLINE. */
  call(req: { tenantId: string; deviceId: string; method: string; params: JsonValue; timeoutMs?: number; oneway: boolean }): Promise<JsonValue | undefined>;
}

/** OTA packages and a device's firmware (services/ota-packages.ts, services/ota-devices.ts). */
export interface OtaApi {
  readonly packages: Pick<OtaPackageService, 'upload' | 'external' | 'list' | 'get' | 'delete' | 'data' | 'chunkHashes'>;
  /** Signing keys and the tenant's policy; their routes exist only when given. */
  readonly signing?: OtaSigningService;
  readonly devices: Pick<OtaDeviceService, 'assign' | 'assignProfile' | 'status' | 'unassign'>;
  /** Deployments (rollouts); their routes exist only when given. */
  readonly rollouts?: RolloutApi;
}

export interface MetricsRenderer {
  render(): Promise<string>;
  readonly contentType: string;
  /** One answered HTTP request (route pattern, never the URL: bounded label values). */
  httpRequest?(method: string, route: string, status: number, seconds: number): void;
}

export interface ApiDeps {
  readonly registry: RegistryService;
  /** Runs a profile's decoder for POST /profiles/:id/decoder/test; absent, that route answers 400. */
  readonly decoders?: PayloadDecoders;
  readonly auth: AuthService;
  /** OpenID Connect sign-in (auth.oidc); absent: GET /api/auth/oidc/config answers enabled: false. */
  readonly oidc?: OidcSignin | undefined;
  /** The audit log: changes through the API and sign-ins are recorded; GET /api/audit reads it. */
  readonly audit?: Pick<AuditService, 'record' | 'list'>;
  readonly telemetry: TelemetryQueryService;
  readonly attributes: AttributeApi;
  readonly status: StatusApi;
  readonly rpc?: RpcApi;
  /** Rules: CRUD, validation, backtest (routes exist only when given). */
  readonly rules?: RuleService;
  /** Alarms, commands, device twin and live updates (issue 4); their routes exist only when given. */
  readonly alarms?: Pick<AlarmService, 'list' | 'get' | 'acknowledge' | 'clearById' | 'history'>;
  readonly commands?: Pick<CommandService, 'send' | 'get' | 'list'>;
  readonly twin?: Pick<TwinService, 'get'>;
  readonly live?: Pick<LiveService, 'subscribe'>;
  /** OTA packages and assignments (issue 16); routes exist only when given. */
  readonly ota?: OtaApi;
  /** Bridges and streams (issue 18); routes exist only when given. */
  readonly integrations?: Pick<IntegrationService, 'list' | 'get' | 'create' | 'remove' | 'webhook'>;
  /** Device-to-device MQTT grants (issue 15); routes exist only when given. */
  readonly mqttGrants?: Pick<MqttGrantService, 'list' | 'get' | 'create' | 'remove'>;
  /** Tenant quotas (issue 15): GET /api/quotas, GET/PUT /api/tenants/:id/quotas; routes exist only when given. */
  readonly quotas?: Pick<QuotaService, 'view' | 'set'>;
  /** Tenants administration (issue 15, sysadmin); routes exist only when given. */
  readonly tenants?: TenantService;
  /** Customers and what a customer user may see (issue 15); routes exist only when given. */
  readonly customers?: CustomerService;
  /** Device groups (issue 15); routes exist only when given. */
  readonly groups?: DeviceGroupService;
  readonly metrics: MetricsRenderer;
  /** Who may scrape /metrics; absent: admins only. */
  readonly metricsAccess?: MetricsAccess;
  /** The listening addresses once bound (GET /api/endpoints, for the add-device wizard); absent: no route. */
  readonly endpoints?: () => readonly ListeningAddress[];
  /** False while starting or stopping: /readyz answers 503. */
  ready(): boolean;
  /** The servers this node depends on (PostgreSQL, NATS), asked by /readyz; absent: none (SQLite, memory). */
  readonly dependencies?: () => Promise<ReadinessReport>;
  /** GET /api/cluster (nodes, partition owners); absent: no route. `nodeId` is the answering node. */
  readonly cluster?: { readonly view: ClusterView; readonly nodeId: string };
}
