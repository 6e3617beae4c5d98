/**
 * OTA deployments (rollouts, issue 16 step 2), the pure part: what a deployment is, how its
 * devices are split into waves (canaries, then percentages or an exponential rate as AWS IoT
 * Jobs' base rate and increment factor), what a device's report means for its rollout state,
 * and when a deployment aborts itself. The scheduler (services/ota-rollouts.ts) applies these.
 */
import type { OtaType } from './ota.js';

export const DEPLOYMENT_STATUSES = ['running', 'paused', 'completed', 'aborted', 'canceled'] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

/**
 * A device's place in a rollout: queued (not told yet) → notified (assigned: fw_* attributes
 * set) → in_progress (it reported a fw_state) → updated (it reported the target version) or
 * failed (FAILED, a timeout, or back on another version; retried while attempts remain);
 * canceled when the deployment stops before the device was told.
 */
export const ROLLOUT_STATES = ['queued', 'notified', 'in_progress', 'updated', 'failed', 'canceled'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

export const TERMINAL: ReadonlySet<RolloutState> = new Set(['updated', 'failed', 'canceled']);

export interface DeploymentTarget {
  readonly deviceIds?: readonly string[];
  readonly profileId?: string;
  /** Narrows the devices above to those whose server (else client) attributes have these values. */
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
}

export interface DeploymentPlan {
  /** Cumulative percentages of the target, ascending, the last 100 (e.g. [10, 50, 100]). */
  readonly waves?: readonly number[];
  /** Exponential waves instead: `base` devices, then each wave `factor` times the previous one. */
  readonly rate?: { readonly base: number; readonly factor: number };
  /** Devices updated first, alone, before any wave. */
  readonly canaries: number;
  /** Aborts when more than `percent` % of the finished devices failed, once `after` have finished. */
  readonly abort?: { readonly percent: number; readonly after: number };
  /** Longest time in a state before the device counts as failed (ms): told but silent, and each fw_state. */
  readonly timeouts: { readonly notifiedMs: number; readonly progressMs: number };
  /** How many times a failed device is told again. */
  readonly retries: number;
  /** Each device is told at a random moment within this many ms of its wave's start. */
  readonly jitterMs: number;
  /** Devices are told only between these UTC hours (start inclusive, end exclusive; may wrap midnight). */
  readonly window?: { readonly startHour: number; readonly endHour: number };
}

export interface Deployment {
  readonly id: string;
  readonly tenantId: string;
  readonly packageId: string;
  readonly type: OtaType;
  /** The version a device must report for UPDATED. */
  readonly version: string;
  readonly target: DeploymentTarget;
  readonly plan: DeploymentPlan;
  readonly status: DeploymentStatus;
  /** The wave being rolled out (0 = the canaries when there are any). */
  readonly wave: number;
  readonly waves: number;
  readonly reason?: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface DeploymentDevice {
  readonly deploymentId: string;
  readonly deviceId: string;
  readonly wave: number;
  readonly state: RolloutState;
  /** Times the device was told (1 after the first notification). */
  readonly attempts: number;
  /** Not told before this time (jitter); 0 = not scheduled yet (its wave has not started). */
  readonly startAfter: number;
  readonly stateSince: number;
  /** The last fw_state it reported in this attempt. */
  readonly fwState?: string;
  readonly error?: string;
}

export type DeploymentCounts = Record<RolloutState, number> & { readonly total: number; readonly inProgress: number };

/** Wave sizes (device counts, summing to `total`): canaries first, then by percentage or by rate. */
export function waveSizes(total: number, plan: Pick<DeploymentPlan, 'waves' | 'rate' | 'canaries'>): number[] {
  const sizes: number[] = [];
  const canaries = Math.min(plan.canaries, total);
  if (canaries > 0) sizes.push(canaries);
  const rest = total - canaries;
  if (rest === 0) return sizes.length ? sizes : [0];
  if (plan.rate) {
    let size = Math.max(1, Math.floor(plan.rate.base));
    for (let left = rest; left > 0; ) {
      const n = Math.min(size, left);
      sizes.push(n);
      left -= n;
      size = Math.max(size + 1, Math.floor(size * plan.rate.factor));
    }
    return sizes;
  }
  let done = 0;
  for (const pct of plan.waves ?? [100]) {
    const upTo = Math.min(rest, Math.ceil((rest * pct) / 100));
    if (upTo > done) sizes.push(upTo - done);
    done = Math.max(done, upTo);
  }
  if (done < rest) sizes.push(rest - done);
  return sizes;
}

export function countStates(devices: Iterable<Pick<DeploymentDevice, 'state'>>): DeploymentCounts {
  const c: Record<RolloutState, number> = { queued: 0, notified: 0, in_progress: 0, updated: 0, failed: 0, canceled: 0 };
  let total = 0;
  for (const d of devices) {
    c[d.state]++;
    total++;
  }
  return { ...c, total, inProgress: c.notified + c.in_progress };
}

/** True when failures exceed the plan's threshold once enough devices finished. */
export function shouldAbort(plan: DeploymentPlan, counts: DeploymentCounts): boolean {
  if (!plan.abort) return false;
  const finished = counts.updated + counts.failed;
  return finished >= plan.abort.after && finished > 0 && (counts.failed * 100) / finished > plan.abort.percent;
}

export function inWindow(plan: DeploymentPlan, now: number): boolean {
  if (!plan.window) return true;
  const hour = new Date(now).getUTCHours();
  const { startHour, endHour } = plan.window;
  return startHour <= endHour ? hour >= startHour && hour < endHour : hour >= startHour || hour < endHour;
}

/** What a device's report does to its rollout state: a new state (with error), or nothing. */
export type ReportOutcome = { readonly state: 'in_progress'; readonly fwState: string } | { readonly state: 'updated' } | { readonly state: 'failed'; readonly error: string } | undefined;

/**
 * UPDATED counts only when the device reports the target version as current; a device that
 * reports another current version after it said UPDATING (it rebooted into the old image), or
 * reports UPDATED on another version, failed.
 */
export function reportOutcome(d: Pick<DeploymentDevice, 'state' | 'fwState'>, target: string, fwState: string | undefined, fwError: string | undefined, current: string | undefined): ReportOutcome {
  if (d.state !== 'notified' && d.state !== 'in_progress') return undefined;
  if (current !== undefined && current === target) return { state: 'updated' };
  if (fwState === 'FAILED') return { state: 'failed', error: fwError ?? 'FAILED' };
  const after = fwState ?? d.fwState;
  if (current !== undefined && (after === 'UPDATED' || (fwState === undefined && d.fwState === 'UPDATING'))) {
    return { state: 'failed', error: `came back on version ${current}, not ${target}` };
  }
  if (fwState !== undefined && fwState !== 'UPDATED') return { state: 'in_progress', fwState };
  return undefined;
}
