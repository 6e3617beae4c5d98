/**
 * The OTA device side of a simulated device (`continuum simulate --ota`, issue 16), as
 * ThingsBoard's documentation describes it: it reports `current_fw_title`/`current_fw_version` on
 * every connection, learns of a package from the `fw_*` shared attributes, reports
 * DOWNLOADING, fetches the chunks over `v2/fw/request/{id}/chunk/{n}`, checks the SHA-256,
 * reports DOWNLOADED, VERIFIED, UPDATING, "reboots" and reports the new version with UPDATED.
 *
 * It fails on purpose at `failRate` per attempt, one of: a bad checksum (FAILED with fw_error),
 * a reboot into the old version (reports the old current_fw_version), or a timeout (goes silent
 * after DOWNLOADING). A connection lost mid-download starts the download again on reconnect.
 */
import { createHash } from 'node:crypto';
import type { JsonValue } from '../domain/telemetry.js';
import type { DeviceLink } from './clients/types.js';

export type OtaFailure = 'checksum' | 'old-version' | 'timeout';
export const OTA_FAILURES: readonly OtaFailure[] = ['checksum', 'old-version', 'timeout'];

export interface OtaDeviceOptions {
  readonly title: string;
  readonly version: string;
  /** Probability that one update attempt fails on purpose (0–1). */
  readonly failRate?: number;
  /** The ways it fails, picked at random among these; default all three. */
  readonly failures?: readonly OtaFailure[];
  readonly chunkBytes?: number;
  /** How long the "reboot" into the new image takes (ms). */
  readonly rebootMs?: number;
  readonly random?: () => number;
}

export interface OtaTally {
  started: number;
  updated: number;
  failedOnPurpose: number;
}

interface Target {
  readonly title: string;
  readonly version: string;
  readonly size: number;
  readonly checksum: string;
}

export class OtaDevice {
  private current: { title: string; version: string };
  private target: Target | undefined;
  private attempt: { requestId: string; parts: Buffer[]; received: number; failure: OtaFailure | undefined } | undefined;
  private lastTs = 0;
  private seq = 0;
  private rebootTimer: NodeJS.Timeout | undefined;
  private readonly random: () => number;

  constructor(
    private readonly link: () => DeviceLink,
    private readonly opts: OtaDeviceOptions,
    private readonly tally: OtaTally,
  ) {
    this.current = { title: opts.title, version: opts.version };
    this.random = opts.random ?? Math.random;
  }

  get version(): string {
    return this.current.version;
  }

  /** Telemetry with its own increasing ts: two states in one millisecond would keep only the later (docs/OTA.md). */
  private report(values: Record<string, JsonValue>): void {
    this.lastTs = Math.max(Date.now(), this.lastTs + 1);
    this.link().telemetry(JSON.stringify({ ts: this.lastTs, values }));
  }

  connected(): void {
    this.report({ current_fw_title: this.current.title, current_fw_version: this.current.version });
    // Mid-download when the connection went: the chunk answers are gone, start again.
    if (this.attempt && this.attempt.failure !== 'timeout' && this.rebootTimer === undefined) this.download();
  }

  shared(values: Record<string, JsonValue>): void {
    const { fw_title: title, fw_version: version, fw_size: size, fw_checksum: checksum } = values;
    if (typeof title !== 'string' || typeof version !== 'string' || typeof size !== 'number' || typeof checksum !== 'string') return;
    this.target = { title, version, size, checksum };
    if (version === this.current.version && title === this.current.title) return;
    // Told again (a retry) or of another package: a new attempt, whatever the last one did.
    if (this.rebootTimer !== undefined) return;
    // An attempt under way goes on (the same attributes come again after each reconnection);
    // one that went silent on purpose starts over when told again (the platform's retry).
    if (this.attempt && this.attempt.failure !== 'timeout') return;
    const failRate = this.opts.failRate ?? 0;
    const kinds = this.opts.failures ?? OTA_FAILURES;
    const failure = this.random() < failRate ? kinds[Math.floor(this.random() * kinds.length)] : undefined;
    this.tally.started++;
    this.attempt = { requestId: '', parts: [], received: 0, failure };
    this.download();
  }

  private download(): void {
    const a = this.attempt;
    if (!a || !this.target) return;
    a.requestId = String(++this.seq);
    a.parts = [];
    a.received = 0;
    this.report({ fw_state: 'DOWNLOADING' });
    if (a.failure === 'timeout') {
      this.tally.failedOnPurpose++;
      return; // silent from here: the platform's timeout fails it
    }
    this.link().requestFirmwareChunk?.(a.requestId, 0, this.opts.chunkBytes ?? 16_384);
  }

  firmwareChunk(requestId: string, n: number, data: Buffer): void {
    const a = this.attempt;
    const target = this.target;
    if (!a || !target || requestId !== a.requestId) return;
    if (data.length > 0) {
      a.parts.push(data);
      a.received += data.length;
    }
    if (data.length > 0 && a.received < target.size) {
      this.link().requestFirmwareChunk?.(a.requestId, n + 1, this.opts.chunkBytes ?? 16_384);
      return;
    }
    this.report({ fw_state: 'DOWNLOADED' });
    const image = Buffer.concat(a.parts);
    if (a.failure === 'checksum' && image.length > 0) image[0] = (image[0] ?? 0) ^ 0xff;
    const digest = createHash('sha256').update(image).digest('hex');
    if (digest !== target.checksum) {
      if (a.failure === 'checksum') this.tally.failedOnPurpose++;
      this.attempt = undefined;
      this.report({ fw_state: 'FAILED', fw_error: 'checksum mismatch' });
      return;
    }
    this.report({ fw_state: 'VERIFIED' });
    this.report({ fw_state: 'UPDATING' });
    this.rebootTimer = setTimeout(() => this.rebooted(target, a.failure), this.opts.rebootMs ?? 50);
  }

  private rebooted(target: Target, failure: OtaFailure | undefined): void {
    this.rebootTimer = undefined;
    this.attempt = undefined;
    if (failure === 'old-version') {
      this.tally.failedOnPurpose++;
      this.report({ current_fw_title: this.current.title, current_fw_version: this.current.version });
      return;
    }
    this.current = { title: target.title, version: target.version };
    this.tally.updated++;
    this.report({ current_fw_title: target.title, current_fw_version: target.version, fw_state: 'UPDATED' });
  }

  stop(): void {
    clearTimeout(this.rebootTimer);
  }
}
