/** Which devices a named group holds (device-to-device MQTT grants expand `${group:NAME}` with it). */
export interface DeviceGroupLookup {
  deviceNamesInGroup(tenantId: string, groupName: string): Promise<readonly string[]>;
}
