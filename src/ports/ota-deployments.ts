/**
 * Where OTA deployments and each targeted device's rollout state live (part of the Store): the
 * scheduler keeps no progress only in memory, so a restart mid-rollout carries on from here.
 */
import type { Deployment, DeploymentDevice } from '../domain/ota-deployment.js';

export interface OtaDeploymentStore {
  /** The deployment and its devices, in one transaction. Tenant and package must exist. */
  insertOtaDeployment(deployment: Deployment, devices: readonly DeploymentDevice[]): Promise<void>;
  getOtaDeployment(id: string): Promise<Deployment | undefined>;
  /** The tenant's deployments, newest first. */
  listOtaDeployments(tenantId: string): Promise<Deployment[]>;
  /** Deployments of every tenant that are running or paused (the scheduler's work after a start). */
  listActiveOtaDeployments(): Promise<Deployment[]>;
  /** Replaces the deployment's row (status, wave, reason, updatedAt change). */
  updateOtaDeployment(deployment: Deployment): Promise<void>;
  /** The deployment's devices, in wave order then device id. */
  listOtaDeploymentDevices(deploymentId: string): Promise<DeploymentDevice[]>;
  getOtaDeploymentDevice(deploymentId: string, deviceId: string): Promise<DeploymentDevice | undefined>;
  /** Replaces these devices' rows, in one transaction. */
  updateOtaDeploymentDevices(devices: readonly DeploymentDevice[]): Promise<void>;
}
