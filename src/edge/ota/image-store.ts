/**
 * Firmware images on the edge: downloaded once per SHA-256 into a content-addressed store under
 * the data dir, resumably. Bytes go to `DIR/firmware/partial/<sha256>` chunk by chunk; each chunk
 * is written and fsynced before the chunk index in `DIR/edge-firmware.db` moves past it, so after
 * a lost connection, a platform restart or an edge crash the download continues at the first
 * chunk not recorded (a chunk written but not yet recorded is fetched and written again, never
 * skipped). The whole image's SHA-256 is checked before it is renamed to
 * `DIR/firmware/sha256/<sha256>`: a reader never sees an unchecked image. The same database keeps
 * each device's update job (its state survives restarts, see relay.ts).
 */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

export interface ImageMeta {
  readonly checksum: string;
  readonly size: number;
}

/** One chunk of the image; resolves with its bytes (empty past the end). Rejects to stop the download. */
export type ChunkFetch = (chunk: number, chunkSize: number) => Promise<Buffer>;

export class ChecksumMismatch extends Error {
  override name = 'ChecksumMismatch';
}

export interface UpdateJob {
  /** Child device name; '' = the gateway itself. */
  readonly device: string;
  readonly title: string;
  readonly version: string;
  readonly size: number;
  readonly checksum: string;
  readonly state: string;
  readonly error: string | null;
}

const SHA256 = /^[0-9a-f]{64}$/;

export class ImageStore {
  private readonly db: Database.Database;
  private readonly running = new Map<string, Promise<string>>();
  /** Chunk requests answered, per checksum, since start (status, tests). */
  readonly fetched = new Map<string, number>();

  constructor(
    private readonly dir: string,
    private readonly chunkSize: number,
  ) {
    mkdirSync(join(dir, 'firmware', 'partial'), { recursive: true });
    mkdirSync(join(dir, 'firmware', 'sha256'), { recursive: true });
    this.db = new Database(join(dir, 'edge-firmware.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS downloads (checksum TEXT PRIMARY KEY, size INTEGER NOT NULL, chunk_size INTEGER NOT NULL, next_chunk INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS jobs (device TEXT PRIMARY KEY, title TEXT NOT NULL, version TEXT NOT NULL, size INTEGER NOT NULL, checksum TEXT NOT NULL, state TEXT NOT NULL, error TEXT)`);
  }

  /** Path of the verified image, when it is in the store. */
  path(checksum: string): string | undefined {
    const file = join(this.dir, 'firmware', 'sha256', checksum);
    return SHA256.test(checksum) && existsSync(file) ? file : undefined;
  }

  /** The next chunk a download will ask for (0 when none started). */
  progress(checksum: string): { nextChunk: number; chunkSize: number } | undefined {
    const row = this.db.prepare('SELECT next_chunk, chunk_size FROM downloads WHERE checksum = ?').get(checksum) as { next_chunk: number; chunk_size: number } | undefined;
    return row ? { nextChunk: row.next_chunk, chunkSize: row.chunk_size } : undefined;
  }

  /**
   * The verified image, downloaded if needed: once per checksum, however many devices wait for
   * it at the same time. Rejects with what `fetch` rejects with (the download stays resumable)
   * or ChecksumMismatch (the partial file is dropped: the next try starts from zero).
   */
  image(meta: ImageMeta, fetch: ChunkFetch): Promise<string> {
    if (!SHA256.test(meta.checksum)) return Promise.reject(new Error(`not a SHA-256: ${meta.checksum.slice(0, 80)}`));
    const done = this.path(meta.checksum);
    if (done) return Promise.resolve(done);
    let work = this.running.get(meta.checksum);
    if (!work) {
      work = this.download(meta, fetch).finally(() => this.running.delete(meta.checksum));
      this.running.set(meta.checksum, work);
    }
    return work;
  }

  private async download(meta: ImageMeta, fetch: ChunkFetch): Promise<string> {
    const { checksum, size } = meta;
    // The chunk size is fixed per download: a configuration change must not shift the offsets of a resumed one.
    this.db.prepare('INSERT INTO downloads (checksum, size, chunk_size, next_chunk) VALUES (?, ?, ?, 0) ON CONFLICT (checksum) DO NOTHING').run(checksum, size, this.chunkSize);
    const row = this.db.prepare('SELECT size, chunk_size, next_chunk FROM downloads WHERE checksum = ?').get(checksum) as { size: number; chunk_size: number; next_chunk: number };
    const partial = join(this.dir, 'firmware', 'partial', checksum);
    const file = await open(partial, existsSync(partial) ? 'r+' : 'w+');
    const advance = this.db.prepare('UPDATE downloads SET next_chunk = ? WHERE checksum = ?');
    try {
      let chunk = row.next_chunk;
      while (chunk * row.chunk_size < size) {
        const bytes = await fetch(chunk, row.chunk_size);
        this.fetched.set(checksum, (this.fetched.get(checksum) ?? 0) + 1);
        const offset = chunk * row.chunk_size;
        if (bytes.length === 0) break;
        if (bytes.length > row.chunk_size || offset + bytes.length > size) throw new ChecksumMismatch(`chunk ${chunk} has ${bytes.length} bytes, more than the image or chunk size allows`);
        await file.write(bytes, 0, bytes.length, offset);
        // On disk before the index moves past it: a crash re-fetches this chunk rather than skipping it.
        await file.datasync();
        chunk++;
        advance.run(chunk, checksum);
      }
      await file.truncate(size);
    } finally {
      await file.close();
    }
    const actual = await sha256Of(partial);
    if (actual !== checksum) {
      rmSync(partial, { force: true });
      this.db.prepare('DELETE FROM downloads WHERE checksum = ?').run(checksum);
      throw new ChecksumMismatch(`checksum mismatch: expected ${checksum}, got ${actual}`);
    }
    const target = join(this.dir, 'firmware', 'sha256', checksum);
    renameSync(partial, target);
    this.db.prepare('DELETE FROM downloads WHERE checksum = ?').run(checksum);
    return target;
  }

  job(device: string): UpdateJob | undefined {
    return this.db.prepare('SELECT device, title, version, size, checksum, state, error FROM jobs WHERE device = ?').get(device) as UpdateJob | undefined;
  }

  jobs(): UpdateJob[] {
    return this.db.prepare('SELECT device, title, version, size, checksum, state, error FROM jobs').all() as UpdateJob[];
  }

  saveJob(job: UpdateJob): void {
    this.db
      .prepare(
        `INSERT INTO jobs (device, title, version, size, checksum, state, error) VALUES (@device, @title, @version, @size, @checksum, @state, @error)
         ON CONFLICT (device) DO UPDATE SET title = excluded.title, version = excluded.version, size = excluded.size, checksum = excluded.checksum, state = excluded.state, error = excluded.error`,
      )
      .run(job);
  }

  /** Removes verified images no job refers to any more. */
  prune(): void {
    const keep = new Set(this.jobs().map((j) => j.checksum));
    for (const row of this.db.prepare('SELECT checksum FROM downloads').all() as { checksum: string }[]) keep.add(row.checksum);
    const dir = join(this.dir, 'firmware', 'sha256');
    for (const name of readdirSync(dir)) if (SHA256.test(name) && !keep.has(name)) rmSync(join(dir, name), { force: true });
  }

  close(): void {
    this.db.close();
  }
}

export function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => hash.update(d))
      .on('error', reject)
      .on('end', () => resolve(hash.digest('hex')));
  });
}
