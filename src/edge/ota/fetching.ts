/**
 * What the firmware relay and the self-update share: reading the `fw_*` shared attributes the
 * platform sets on assignment, and fetching chunks patiently — a chunk that fails because the
 * platform is away (not connected, connection lost, no answer in time) is asked again once the
 * uplink is back; only the platform's refusal ends a download.
 */
import type { JsonValue } from '../../domain/telemetry.js';
import { ChunkRequestError, type ChunkTarget } from '../uplink/chunk-requests.js';

export interface FirmwareAssignment {
  readonly title: string;
  readonly version: string;
  readonly size: number;
  readonly checksum: string;
}

/** The package the attributes announce; undefined when they do not name a whole SHA-256 one. */
export function assignmentOf(values: Readonly<Record<string, JsonValue>>): FirmwareAssignment | undefined {
  const { fw_title: title, fw_version: version, fw_size: size, fw_checksum: checksum, fw_checksum_algorithm: algorithm } = values;
  if (typeof title !== 'string' || typeof version !== 'string' || typeof checksum !== 'string') return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) return undefined;
  if (algorithm !== undefined && algorithm !== 'SHA256') return undefined;
  if (!/^[0-9a-f]{64}$/.test(checksum)) return undefined;
  return { title, version, size, checksum };
}

export const FW_KEYS = ['fw_title', 'fw_version', 'fw_size', 'fw_checksum', 'fw_checksum_algorithm'] as const;

/** Final states: nothing more happens for that package until it is assigned again. */
export const FINAL_STATES = new Set(['UPDATED', 'FAILED']);

export class Stopped extends Error {
  override name = 'Stopped';
}

export interface FetchDeps {
  readonly request: (target: ChunkTarget, chunk: number, size: number) => Promise<Buffer>;
  /** Resolves at the uplink's next connect, or after a while, whichever comes first. */
  readonly waitForPlatform: () => Promise<void>;
  /** 0 = as fast as answers come. */
  readonly chunksPerSecond: number;
  readonly stopped: () => boolean;
}

/** A ChunkFetch for ImageStore.image that retries through outages and keeps to the rate. */
export function patientFetch(deps: FetchDeps, target: ChunkTarget): (chunk: number, size: number) => Promise<Buffer> {
  let last = 0;
  return async (chunk, size) => {
    for (;;) {
      if (deps.stopped()) throw new Stopped('edge stopping');
      if (deps.chunksPerSecond > 0) {
        const wait = last + 1000 / deps.chunksPerSecond - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      last = Date.now();
      try {
        return await deps.request(target, chunk, size);
      } catch (err) {
        if (!(err instanceof ChunkRequestError) || !err.retryable) throw err;
        await deps.waitForPlatform();
      }
    }
  };
}

export const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err)).slice(0, 500);
