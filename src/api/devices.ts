/** Device CRUD, search and paging, and per-device status. */
import { Type } from '@sinclair/typebox';
import type { DeviceStatus } from '../domain/device.js';
import { PlatformError } from '../domain/errors.js';
import type { CreateDeviceInput } from '../services/registry.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { deviceFilter, scopeOf } from './access.js';
import {
  CredentialInput,
  CredentialView,
  DeviceView,
  IdParams,
  PageOffset,
  StatusView,
  credentialView,
  deviceView,
  errorResponses,
  ref,
  statusView,
} from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['devices'];
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 255 }),
    label: Type.Optional(Type.String({ maxLength: 255 })),
    gateway: Type.Optional(Type.Boolean()),
    profileId: Type.Optional(Type.String({ minLength: 1 })),
    accessToken: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    credentials: Type.Optional(CredentialInput),
  },
  { additionalProperties: false },
);

const CreatedDevice = Type.Object({
  ...DeviceView.properties,
  accessToken: Type.Union([Type.String(), Type.Null()], {
    description: 'set when the device authenticates by access token: the token in full, shown in this answer only',
  }),
  credentials: Type.Array(ref(CredentialView)),
});

const DeviceCounts = Type.Object({ total: Type.Integer(), online: Type.Integer(), offline: Type.Integer() });

const ListQuery = Type.Object({
  search: Type.Optional(Type.String({ maxLength: 255, description: 'case-insensitive substring of name or label' })),
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE }),
  offset: PageOffset,
  gatewayId: Type.Optional(Type.String({ minLength: 1 })),
  profileId: Type.Optional(Type.String({ minLength: 1 })),
});

const PatchBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    label: Type.Optional(Type.Union([Type.String({ maxLength: 255 }), Type.Null()], { description: 'null or "" clears it' })),
    profileId: Type.Optional(Type.String({ minLength: 1 })),
    gatewayId: Type.Optional(
      Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
        description: 'attach the device to this gateway (its children are the only devices a gateway may report for); null detaches it',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

/** The credentials part of a create request, in the registry's terms. */
export function credentialsFor(
  accessToken: string | undefined,
  credentials: CredentialInput | undefined,
): Pick<CreateDeviceInput, 'accessToken' | 'basic' | 'certificateFingerprint'> {
  if (accessToken !== undefined && credentials !== undefined) {
    throw new PlatformError('BAD_REQUEST', 'give either accessToken or credentials, not both');
  }
  if (accessToken !== undefined) return { accessToken };
  switch (credentials?.type) {
    case undefined:
      return {};
    case 'ACCESS_TOKEN':
      return credentials.token !== undefined ? { accessToken: credentials.token } : {};
    case 'MQTT_BASIC':
      return { basic: { clientId: credentials.clientId, username: credentials.username, password: credentials.password } };
    case 'X509_CERTIFICATE':
      return { certificateFingerprint: credentials.fingerprint };
  }
}

export async function statusesOf(deps: ApiDeps, ids: readonly string[]): Promise<Map<string, DeviceStatus>> {
  if (ids.length === 0) return new Map();
  return new Map((await deps.status.getStatuses(ids)).map((s) => [s.deviceId, s]));
}

export const deviceRoutes: ApiPlugin<{ deps: ApiDeps }> = async (app, { deps }) => {
  const { registry } = deps;

  app.post(
    '/devices',
    {
      schema: {
        tags,
        operationId: 'createDevice', summary: 'Create a device; without credentials an access token is generated',
        body: CreateBody,
        response: { 201: CreatedDevice, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { tenantId } = principalOf(request);
      const b = request.body;
      const { device, credentials, accessToken } = await registry.createDevice({
        tenantId,
        name: b.name,
        ...(b.label !== undefined ? { label: b.label } : {}),
        ...(b.profileId !== undefined ? { profileId: b.profileId } : {}),
        isGateway: b.gateway ?? false,
        ...credentialsFor(b.accessToken, b.credentials),
      });
      return reply.code(201).send({
        ...deviceView(device, undefined),
        accessToken: accessToken ?? null,
        // The token in full, this once: the platform keeps only its keyed hash.
        credentials: credentials.map((c) => credentialView(c, c.type === 'ACCESS_TOKEN' ? accessToken : undefined)),
      });
    },
  );

  app.get(
    '/devices',
    {
      schema: {
        tags,
        operationId: 'listDevices', summary: 'Search and page through devices, with their connectivity',
        querystring: ListQuery,
        response: { 200: Type.Object({ items: Type.Array(ref(DeviceView)), total: Type.Integer() }), ...errorResponses },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      const q = request.query;
      const page = await registry.listDevices({
        tenantId: scope.tenantId,
        ...deviceFilter(scope),
        limit: q.limit,
        offset: q.offset,
        ...(q.search ? { search: q.search } : {}),
        ...(q.gatewayId ? { gatewayId: q.gatewayId } : {}),
        ...(q.profileId ? { profileId: q.profileId } : {}),
      });
      const statuses = await statusesOf(deps, page.items.map((d) => d.id));
      return { items: page.items.map((d) => deviceView(d, statuses.get(d.id))), total: page.total };
    },
  );

  app.get(
    '/devices/counts',
    {
      schema: {
        tags,
        operationId: 'countDevices', summary: "The tenant's devices counted by connectivity",
        response: { 200: DeviceCounts, ...errorResponses },
      },
    },
    async (request) => {
      const scope = scopeOf(request);
      const tenantId = scope.tenantId;
      const only = deviceFilter(scope);
      // Online is decided by the status service (sessions and recent activity), not stored as a
      // column, so the count walks the tenant's devices a page at a time.
      let online = 0;
      let total = 0;
      for (let offset = 0; ; offset += MAX_PAGE_SIZE) {
        const page = await registry.listDevices({ tenantId, ...only, limit: MAX_PAGE_SIZE, offset });
        total = page.total;
        const statuses = await statusesOf(deps, page.items.map((d) => d.id));
        for (const s of statuses.values()) if (s.online) online += 1;
        if (page.items.length < MAX_PAGE_SIZE || offset + MAX_PAGE_SIZE >= page.total) break;
      }
      return { total, online, offline: total - online };
    },
  );

  app.get(
    '/devices/:id',
    { schema: { tags, operationId: 'getDevice', summary: 'One device', params: IdParams, response: { 200: ref(DeviceView), ...errorResponses } } },
    async (request) => {
      const device = await registry.requireDevice(request.params.id, principalOf(request).tenantId);
      const statuses = await statusesOf(deps, [device.id]);
      return deviceView(device, statuses.get(device.id));
    },
  );

  app.patch(
    '/devices/:id',
    {
      schema: {
        tags,
        operationId: 'updateDevice', summary: 'Rename, relabel, move a device to another profile, or attach it to a gateway (admin)',
        params: IdParams,
        body: PatchBody,
        response: { 200: ref(DeviceView), ...errorResponses },
      },
    },
    async (request) => {
      const device = await registry.requireDevice(request.params.id, principalOf(request).tenantId);
      const b = request.body;
      const updated = await registry.updateDevice(device.id, {
        ...(b.name !== undefined ? { name: b.name } : {}),
        ...(b.label !== undefined ? { label: b.label ?? '' } : {}),
        ...(b.profileId !== undefined ? { profileId: b.profileId } : {}),
      });
      const linked = b.gatewayId !== undefined ? await registry.linkToGateway(device.id, b.gatewayId) : updated;
      const statuses = await statusesOf(deps, [device.id]);
      return deviceView(linked, statuses.get(device.id));
    },
  );

  app.delete(
    '/devices/:id',
    {
      schema: {
        tags,
        operationId: 'deleteDevice', summary: 'Delete a device with its credentials and data',
        params: IdParams,
        response: { 204: Type.Null({ description: 'deleted' }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const device = await registry.requireDevice(request.params.id, principalOf(request).tenantId);
      await registry.deleteDevice(device.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/devices/:id/status',
    { schema: { tags, operationId: 'getDeviceStatus', summary: 'Connectivity of one device', params: IdParams, response: { 200: ref(StatusView), ...errorResponses } } },
    async (request) => {
      const device = await registry.requireDevice(request.params.id, principalOf(request).tenantId);
      const statuses = await statusesOf(deps, [device.id]);
      return statusView(device.id, statuses.get(device.id));
    },
  );
};
