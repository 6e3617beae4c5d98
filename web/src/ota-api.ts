/**
 * The OTA API as the dashboard uses it (docs/OTA.md): packages, device firmware status and
 * assignment, deployments. The upload goes through XMLHttpRequest because fetch reports no upload
 * progress; it streams the file as the raw body (the server hashes and stores it as it arrives).
 */
import { ApiError, currentSession, del, get, post, signOut } from './api.js';

export type OtaType = 'firmware' | 'software';

export interface OtaPackage {
  id: string;
  type: OtaType;
  title: string;
  version: string;
  profileId?: string;
  size: number;
  checksum: string;
  createdAt: number;
  fromVersion?: string;
  url?: string;
  signedBy?: string;
}

export interface FirmwareStatus {
  assigned: { via: 'device' | 'profile'; packageId: string; title: string; version: string; size: number; checksum: string; assignedAt: number } | null;
  state: string | null;
  stateTs: number | null;
  error: string | null;
  currentTitle: string | null;
  currentVersion: string | null;
  upToDate: boolean;
  history: { ts: number; state: string; error?: string }[];
}

export const ROLLOUT_STATES = ['queued', 'notified', 'in_progress', 'updated', 'failed', 'canceled'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];
export type Counts = Record<RolloutState, number> & { total: number; inProgress: number };

export interface Deployment {
  id: string;
  packageId: string;
  type: string;
  version: string;
  target: { deviceIds?: string[]; profileId?: string };
  status: 'running' | 'paused' | 'completed' | 'aborted' | 'canceled';
  reason?: string;
  wave: number;
  waves: number;
  counts: Counts;
  perWave: Counts[];
  failures: Record<string, number>;
  createdAt: number;
  updatedAt: number;
}

export interface DeploymentDevice {
  deviceId: string;
  wave: number;
  state: RolloutState;
  attempts: number;
  fwState?: string;
  error?: string;
}

export interface NewDeployment {
  packageId: string;
  target: { deviceIds: string[] } | { profileId: string };
  waves?: number[];
  abort?: { percent: number; after: number };
}

const enc = encodeURIComponent;

export const listPackages = (): Promise<OtaPackage[]> => get('/api/ota/packages');
export const deletePackage = (id: string): Promise<void> => del(`/api/ota/packages/${enc(id)}`);
export const deviceFirmware = (deviceId: string): Promise<{ firmware: FirmwareStatus; software: FirmwareStatus }> => get(`/api/devices/${enc(deviceId)}/firmware`);
export const assignFirmware = (deviceId: string, packageId: string): Promise<unknown> => post(`/api/devices/${enc(deviceId)}/firmware`, { packageId });
export const listDeployments = (): Promise<Deployment[]> => get('/api/ota/deployments');
export const getDeployment = (id: string): Promise<Deployment> => get(`/api/ota/deployments/${enc(id)}`);
export const deploymentDevices = (id: string): Promise<DeploymentDevice[]> => get(`/api/ota/deployments/${enc(id)}/devices`);
export const createDeployment = (body: NewDeployment): Promise<{ id: string }> => post('/api/ota/deployments', body);
export const deploymentAction = (id: string, action: 'pause' | 'resume' | 'cancel'): Promise<Deployment> => post(`/api/ota/deployments/${enc(id)}/${action}`);

/** Uploads `file` as a package; `onProgress` gets the fraction sent (0..1). */
export function uploadPackage(file: Blob, meta: { title: string; version: string; type: OtaType; profileId?: string }, onProgress: (fraction: number) => void): Promise<OtaPackage> {
  const session = currentSession();
  if (!session) {
    signOut('expired');
    return Promise.reject(new ApiError(401, 'UNAUTHORIZED', 'Your session has ended.'));
  }
  const params = new URLSearchParams({ title: meta.title, version: meta.version, type: meta.type });
  if (meta.profileId) params.set('profileId', meta.profileId);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/ota/packages?${params.toString()}`);
    xhr.setRequestHeader('authorization', `Bearer ${session.token}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.addEventListener('progress', (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total);
    });
    xhr.addEventListener('load', () => {
      let body: { error?: string; message?: string } | undefined;
      try {
        body = xhr.responseText ? (JSON.parse(xhr.responseText) as typeof body) : undefined;
      } catch {
        body = undefined;
      }
      if (xhr.status === 401) {
        signOut('expired');
        reject(new ApiError(401, 'UNAUTHORIZED', 'Your session has ended.'));
      } else if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body as unknown as OtaPackage);
      } else reject(new ApiError(xhr.status, body?.error ?? 'ERROR', body?.message ?? `Upload failed: ${xhr.status}`));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'NETWORK', 'The upload was interrupted.')));
    xhr.send(file);
  });
}
