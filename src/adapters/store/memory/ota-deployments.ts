/** OTA deployments and their devices in Maps, with the SQLite store's answers (sqlite/ota-deployments.ts). */
import type { Deployment, DeploymentDevice } from '../../../domain/ota-deployment.js';
import type { OtaDeploymentStore } from '../../../ports.js';
import { checkInt } from '../shared.js';

export interface MemoryOtaDeploymentDeps {
  readonly tenantExists: (id: string) => boolean;
  readonly tenantNotFound: (id: string) => Error;
}

// Copies in and out, so callers never share objects with the store (as rows read back do).
const copy = <T>(v: T): T => structuredClone(v);
const byWaveThenId = (a: DeploymentDevice, b: DeploymentDevice): number => a.wave - b.wave || (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0);

export function createMemoryOtaDeployments(deps: MemoryOtaDeploymentDeps): OtaDeploymentStore {
  const deployments = new Map<string, Deployment>();
  /** deploymentId → deviceId → row. */
  const devices = new Map<string, Map<string, DeploymentDevice>>();
  const check = (d: DeploymentDevice): void => {
    for (const [k, v] of [['wave', d.wave], ['attempts', d.attempts], ['startAfter', d.startAfter], ['stateSince', d.stateSince]] as const) checkInt(v, k);
  };
  return {
    async insertOtaDeployment(d, rows) {
      if (!deps.tenantExists(d.tenantId)) throw deps.tenantNotFound(d.tenantId);
      checkInt(d.createdAt, 'createdAt');
      rows.forEach(check);
      deployments.set(d.id, copy(d));
      devices.set(d.id, new Map(rows.map((r) => [r.deviceId, copy(r)])));
    },
    async getOtaDeployment(id) {
      const d = deployments.get(id);
      return d && copy(d);
    },
    async listOtaDeployments(tenantId) {
      return [...deployments.values()]
        .filter((d) => d.tenantId === tenantId)
        .sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? -1 : 1))
        .map(copy);
    },
    async listActiveOtaDeployments() {
      return [...deployments.values()]
        .filter((d) => d.status === 'running' || d.status === 'paused')
        .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1))
        .map(copy);
    },
    async updateOtaDeployment(d) {
      if (deployments.has(d.id)) deployments.set(d.id, copy(d));
    },
    async listOtaDeploymentDevices(deploymentId) {
      return [...(devices.get(deploymentId)?.values() ?? [])].sort(byWaveThenId).map(copy);
    },
    async getOtaDeploymentDevice(deploymentId, deviceId) {
      const r = devices.get(deploymentId)?.get(deviceId);
      return r && copy(r);
    },
    async updateOtaDeploymentDevices(rows) {
      rows.forEach(check);
      for (const r of rows) {
        let m = devices.get(r.deploymentId);
        if (!m) devices.set(r.deploymentId, (m = new Map()));
        m.set(r.deviceId, copy(r));
      }
    },
  };
}
