/** Device-to-device MQTT grants in memory (`--store memory`; lost with the process). */
import type { MqttGrant } from '../../../domain/mqtt-grants.js';
import type { MqttGrantStore } from '../../../ports.js';

export function createMemoryMqttGrants(): MqttGrantStore {
  // Insertion order is creation order: listing needs no sort.
  const grants = new Map<string, MqttGrant>();
  return {
    async listMqttGrants(tenantId) {
      return [...grants.values()].filter((g) => g.tenantId === tenantId).map((g) => structuredClone(g));
    },
    async getMqttGrant(id) {
      const g = grants.get(id);
      return g ? structuredClone(g) : undefined;
    },
    async insertMqttGrant(g) {
      grants.set(g.id, structuredClone(g));
    },
    async deleteMqttGrant(id) {
      return grants.delete(id);
    },
  };
}
