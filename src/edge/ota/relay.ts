/**
 * The firmware relay: a child device assigned a package on the platform learns of it through its
 * `fw_*` shared attributes (v1/gateway/attributes); the relay downloads the image once per
 * SHA-256 into the image store (resumable, through outages), checks it, and writes it into the
 * field device through the connector that owns it. Each step is reported as the child's
 * `fw_state` telemetry (DOWNLOADING, DOWNLOADED, VERIFIED, UPDATING, UPDATED, or FAILED with
 * `fw_error`), buffered like readings so no state is lost while the platform is away; UPDATED
 * goes with `current_fw_title`/`current_fw_version` as the device reports them, which is what
 * the platform's rollouts count. Jobs are kept in the image store's database: after a restart an
 * unfinished one continues where it stood. One job per device at a time, in order.
 */
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { JsonValue } from '../../domain/telemetry.js';
import type { Connector, EdgeLogger } from '../ports.js';
import type { ImageStore, UpdateJob } from './image-store.js';
import { assignmentOf, FINAL_STATES, messageOf, patientFetch, Stopped, type FetchDeps } from './fetching.js';

export interface RelayDeps extends Omit<FetchDeps, 'stopped'> {
  readonly store: ImageStore;
  readonly connectorOf: (device: string) => Connector | undefined;
  /** The child's telemetry, persisted in the buffer before it is uploaded. */
  readonly report: (device: string, values: Record<string, JsonValue>) => void;
  readonly logger: EdgeLogger;
}

/** States after which the image is on disk and checked: a restart goes on with the write. */
const HAVE_IMAGE = new Set(['DOWNLOADED', 'VERIFIED', 'UPDATING']);

export class FirmwareRelay {
  private readonly chains = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(private readonly deps: RelayDeps) {}

  /** Unfinished jobs of children from before a restart. */
  resume(): void {
    for (const job of this.deps.store.jobs()) if (job.device !== '' && !FINAL_STATES.has(job.state)) this.enqueue(job.device);
  }

  /**
   * A child's shared attributes changed (`complete`: the answer at connect). A new checksum is a
   * new job; the same one again restarts it only after a failure and only when pushed (a rollout
   * retry), not from the catch-up at each connect.
   */
  onAttributes(device: string, values: Readonly<Record<string, JsonValue>>, complete: boolean): void {
    const next = assignmentOf(values);
    if (!next || this.stopped) return;
    const job = this.deps.store.job(device);
    if (job && job.checksum === next.checksum && (job.state !== 'FAILED' || complete)) return;
    this.deps.store.saveJob({ device, ...next, state: 'QUEUED', error: null });
    this.enqueue(device);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.chains.values());
  }

  status(): UpdateJob[] {
    return this.deps.store.jobs().filter((j) => j.device !== '');
  }

  private enqueue(device: string): void {
    const chain = (this.chains.get(device) ?? Promise.resolve())
      .then(() => this.run(device))
      .catch((err: unknown) => this.deps.logger.error({ device, err: messageOf(err) }, 'firmware relay failed'));
    this.chains.set(device, chain);
  }

  private async run(device: string): Promise<void> {
    const job = this.deps.store.job(device);
    if (!job || FINAL_STATES.has(job.state) || this.stopped) return;
    const current = (): boolean => this.deps.store.job(device)?.checksum === job.checksum;
    const connector = this.deps.connectorOf(device);
    if (!connector?.writeFirmware) return this.set(job, 'FAILED', 'not supported by connector');
    try {
      if (!HAVE_IMAGE.has(job.state)) this.set(job, 'DOWNLOADING');
      const fetch = patientFetch({ ...this.deps, stopped: () => this.stopped || !current() }, { device, title: job.title, version: job.version });
      const file = await this.deps.store.image(job, fetch);
      if (!current()) return;
      if (!HAVE_IMAGE.has(job.state)) this.set(job, 'DOWNLOADED');
      const bytes = readFileSync(file);
      // Checked again as read: the store's file is the one that goes to the device.
      if (createHash('sha256').update(bytes).digest('hex') !== job.checksum) throw new Error('checksum mismatch in the local image store');
      this.set(job, 'VERIFIED');
      this.set(job, 'UPDATING');
      const { version } = await connector.writeFirmware(device, { title: job.title, version: job.version, sha256: job.checksum, bytes });
      if (!current()) return;
      const running = { current_fw_title: job.title, current_fw_version: version };
      if (version !== job.version) return this.set(job, 'FAILED', `came back on version ${version}, not ${job.version}`, running);
      this.set(job, 'UPDATED', undefined, running);
      this.deps.logger.info({ device, title: job.title, version }, 'firmware updated through the edge');
    } catch (err) {
      if (err instanceof Stopped || !current()) return;
      this.set(job, 'FAILED', messageOf(err));
    }
  }

  private set(job: UpdateJob, state: string, error?: string, extra: Record<string, JsonValue> = {}): void {
    this.deps.store.saveJob({ ...job, state, error: error ?? null });
    (job as { state: string }).state = state;
    this.deps.report(job.device, { fw_state: state, ...(error !== undefined ? { fw_error: error } : {}), ...extra });
    if (state === 'FAILED') this.deps.logger.warn({ device: job.device, version: job.version, error }, 'firmware update failed');
  }
}
