/**
 * The edge updating itself: the gateway is a device like any other, so it follows the normal
 * device-side OTA for its own `fw_*` shared attributes (ThingsBoard's `v2/fw/request` topics on
 * its own session). The image is downloaded into the same image store (resumable, once per
 * SHA-256), checked, and staged as `DIR/updates/<sha256>.bin` with `DIR/updates/pending.json`
 * naming it; then `UPDATING` is reported and the optional `firmware.installCommand` runs (argv,
 * no shell, with CONTINUUM_UPDATE_FILE / _TITLE / _VERSION / _SHA256 in its environment). The
 * edge never replaces its own code: installing and restarting belong to that command or to the
 * service manager. At the next start, a pending update whose version is the one now running is
 * reported `UPDATED` (else `FAILED`, "came back on version …") and the pending file removed.
 * States are the gateway's own telemetry, with their time, sent at QoS 1 and kept until
 * acknowledged (again after a reconnect).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JsonValue } from '../../domain/telemetry.js';
import type { EdgeLogger } from '../ports.js';
import type { ImageStore } from './image-store.js';
import { assignmentOf, FINAL_STATES, messageOf, patientFetch, Stopped, type FetchDeps } from './fetching.js';

export interface SelfUpdateDeps extends Omit<FetchDeps, 'stopped'> {
  readonly store: ImageStore;
  readonly dataDir: string;
  /** What this edge runs (config `firmware.title` / `firmware.version`). */
  readonly title: string;
  readonly version: string;
  readonly installCommand?: readonly string[];
  /** Publishes the gateway's own telemetry at QoS 1; resolves on the PUBACK. */
  readonly publish: (body: { ts: number; values: Record<string, JsonValue> }) => Promise<void>;
  readonly logger: EdgeLogger;
}

interface Pending {
  readonly title: string;
  readonly version: string;
  readonly checksum: string;
  readonly file: string;
}

export class SelfUpdate {
  private readonly outbox: { ts: number; values: Record<string, JsonValue> }[] = [];
  private flushing = false;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastTs = 0;
  private readonly updates: string;

  constructor(private readonly deps: SelfUpdateDeps) {
    this.updates = join(deps.dataDir, 'updates');
  }

  /** At start: the running version, and the outcome of an update staged before the restart. */
  start(): void {
    const running = { current_fw_title: this.deps.title, current_fw_version: this.deps.version };
    const pendingFile = join(this.updates, 'pending.json');
    const job = this.deps.store.job('');
    if (existsSync(pendingFile)) {
      let pending: Pending | undefined;
      try {
        pending = JSON.parse(readFileSync(pendingFile, 'utf8')) as Pending;
      } catch {
        this.deps.logger.warn({ file: pendingFile }, 'unreadable pending update; removed');
      }
      rmSync(pendingFile, { force: true });
      if (pending && job) {
        if (pending.version === this.deps.version) this.set('UPDATED', undefined, running);
        else this.set('FAILED', `came back on version ${this.deps.version}, not ${pending.version}`, running);
        this.deps.store.saveJob({ ...job, state: pending.version === this.deps.version ? 'UPDATED' : 'FAILED' });
        return;
      }
    }
    this.report(running);
    if (job && !FINAL_STATES.has(job.state) && job.state !== 'UPDATING') this.enqueue();
  }

  /** The gateway's own shared attributes (`complete`: the answer at connect). */
  onAttributes(values: Readonly<Record<string, JsonValue>>, complete: boolean): void {
    const next = assignmentOf(values);
    if (!next || this.stopped) return;
    const job = this.deps.store.job('');
    if (job && job.checksum === next.checksum && (job.state !== 'FAILED' || complete)) return;
    // Already running it (assigned again, or the platform re-announces it): report, nothing to do.
    if (next.version === this.deps.version) {
      this.deps.store.saveJob({ device: '', ...next, state: 'UPDATED', error: null });
      if (!job || job.checksum !== next.checksum) this.set('UPDATED', undefined, { current_fw_title: this.deps.title, current_fw_version: this.deps.version });
      return;
    }
    this.deps.store.saveJob({ device: '', ...next, state: 'QUEUED', error: null });
    this.enqueue();
  }

