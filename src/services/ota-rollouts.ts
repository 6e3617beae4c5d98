/**
 * OTA deployments (rollouts), issue 16 step 2: a scheduler that moves each running deployment
 * forward from stored state only (so a restart mid-rollout re-reads it and carries on): tells the
 * queued devices of the current wave (an assignment: fw_* attributes) once their jittered start
 * time and the maintenance window allow, fails devices stuck in a state past its timeout (and
 * re-queues them while retries remain), aborts when failures exceed the plan's threshold, and
 * starts the next wave once every device of the current one finished.
 *
 * Devices' reports arrive as bus telemetry events, subscribed only while a deployment is active.
 * The ingest path pays nothing for them: this service keeps the ids of devices in an active
 * deployment in memory and ignores every other device's telemetry before reading anything.
 */
import { PlatformError } from '../domain/errors.js';
import type { Device } from '../domain/device.js';
import { countStates, inWindow, reportOutcome, shouldAbort, TERMINAL, type Deployment, type DeploymentCounts, type DeploymentDevice } from '../domain/ota-deployment.js';
import { otaTelemetryKeys } from '../domain/ota.js';
import type { Point } from '../domain/telemetry.js';
import type { AttributeStore, Bus, Clock, Logger, OtaDeploymentStore, RegistryStore } from '../ports.js';
import type { AuditService } from './audit.js';
import type { OtaPackageService } from './ota-packages.js';
import { newDeployment, planOf, targetDevices, type DeploymentRequest } from './ota-rollout-plan.js';

export interface OtaRolloutDeps {
  readonly store: OtaDeploymentStore & Pick<RegistryStore, 'listDevices' | 'getProfile'> & Pick<AttributeStore, 'getAttributes'>;
  readonly packages: Pick<OtaPackageService, 'get'>;
  /** Assigns the package to the device (OtaDeviceService.assign: stored, then the fw_* attributes). */
  readonly assign: (tenantId: string, deviceId: string, packageId: string) => Promise<unknown>;
  readonly requireDevice: (id: string, tenantId: string) => Promise<Device>;
  readonly bus: Bus;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Scheduler period (ms); default 1 s. */
  readonly tickMs?: number;
  readonly random?: () => number;
  /** The scheduler's own decisions (a wave started, completed, aborted) are audited as `system`; users' actions by the API's hook. */
  readonly audit?: Pick<AuditService, 'record'>;
}

export interface DeploymentView extends Deployment {
  readonly counts: DeploymentCounts;
  /** Counts per wave, in wave order. */
  readonly perWave: DeploymentCounts[];
  /** Why devices failed, with how many. */
  readonly failures: Record<string, number>;
}

type Action = 'pause' | 'resume' | 'cancel';

export class OtaRolloutService {
  /** deviceId → deployment id, for devices not yet finished in a running or paused deployment. */
  private readonly active = new Map<string, string>();
  /** Every change goes through this chain: the scheduler turn, device reports and the routes never interleave. */
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private stopped = false;
  private readonly random: () => number;

  constructor(private readonly deps: OtaRolloutDeps) {
    this.random = deps.random ?? Math.random;
  }

