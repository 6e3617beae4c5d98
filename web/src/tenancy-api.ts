/**
 * Shapes and calls of the tenancy pages: tenants and their quotas (sysadmin), customers, device
 * groups, MQTT grants and custom roles (tenant admin). The server validates and authorizes every
 * call; these only name the routes.
 */
import { api, del, get, post, put, type Device, type Page } from './api.js';

export interface Tenant {
  id: string;
  name: string;
  status: 'active' | 'suspended';
  createdAt: number;
}

export interface QuotaLimits {
  maxDevices: number | null;
  maxMessagesPerSecond: number | null;
  maxPointsPerDay: number | null;
  maxRules: number | null;
}

export interface QuotaView {
  tenantId: string;
  limits: QuotaLimits;
  custom: boolean;
  usage: { devices: number; rules: number; messagesPerSecond: number; pointsToday: number; day: string };
}

export interface Customer {
  id: string;
  name: string;
  parentId?: string;
  createdAt: number;
}

export interface GroupCondition {
  scope: 'server' | 'shared' | 'client';
  key: string;
  equals: unknown;
}

export interface Group {
  id: string;
  name: string;
  filter?: { all: GroupCondition[] };
  createdAt: number;
}

export interface GrantSubject {
  deviceId?: string;
  group?: string;
  all?: true;
}

export interface Grant {
  id: string;
  subject: GrantSubject;
  actions: ('publish' | 'subscribe')[];
  topic: string;
  createdAt: number;
}

export interface CustomRole {
  id: string;
  name: string;
  permissions: string[];
  createdAt: number;
  role: string;
}

const enc = encodeURIComponent;

export const listTenants = (): Promise<Tenant[]> => get('/api/tenants');
export const createTenant = (name: string): Promise<Tenant> => post('/api/tenants', { name });
export const updateTenant = (id: string, body: { name?: string; status?: Tenant['status'] }): Promise<Tenant> => api('PATCH', `/api/tenants/${enc(id)}`, body);
export const deleteTenant = (id: string): Promise<void> => del(`/api/tenants/${enc(id)}`);
export const addTenantUser = (id: string, body: { email: string; password: string; role?: string }): Promise<unknown> => post(`/api/tenants/${enc(id)}/users`, body);
export const getTenantQuotas = (id: string): Promise<QuotaView> => get(`/api/tenants/${enc(id)}/quotas`);
export const setTenantQuotas = (id: string, limits: Partial<QuotaLimits>): Promise<QuotaView> => put(`/api/tenants/${enc(id)}/quotas`, limits);

export const listCustomers = async (): Promise<Customer[]> => (await get<{ items: Customer[] }>('/api/customers')).items;
export const createCustomer = (body: { name: string; parentId?: string }): Promise<Customer> => post('/api/customers', body);
export const renameCustomer = (id: string, name: string): Promise<Customer> => api('PATCH', `/api/customers/${enc(id)}`, { name });
export const deleteCustomer = (id: string): Promise<void> => del(`/api/customers/${enc(id)}`);
export const listCustomerDevices = async (id: string): Promise<Device[]> => (await get<{ items: Device[] }>(`/api/customers/${enc(id)}/devices`)).items;
export const assignCustomer = (id: string, what: 'devices' | 'dashboards' | 'groups', ids: string[]): Promise<unknown> =>
  post(`/api/customers/${enc(id)}/${what}`, { [what === 'devices' ? 'deviceIds' : what === 'dashboards' ? 'dashboardIds' : 'groupIds']: ids });
export const unassignCustomerDevice = (id: string, deviceId: string): Promise<void> => del(`/api/customers/${enc(id)}/devices/${enc(deviceId)}`);

export const listGroups = async (): Promise<Group[]> => (await get<{ items: Group[] }>('/api/groups')).items;
export const createGroup = (body: { name: string; filter?: { all: GroupCondition[] } }): Promise<Group> => post('/api/groups', body);
export const deleteGroup = (id: string): Promise<void> => del(`/api/groups/${enc(id)}`);
export const listGroupDevices = async (id: string): Promise<Device[]> => (await get<{ items: Device[] }>(`/api/groups/${enc(id)}/devices`)).items;
export const addGroupDevices = (id: string, deviceIds: string[]): Promise<unknown> => post(`/api/groups/${enc(id)}/devices`, { deviceIds });
export const removeGroupDevice = (id: string, deviceId: string): Promise<void> => del(`/api/groups/${enc(id)}/devices/${enc(deviceId)}`);
export const sendGroupCommand = (id: string, body: { method: string; params?: unknown }): Promise<{ items: { deviceId: string; commandId?: string; status?: string; error?: string }[] }> =>
  post(`/api/groups/${enc(id)}/commands`, body);

export const listGrants = async (): Promise<Grant[]> => (await get<{ items: Grant[] }>('/api/grants')).items;
export const createGrant = (body: { subject: GrantSubject; actions: Grant['actions']; topic: string }): Promise<Grant> => post('/api/grants', body);
export const deleteGrant = (id: string): Promise<void> => del(`/api/grants/${enc(id)}`);

export const listRoles = (): Promise<CustomRole[]> => get('/api/roles');
export const createRole = (body: { name: string; permissions: string[] }): Promise<CustomRole> => post('/api/roles', body);
export const deleteRole = (id: string): Promise<void> => del(`/api/roles/${enc(id)}`);

/** Devices for pickers: the first page by name (pickers search by name server-side beyond that). */
export const pickDevices = async (search = ''): Promise<Device[]> => (await get<Page<Device>>(`/api/devices?limit=100${search ? `&search=${enc(search)}` : ''}`)).items;
