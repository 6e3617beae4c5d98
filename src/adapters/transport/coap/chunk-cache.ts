/**
 * Firmware chunks recently served over CoAP, so a block-wise download (RFC 7959 Block2, 1 KiB
 * a block) reads the chunk once instead of once per block: block2.ts cuts every reply from the
 * whole body, and a whole-package download of 1 MiB is 1,024 block requests. Keyed by the
 * authenticated device and everything the request names, so one device never sees another's
 * bytes; bounded in bytes and entries, and entries expire (30 s as configured: a device whose
 * assignment changed may still get the chunk it asked for by title and version within that time).
 */
export interface ChunkCacheOptions {
  readonly maxBytes: number;
  readonly maxEntries: number;
  readonly ttlMs: number;
  readonly now?: () => number;
}

interface Entry {
  readonly bytes: Buffer;
  readonly expires: number;
}

export class ChunkCache {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;
  private readonly now: () => number;

  constructor(private readonly opts: ChunkCacheOptions) {
    this.now = opts.now ?? Date.now;
  }

  get(key: string): Buffer | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.drop(key, e);
      return undefined;
    }
    return e.bytes;
  }

  set(key: string, bytes: Buffer): void {
    if (bytes.length > this.opts.maxBytes) return;
    const old = this.entries.get(key);
    if (old) this.drop(key, old);
    this.entries.set(key, { bytes, expires: this.now() + this.opts.ttlMs });
    this.bytes += bytes.length;
    // Oldest first (Map keeps insertion order) until within both bounds.
    for (const [k, e] of this.entries) {
      if (this.bytes <= this.opts.maxBytes && this.entries.size <= this.opts.maxEntries) break;
      this.drop(k, e);
    }
  }

  private drop(key: string, e: Entry): void {
    this.entries.delete(key);
    this.bytes -= e.bytes.length;
  }
}