  /** Reads the active deployments back (after a restart; listening for reports if any), starts the scheduler. */
  async start(): Promise<void> {
    for (const d of await this.deps.store.listActiveOtaDeployments()) this.track(d, await this.deps.store.listOtaDeploymentDevices(d.id));
    const period = this.deps.tickMs ?? 1000;
    this.timer = setInterval(() => void this.serial(() => this.tick()).catch((err: unknown) => this.deps.logger.error({ err }, 'ota rollout turn failed')), period);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    await this.chain.catch(() => undefined);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn, fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  private track(d: Deployment, rows: readonly DeploymentDevice[]): void {
    for (const r of rows) {
      if (TERMINAL.has(r.state) || (d.status !== 'running' && d.status !== 'paused')) {
        if (this.active.get(r.deviceId) === d.id) this.active.delete(r.deviceId);
      } else {
        this.active.set(r.deviceId, d.id);
      }
    }
    this.listen();
  }

  /**
   * Subscribed to telemetry only while some device is in an active deployment: the bus copies
   * each telemetry message per subscriber, a cost not worth paying when no rollout runs. A
   * broadcast subscription (no work-queue group) keeps no backlog while unsubscribed, so a later
   * deployment never sees stale reports; the outbox's replay at start comes after start() listens.
   */
  private listen(): void {
    if (this.active.size > 0 && !this.unsubscribe && !this.stopped) {
      this.unsubscribe = this.deps.bus.subscribe('telemetry', 'telemetry.>', (msg) => this.onTelemetry(msg.deviceId, msg.points));
    } else if (this.active.size === 0 && this.unsubscribe) {
      this.unsubscribe();
      this.unsubscribe = undefined;
    }
  }

  async create(tenantId: string, request: DeploymentRequest): Promise<Deployment> {
    const plan = planOf(request);
    const pkg = await this.deps.packages.get(tenantId, request.packageId);
    const devices = await targetDevices(this.deps.store, this.deps.requireDevice, tenantId, request.target, pkg);
    return this.serial(async () => {
      const busy = devices.find((d) => this.active.has(d.id));
      if (busy) throw new PlatformError('CONFLICT', `device ${busy.name} is in running deployment ${this.active.get(busy.id)}`);
      const { deployment, rows } = newDeployment(tenantId, pkg, request.target, plan, devices, this.deps.clock.now(), this.random);
      await this.deps.store.insertOtaDeployment(deployment, rows);
      this.track(deployment, rows);
      this.deps.logger.info({ deployment: deployment.id, devices: rows.length, waves: deployment.waves }, 'ota deployment created');
      // The first wave is told at once (not a scheduler period later).
      await this.advance(deployment);
      return deployment;
    });
  }

  private async own(tenantId: string, id: string): Promise<Deployment> {
    const d = await this.deps.store.getOtaDeployment(id);
    if (!d || d.tenantId !== tenantId) throw new PlatformError('DEPLOYMENT_NOT_FOUND', id);
    return d;
  }

  async get(tenantId: string, id: string): Promise<DeploymentView> {
    const d = await this.own(tenantId, id);
    return this.view(d, await this.deps.store.listOtaDeploymentDevices(id));
  }

  async list(tenantId: string): Promise<DeploymentView[]> {
    const all = await this.deps.store.listOtaDeployments(tenantId);
    return Promise.all(all.map(async (d) => this.view(d, await this.deps.store.listOtaDeploymentDevices(d.id))));
  }

  async devices(tenantId: string, id: string): Promise<DeploymentDevice[]> {
    await this.own(tenantId, id);
    return this.deps.store.listOtaDeploymentDevices(id);
  }

  private view(d: Deployment, rows: readonly DeploymentDevice[]): DeploymentView {
    const perWave = Array.from({ length: d.waves }, (_, w) => countStates(rows.filter((r) => r.wave === w)));
    const failures: Record<string, number> = {};
    for (const r of rows) if (r.state === 'failed') failures[r.error ?? 'unknown'] = (failures[r.error ?? 'unknown'] ?? 0) + 1;
    return { ...d, counts: countStates(rows), perWave, failures };
  }

  /** Pause (no device is told any more; reports still count), resume, or cancel (queued devices are not told). */
  async act(tenantId: string, id: string, action: Action): Promise<DeploymentView> {
    return this.serial(async () => {
      const d = await this.own(tenantId, id);
      const allowed = action === 'pause' ? d.status === 'running' : action === 'resume' ? d.status === 'paused' : d.status === 'running' || d.status === 'paused';
      if (!allowed) throw new PlatformError('DEPLOYMENT_STATE', `cannot ${action} a ${d.status} deployment`);
      const now = this.deps.clock.now();
      if (action === 'cancel') {
        await this.finish(d, 'canceled', 'canceled by a user');
      } else {
        await this.deps.store.updateOtaDeployment({ ...d, status: action === 'pause' ? 'paused' : 'running', updatedAt: now });
      }
      const after = await this.own(tenantId, id);
      if (action === 'resume') await this.advance(after);
      return this.view(after, await this.deps.store.listOtaDeploymentDevices(id));
    });
  }

  /** Stops the deployment: queued devices are canceled (those already told keep their assignment). */
  private async finish(d: Deployment, status: 'completed' | 'aborted' | 'canceled', reason?: string): Promise<void> {
    const now = this.deps.clock.now();
    const rows = await this.deps.store.listOtaDeploymentDevices(d.id);
    const canceled = rows.filter((r) => r.state === 'queued').map((r): DeploymentDevice => ({ ...r, state: 'canceled', stateSince: now }));
    await this.deps.store.updateOtaDeploymentDevices(canceled);
    const next: Deployment = { ...d, status, ...(reason !== undefined ? { reason } : {}), updatedAt: now };
    await this.deps.store.updateOtaDeployment(next);
    this.track(next, rows);
    this.deps.logger.info({ deployment: d.id, status, reason }, 'ota deployment finished');
    if (status !== 'canceled') this.system(d, `ota.deployment_${status}`, { ...countStates(rows), ...(reason !== undefined ? { reason } : {}) });
  }

  /** One scheduler turn over every active deployment. */
  async tick(): Promise<void> {
    for (const d of await this.deps.store.listActiveOtaDeployments()) await this.advance(d);
  }

  /** Timeouts, abort, next wave, notifications: everything from the stored rows. */
  private async advance(d: Deployment): Promise<void> {
    const now = this.deps.clock.now();
    let rows = await this.deps.store.listOtaDeploymentDevices(d.id);
    const changed: DeploymentDevice[] = [];
    rows = rows.map((r) => {
      const limit = r.state === 'notified' ? d.plan.timeouts.notifiedMs : r.state === 'in_progress' ? d.plan.timeouts.progressMs : undefined;
      if (limit === undefined || now - r.stateSince <= limit) return r;
      const failed = this.failed(d, r, `timeout in ${r.fwState ?? r.state}`, now);
      changed.push(failed);
      return failed;
    });
    if (changed.length) await this.deps.store.updateOtaDeploymentDevices(changed);
    this.track(d, changed);
    const counts = countStates(rows);
    if (shouldAbort(d.plan, counts)) {
      return this.finish(d, 'aborted', `${counts.failed} of ${counts.updated + counts.failed} finished devices failed (over ${d.plan.abort?.percent}%)`);
    }
    if (d.status !== 'running') return;
    let wave = d.wave;
    while (wave < d.waves && rows.every((r) => r.wave > wave || TERMINAL.has(r.state))) wave++;
    if (wave >= d.waves) return this.finish(d, 'completed');
    if (wave !== d.wave) {
      // The next wave starts: its devices get their jittered start times now.
      const scheduled = rows.filter((r) => r.wave === wave && r.startAfter === 0).map((r): DeploymentDevice => ({ ...r, startAfter: now + Math.floor(this.random() * d.plan.jitterMs) }));
      await this.deps.store.updateOtaDeploymentDevices(scheduled);
      await this.deps.store.updateOtaDeployment({ ...d, wave, updatedAt: now });
      const byId = new Map(scheduled.map((r) => [r.deviceId, r]));
      rows = rows.map((r) => byId.get(r.deviceId) ?? r);
      this.deps.logger.info({ deployment: d.id, wave }, 'ota deployment: next wave');
      this.system(d, 'ota.deployment_wave', { wave, devices: scheduled.length });
    }
    if (!inWindow(d.plan, now)) return;
    const due = rows.filter((r) => r.state === 'queued' && r.wave <= wave && r.startAfter > 0 && r.startAfter <= now);
    for (const r of due) await this.notify(d, r, now);
  }

  private system(d: Deployment, action: string, details: Record<string, string | number>): void {
    this.deps.audit?.record({ tenantId: d.tenantId, actor: 'system', action, targetType: 'ota', targetId: d.id, details });
  }

  /** A failure: re-queued (told again after jitter) while retries remain, else final. */
  private failed(d: Deployment, r: DeploymentDevice, error: string, now: number): DeploymentDevice {
    const { fwState: _gone, ...rest } = r;
    if (r.attempts <= d.plan.retries) return { ...rest, state: 'queued', startAfter: now + 1 + Math.floor(this.random() * d.plan.jitterMs), stateSince: now, error };
    return { ...rest, state: 'failed', stateSince: now, error };
  }

  private async notify(d: Deployment, r: DeploymentDevice, now: number): Promise<void> {
    try {
      await this.deps.assign(d.tenantId, r.deviceId, d.packageId);
      const { error: _e, ...rest } = r;
      await this.deps.store.updateOtaDeploymentDevices([{ ...rest, state: 'notified', attempts: r.attempts + 1, stateSince: now }]);
    } catch (err) {
      // A device deleted or moved since: it fails now, rather than holding its wave.
      const message = err instanceof PlatformError ? `${err.code}: ${err.message}` : String(err);
      const failed = { ...this.failed(d, { ...r, attempts: r.attempts + 1 }, message, now) };
      await this.deps.store.updateOtaDeploymentDevices([failed]);
      this.track(d, [failed]);
    }
  }

  /** A bus telemetry event: only devices in an active deployment get past the first line. */
  onTelemetry(deviceId: string, points: readonly Point[]): Promise<void> | undefined {
    const deploymentId = this.active.get(deviceId);
    if (deploymentId === undefined) return undefined;
    return this.serial(() => this.report(deploymentId, deviceId, points));
  }

  private async report(deploymentId: string, deviceId: string, points: readonly Point[]): Promise<void> {
    const d = await this.deps.store.getOtaDeployment(deploymentId);
    if (!d || (d.status !== 'running' && d.status !== 'paused')) return;
    const keys = otaTelemetryKeys(d.type);
    const ordered = [...points].sort((a, b) => a.ts - b.ts);
    let r = await this.deps.store.getOtaDeploymentDevice(deploymentId, deviceId);
    if (!r) return;
    const before = r;
    // Points of one message in time order; those of one ts read together (state beside its error and version).
    for (let i = 0; i < ordered.length; ) {
      const ts = (ordered[i] as Point).ts;
      const at: Record<string, string> = {};
      for (; i < ordered.length && (ordered[i] as Point).ts === ts; i++) {
        const p = ordered[i] as Point;
        if (p.key === keys.state || p.key === keys.error || p.key === keys.currentVersion) at[p.key] = String(p.value);
      }
      const outcome = reportOutcome(r, d.version, at[keys.state], at[keys.error], at[keys.currentVersion]);
      if (!outcome) continue;
      const now = this.deps.clock.now();
      if (outcome.state === 'in_progress') r = { ...r, state: 'in_progress', fwState: outcome.fwState, stateSince: now };
      else if (outcome.state === 'updated') {
        const { error: _e, ...rest } = r;
        r = { ...rest, state: 'updated', stateSince: now };
      } else r = this.failed(d, r, outcome.error, now);
    }
    if (r === before) return;
    await this.deps.store.updateOtaDeploymentDevices([r]);
    this.track(d, [r]);
  }
}
