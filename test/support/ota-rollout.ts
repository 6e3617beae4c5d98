/**
 * Helpers for rollout tests and the bench: a fleet of simulated OTA devices (the simulator's
 * engine with a silent model, so the only traffic is the update itself), a package upload, and
 * waiting for a deployment to finish.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ApiClient as RestClient } from '../../src/protocols/management-api/client.js';
import { startSimulation, type Simulation } from '../../src/simulator/engine.js';
import { defineModel } from '../../src/simulator/model.js';
import { provisionDevices, type ProvisionedDevice } from '../../src/simulator/provision.js';
import type { OtaFailure } from '../../src/simulator/ota-device.js';
import { ADMIN, eventually, type ApiClient } from './platform.js';

export const silent = defineModel({ init: () => ({}), step: () => ({}) });

export interface Counts {
  queued: number;
  notified: number;
  in_progress: number;
  updated: number;
  failed: number;
  canceled: number;
  total: number;
  inProgress: number;
}

export interface DeploymentBody {
  id: string;
  status: string;
  wave: number;
  waves: number;
  reason?: string;
  counts: Counts;
  perWave: Counts[];
  failures: Record<string, number>;
}

export async function provision(baseUrl: string, prefix: string, count: number): Promise<ProvisionedDevice[]> {
  const login = await fetch(`${baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const { token } = (await login.json()) as { token: string };
  const result = await provisionDevices(new RestClient(baseUrl, { authorization: `Bearer ${token}` }), [{ prefix, count }]);
  assert.equal(result.devices.length, count);
  return result.devices;
}

export async function uploadPackage(api: ApiClient, baseUrl: string, version: string, bytes = 40_000): Promise<string> {
  const login = await fetch(`${baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN) });
  const { token } = (await login.json()) as { token: string };
  const res = await fetch(`${baseUrl}/api/ota/packages?title=sim-fw&version=${version}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: new Uint8Array(randomBytes(bytes)),
  });
  const body = (await res.json()) as { id: string };
  assert.equal(res.status, 201, JSON.stringify(body));
  void api;
  return body.id;
}

export function otaFleet(devices: readonly ProvisionedDevice[], mqttPort: number, failRate: number, failures?: readonly OtaFailure[]): Simulation {
  return startSimulation({
    devices: devices.map((d) => ({ name: d.name, token: d.token, model: silent, protocol: 'mqtt' as const, intervalS: 3600, index: d.index })),
    endpoints: { mqtt: { host: '127.0.0.1', port: mqttPort } },
    log: { info: () => undefined, warn: () => undefined },
    ota: { title: 'sim-fw', version: '1.0.0', failRate, ...(failures ? { failures } : {}), chunkBytes: 16_384, rebootMs: 20 },
  });
}

export async function finished(api: ApiClient, id: string, ms: number): Promise<DeploymentBody> {
  return eventually(
    async () => {
      const res = await api.request<DeploymentBody>('GET', `/api/ota/deployments/${id}`);
      return res.status === 200 && !['running', 'paused'].includes(res.body.status) ? res.body : undefined;
    },
    ms,
    `deployment ${id} to finish`,
  );
}
