/**
 * Customers over REST (issue 15), in the caller's tenant: the tree, device and dashboard
 * assignments (and a whole group's members at once). Writes are tenant-admin only (roles.ts);
 * customer users never reach these routes. An id of another tenant answers 404.
 */
import { Type } from '@sinclair/typebox';
import type { Customer } from '../domain/customers.js';
import type { CustomerService } from '../services/customers.js';
import type { DeviceGroupService } from '../services/device-groups.js';
import type { ApiDeps } from './deps.js';
import { principalOf } from './principal.js';
import { deviceView, DeviceView, errorResponses, IdParams, ref } from './schemas.js';
import type { ApiPlugin } from './type-provider.js';

const tags = ['customers'];
const Id = Type.String({ minLength: 1, maxLength: 64 });
const Ids = (what: string) => Type.Array(Id, { minItems: 1, maxItems: 1000, description: `${what} ids of the caller's tenant` });

const CustomerView = Type.Object(
  { id: Type.String(), name: Type.String(), parentId: Type.Optional(Type.String()), createdAt: Type.Integer() },
  { title: 'Customer' },
);

const view = (c: Customer) => ({ id: c.id, name: c.name, ...(c.parentId !== undefined ? { parentId: c.parentId } : {}), createdAt: c.createdAt });
const SubParams = Type.Object({ id: Id, itemId: Id });

export const customerRoutes: ApiPlugin<{ deps: ApiDeps; customers: CustomerService; groups?: DeviceGroupService }> = async (app, { deps, customers, groups }) => {
  const tenant = (request: Parameters<typeof principalOf>[0]): string => principalOf(request).tenantId;

  app.post(
    '/customers',
    {
      schema: {
        tags,
        operationId: 'createCustomer', summary: 'Create a customer, optionally below another (sub-customers nest at most 5 deep)',
        body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }), parentId: Type.Optional(Id) }, { additionalProperties: false }),
        response: { 201: CustomerView, ...errorResponses },
      },
    },
    async (request, reply) => reply.code(201).send(view(await customers.create(tenant(request), request.body))),
  );

  app.get('/customers', { schema: { tags, operationId: 'listCustomers', summary: "The tenant's customers by name (parentId gives the tree)", response: { 200: Type.Object({ items: Type.Array(CustomerView) }), ...errorResponses } } }, async (request) => ({
    items: (await customers.list(tenant(request))).map(view),
  }));

  app.get('/customers/:id', { schema: { tags, operationId: 'getCustomer', summary: 'One customer', params: IdParams, response: { 200: CustomerView, ...errorResponses } } }, async (request) =>
    view(await customers.get(tenant(request), request.params.id)),
  );

  app.patch(
    '/customers/:id',
    {
      schema: {
        tags,
        operationId: 'updateCustomer', summary: 'Rename or move a customer (parentId null: to the top); no cycles, at most 5 deep',
        params: IdParams,
        body: Type.Object({ name: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })), parentId: Type.Optional(Type.Union([Id, Type.Null()])) }, { additionalProperties: false, minProperties: 1 }),
        response: { 200: CustomerView, ...errorResponses },
      },
    },
    async (request) => view(await customers.update(tenant(request), request.params.id, request.body)),
  );

  app.delete(
    '/customers/:id',
    {
      schema: {
        tags,
        operationId: 'deleteCustomer', summary: 'Delete a customer: 409 while it has sub-customers or users; its devices and dashboards become unassigned',
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await customers.remove(tenant(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/customers/:id/devices',
    { schema: { tags, operationId: 'listCustomerDevices', summary: 'The devices assigned to this customer (not those of its sub-customers)', params: IdParams, response: { 200: Type.Object({ items: Type.Array(ref(DeviceView)) }), ...errorResponses } } },
    async (request) => {
      const c = await customers.get(tenant(request), request.params.id);
      const page = await deps.registry.listDevices({ tenantId: c.tenantId, customerIds: [c.id], limit: 10_000, offset: 0 });
      return { items: page.items.map((d) => deviceView(d, undefined)) };
    },
  );

  app.post(
    '/customers/:id/devices',
    {
      schema: {
        tags,
        operationId: 'assignCustomerDevices', summary: 'Assign devices to the customer (moving them from any other); every id must be a device of the tenant (404 naming it)',
        params: IdParams,
        body: Type.Object({ deviceIds: Ids('device') }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await customers.assignDevices(tenant(request), request.params.id, request.body.deviceIds);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/customers/:id/devices/:itemId',
    { schema: { tags, operationId: 'unassignCustomerDevice', summary: 'Unassign one device', params: SubParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await customers.unassignDevice(tenant(request), request.params.id, request.params.itemId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/customers/:id/dashboards',
    {
      schema: {
        tags,
        operationId: 'assignCustomerDashboards', summary: "Assign dashboards to the customer; its users see them (and land on the first after sign-in)",
        params: IdParams,
        body: Type.Object({ dashboardIds: Ids('dashboard') }, { additionalProperties: false }),
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      await customers.assignDashboards(tenant(request), request.params.id, request.body.dashboardIds);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/customers/:id/dashboards/:itemId',
    { schema: { tags, operationId: 'unassignCustomerDashboard', summary: 'Unassign one dashboard', params: SubParams, response: { 204: Type.Null(), ...errorResponses } } },
    async (request, reply) => {
      await customers.unassignDashboard(tenant(request), request.params.id, request.params.itemId);
      return reply.code(204).send(null);
    },
  );

  if (groups) {
    app.post(
      '/customers/:id/groups',
      {
        schema: {
          tags,
          operationId: 'assignCustomerGroups', summary: "Assign every current member of the groups to the customer (a group's later members are not assigned by this)",
          params: IdParams,
          body: Type.Object({ groupIds: Ids('group') }, { additionalProperties: false }),
          response: { 200: Type.Object({ deviceIds: Type.Array(Type.String()) }), ...errorResponses },
        },
      },
      async (request) => {
        const tenantId = tenant(request);
        await customers.get(tenantId, request.params.id);
        const ids = new Set<string>();
        for (const groupId of request.body.groupIds) for (const id of await groups.memberIdsOf(tenantId, groupId)) ids.add(id);
        if (ids.size > 0) await customers.assignDevices(tenantId, request.params.id, [...ids]);
        return { deviceIds: [...ids].sort() };
      },
    );
  }
};
