/**
 * Customers and device groups in the Store (issue 15). Assignments live on the assigned rows
 * (devices.customer_id, dashboards.customer_id), so a device read already tells who may see it.
 */
import type { Customer } from '../domain/customers.js';
import type { DeviceGroup } from '../domain/device-groups.js';

export interface CustomerStore {
  /** CONFLICT when the tenant has a customer of that name. */
  insertCustomer(customer: Customer): Promise<void>;
  /** Replaces name and parent by id; CONFLICT on a duplicate name. */
  updateCustomer(customer: Customer): Promise<void>;
  getCustomer(id: string): Promise<Customer | undefined>;
  /** The tenant's customers by name. */
  listCustomers(tenantId: string): Promise<Customer[]>;
  /** Removes the customer; its devices, dashboards and users lose the assignment. False if none. */
  deleteCustomer(id: string): Promise<boolean>;
  /** Assigns (or with null unassigns) the devices, all at once. */
  setDeviceCustomer(deviceIds: readonly string[], customerId: string | null): Promise<void>;
  setDashboardCustomer(dashboardIds: readonly string[], customerId: string | null): Promise<void>;
  /** How many users belong to the customer (a customer with users is not deleted). */
  countCustomerUsers(customerId: string): Promise<number>;
}

export interface DeviceGroupStore {
  /** CONFLICT when the tenant has a group of that name. */
  insertGroup(group: DeviceGroup): Promise<void>;
  updateGroup(group: DeviceGroup): Promise<void>;
  getGroup(id: string): Promise<DeviceGroup | undefined>;
  listGroups(tenantId?: string): Promise<DeviceGroup[]>;
  /** Removes the group and its member list; false if none. */
  deleteGroup(id: string): Promise<boolean>;
  addGroupMembers(groupId: string, deviceIds: readonly string[]): Promise<void>;
  removeGroupMember(groupId: string, deviceId: string): Promise<boolean>;
  /** The static members of the group. */
  groupMembers(groupId: string): Promise<string[]>;
}