  /** The uplink connected: states not acknowledged yet go out again. */
  connected(): void {
    void this.flush();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.chain;
  }

  private enqueue(): void {
    this.chain = this.chain.then(() => this.run()).catch((err: unknown) => this.deps.logger.error({ err: messageOf(err) }, 'self-update failed'));
  }

  private async run(): Promise<void> {
    const job = this.deps.store.job('');
    if (!job || FINAL_STATES.has(job.state) || this.stopped) return;
    const current = (): boolean => this.deps.store.job('')?.checksum === job.checksum;
    try {
      this.set('DOWNLOADING');
      const fetch = patientFetch({ ...this.deps, stopped: () => this.stopped || !current() }, { title: job.title, version: job.version });
      const file = await this.deps.store.image(job, fetch);
      if (!current()) return;
      this.set('DOWNLOADED');
      this.set('VERIFIED');
      mkdirSync(this.updates, { recursive: true });
      const staged = join(this.updates, `${job.checksum}.bin`);
      copyFileSync(file, staged);
      const pending: Pending = { title: job.title, version: job.version, checksum: job.checksum, file: staged };
      // Written whole or not at all: the next start must never read half a pending file.
      writeFileSync(join(this.updates, 'pending.json.tmp'), JSON.stringify(pending));
      renameSync(join(this.updates, 'pending.json.tmp'), join(this.updates, 'pending.json'));
      this.deps.store.saveJob({ ...job, state: 'UPDATING', error: null });
      this.set('UPDATING');
      this.deps.logger.info({ file: staged, version: job.version }, 'update staged; waiting for a restart into it');
      if (this.deps.installCommand && this.deps.installCommand.length > 0) this.install(pending);
    } catch (err) {
      if (err instanceof Stopped || !current()) return;
      this.deps.store.saveJob({ ...job, state: 'FAILED', error: messageOf(err) });
      this.set('FAILED', messageOf(err));
    }
  }

  private install(pending: Pending): void {
    const [command, ...args] = this.deps.installCommand ?? [];
    if (!command) return;
    const env = { ...process.env, CONTINUUM_UPDATE_FILE: pending.file, CONTINUUM_UPDATE_TITLE: pending.title, CONTINUUM_UPDATE_VERSION: pending.version, CONTINUUM_UPDATE_SHA256: pending.checksum };
    execFile(command, args, { env, timeout: 10 * 60_000 }, (err, _stdout, stderr) => {
      if (!err) return this.deps.logger.info({ command }, 'install command finished');
      rmSync(join(this.updates, 'pending.json'), { force: true });
      const job = this.deps.store.job('');
      if (job) this.deps.store.saveJob({ ...job, state: 'FAILED', error: `install command failed: ${err.message}` });
      this.set('FAILED', `install command failed: ${(stderr || err.message).slice(0, 300)}`);
    });
  }

  private set(state: string, error?: string, extra: Record<string, JsonValue> = {}): void {
    this.report({ fw_state: state, ...(error !== undefined ? { fw_error: error } : {}), ...extra });
  }

  private report(values: Record<string, JsonValue>): void {
    // Own timestamps, strictly increasing: two states in one millisecond would keep only one.
    this.lastTs = Math.max(Date.now(), this.lastTs + 1);
    this.outbox.push({ ts: this.lastTs, values });
    void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (let next = this.outbox[0]; next; next = this.outbox[0]) {
        await this.deps.publish(next);
        this.outbox.shift();
      }
    } catch {
      // Not connected, or the connection broke before the PUBACK: sent again at the next connect.
    } finally {
      this.flushing = false;
    }
  }
}
