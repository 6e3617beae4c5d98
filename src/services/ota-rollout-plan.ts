/**
 * Creating a deployment: the request checked (package, target of the tenant, plan bounds) and
 * turned into the stored deployment and one queued row per device, split into waves. Kept apart
 * from the scheduler (ota-rollouts.ts), which only moves stored state forward.
 */
import { randomUUID } from 'node:crypto';
import { PlatformError } from '../domain/errors.js';
import { waveSizes, type Deployment, type DeploymentDevice, type DeploymentPlan, type DeploymentTarget } from '../domain/ota-deployment.js';
import type { OtaPackage } from '../domain/ota.js';
import type { Device } from '../domain/device.js';
import type { AttributeStore, RegistryStore } from '../ports.js';

export interface DeploymentRequest {
  readonly packageId: string;
  readonly target: DeploymentTarget;
  readonly waves?: readonly number[];
  readonly rate?: { readonly base: number; readonly factor: number };
  readonly canaries?: number;
  readonly abort?: { readonly percent: number; readonly after: number };
  readonly timeouts?: { readonly notifiedMs?: number; readonly progressMs?: number };
  readonly retries?: number;
  readonly jitterMs?: number;
  readonly window?: { readonly startHour: number; readonly endHour: number };
}

/** Defaults: a device told but silent for 10 minutes, or stuck in one fw_state for 30, failed. */
export const DEFAULT_TIMEOUTS = { notifiedMs: 10 * 60_000, progressMs: 30 * 60_000 };
/** Largest target a deployment takes (rows are read whole each scheduler turn). */
export const MAX_TARGET = 100_000;
const PAGE = 500;

export function planOf(r: DeploymentRequest): DeploymentPlan {
  if (r.waves && r.rate) throw new PlatformError('BAD_REQUEST', 'give waves or rate, not both');
  if (r.waves) {
    if (r.waves.length === 0 || r.waves.some((w, i) => !(w > 0 && w <= 100) || (i > 0 && w <= (r.waves?.[i - 1] ?? 0)))) {
      throw new PlatformError('BAD_REQUEST', 'waves are ascending percentages in (0, 100]');
    }
  }
  if (r.rate && !(r.rate.base >= 1 && r.rate.factor >= 1)) throw new PlatformError('BAD_REQUEST', 'rate.base ≥ 1 and rate.factor ≥ 1');
  return {
    ...(r.waves ? { waves: r.waves[r.waves.length - 1] === 100 ? [...r.waves] : [...r.waves, 100] } : {}),
    ...(r.rate ? { rate: { ...r.rate } } : {}),
    canaries: r.canaries ?? 0,
    ...(r.abort ? { abort: { ...r.abort } } : {}),
    timeouts: { notifiedMs: r.timeouts?.notifiedMs ?? DEFAULT_TIMEOUTS.notifiedMs, progressMs: r.timeouts?.progressMs ?? DEFAULT_TIMEOUTS.progressMs },
    retries: r.retries ?? 0,
    jitterMs: r.jitterMs ?? 0,
    ...(r.window ? { window: { ...r.window } } : {}),
  };
}

/** The target's devices (of the tenant; a package made for a profile fits only its devices), unique, in a stable order. */
export async function targetDevices(
  store: Pick<RegistryStore, 'listDevices' | 'getProfile'> & Pick<AttributeStore, 'getAttributes'>,
  requireDevice: (id: string, tenantId: string) => Promise<Device>,
  tenantId: string,
  target: DeploymentTarget,
  pkg: OtaPackage,
): Promise<Device[]> {
  const hasIds = target.deviceIds !== undefined && target.deviceIds.length > 0;
  if (hasIds === (target.profileId !== undefined)) throw new PlatformError('BAD_REQUEST', 'target names deviceIds or profileId (one of them)');
  const devices: Device[] = [];
  if (target.profileId !== undefined) {
    const profile = await store.getProfile(target.profileId);
    if (!profile || profile.tenantId !== tenantId) throw new PlatformError('PROFILE_NOT_FOUND', target.profileId);
    for (let offset = 0; ; offset += PAGE) {
      const page = await store.listDevices({ tenantId, profileId: target.profileId, limit: PAGE, offset });
      devices.push(...page.items);
      if (page.items.length < PAGE) break;
    }
  } else {
    for (const id of new Set(target.deviceIds)) devices.push(await requireDevice(id, tenantId));
  }
  const filter = Object.entries(target.attributes ?? {});
  const matching = filter.length === 0 ? devices : await filterByAttributes(store, devices, filter);
  devices.splice(0, devices.length, ...matching);
  if (devices.length === 0) throw new PlatformError('BAD_REQUEST', 'the target has no devices');
  if (devices.length > MAX_TARGET) throw new PlatformError('BAD_REQUEST', `at most ${MAX_TARGET} devices per deployment`);
  const misfit = devices.find((d) => pkg.profileId !== undefined && d.profileId !== pkg.profileId);
  if (misfit) throw new PlatformError('BAD_REQUEST', `package ${pkg.title} ${pkg.version} is for profile ${pkg.profileId}, device ${misfit.name} has ${misfit.profileId}`);
  return devices;
}

/** Devices whose server attribute (else client attribute) of each key has the value; read once, at creation. */
async function filterByAttributes(store: Pick<AttributeStore, 'getAttributes'>, devices: readonly Device[], filter: readonly [string, string | number | boolean][]): Promise<Device[]> {
  const keys = filter.map(([k]) => k);
  const out: Device[] = [];
  for (const device of devices) {
    const [server, client] = await Promise.all([store.getAttributes(device.id, 'server', keys), store.getAttributes(device.id, 'client', keys)]);
    const value = (key: string) => (server.find((e) => e.key === key) ?? client.find((e) => e.key === key))?.value;
    // Compared as text: the API's schema coercion may turn 2 into "2" (and attributes hold either).
    if (filter.every(([k, v]) => {
      const have = value(k);
      return have !== undefined && have !== null && typeof have !== 'object' && String(have) === String(v);
    })) out.push(device);
  }
  return out;
}

/** The deployment and its device rows: waves in target order (canaries are the first devices), wave 0 scheduled now. */
export function newDeployment(
  tenantId: string,
  pkg: OtaPackage,
  target: DeploymentTarget,
  plan: DeploymentPlan,
  devices: readonly Device[],
  now: number,
  random: () => number,
): { deployment: Deployment; rows: DeploymentDevice[] } {
  const sizes = waveSizes(devices.length, plan);
  const id = randomUUID();
  const rows: DeploymentDevice[] = [];
  let i = 0;
  sizes.forEach((size, wave) => {
    for (let k = 0; k < size; k++, i++) {
      const device = devices[i] as Device;
      const startAfter = wave === 0 ? now + Math.floor(random() * plan.jitterMs) : 0;
      rows.push({ deploymentId: id, deviceId: device.id, wave, state: 'queued', attempts: 0, startAfter, stateSince: now });
    }
  });
  const deployment: Deployment = {
    id,
    tenantId,
    packageId: pkg.id,
    type: pkg.type,
    version: pkg.version,
    target: {
      ...(target.profileId !== undefined ? { profileId: target.profileId } : { deviceIds: devices.map((d) => d.id) }),
      ...(target.attributes !== undefined ? { attributes: { ...target.attributes } } : {}),
    },
    plan,
    status: 'running',
    wave: 0,
    waves: sizes.length,
    createdAt: now,
    updatedAt: now,
  };
  return { deployment, rows };
}
