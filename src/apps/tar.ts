/**
 * The smallest tar (POSIX ustar) a backup needs: regular files only, written and read with plain
 * file descriptors, so a backup is one file that `tar tvf` lists and `tar xf` unpacks by hand.
 *
 * Sizes of 8 GiB and more (a large database) use the GNU base-256 size field, which GNU tar and
 * bsdtar read. The reader trusts nothing: checksums are verified, and the caller decides which
 * names it accepts before anything is written (see backup.ts).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

const BLOCK = 512;
const OCTAL_SIZE_MAX = 8 ** 11 - 1;

export class TarError extends Error {
  override name = 'TarError';
}

function putString(header: Buffer, offset: number, length: number, value: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new TarError(`tar: "${value}" is longer than ${length} bytes`);
  bytes.copy(header, offset);
}

function putOctal(header: Buffer, offset: number, length: number, value: number): void {
  putString(header, offset, length, value.toString(8).padStart(length - 1, '0'));
}

function header(name: string, size: number, mode: number, mtimeSeconds: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  putString(h, 0, 100, name);
  putOctal(h, 100, 8, mode & 0o7777);
  putOctal(h, 108, 8, 0);
  putOctal(h, 116, 8, 0);
  if (size <= OCTAL_SIZE_MAX) putOctal(h, 124, 12, size);
  else {
    // GNU base-256: first byte 0x80, the size big-endian in the remaining 11 bytes.
    h[124] = 0x80;
    h.writeBigUInt64BE(BigInt(size), 124 + 4);
  }
  putOctal(h, 136, 12, Math.floor(mtimeSeconds));
  h.fill(0x20, 148, 156); // the checksum field counts as spaces while summing
  h[156] = 0x30; // '0': regular file
  putString(h, 257, 6, 'ustar');
  putString(h, 263, 2, '00');
  let sum = 0;
  for (const byte of h) sum += byte;
  putString(h, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return h;
}

/** Appends files to a tar at an open descriptor. */
export class TarWriter {
  constructor(private readonly fd: number) {}

  /** Copies the file at `path` in as `name`, streamed in 1 MiB chunks; returns its size and SHA-256. */
  addFile(name: string, path: string, mode = 0o600): { size: number; sha256: string } {
    const src = openSync(path, 'r');
    try {
      const { size, mtimeMs } = fstatSync(src);
      writeSync(this.fd, header(name, size, mode, mtimeMs / 1000));
      const chunk = Buffer.allocUnsafe(1 << 20);
      const hash = createHash('sha256');
      let done = 0;
      while (done < size) {
        const n = readSync(src, chunk, 0, Math.min(chunk.length, size - done), done);
        if (n === 0) throw new TarError(`tar: ${path} shrank while being copied`);
        hash.update(chunk.subarray(0, n));
        writeSync(this.fd, chunk, 0, n);
        done += n;
      }
      this.pad(size);
      return { size, sha256: hash.digest('hex') };
    } finally {
      closeSync(src);
    }
  }

  addBuffer(name: string, data: Buffer, mode = 0o600): void {
    writeSync(this.fd, header(name, data.length, mode, Date.now() / 1000));
    writeSync(this.fd, data);
    this.pad(data.length);
  }

  /** Two zero blocks end the archive. */
  finish(): void {
    writeSync(this.fd, Buffer.alloc(BLOCK * 2));
  }

  private pad(size: number): void {
    const rest = size % BLOCK;
    if (rest !== 0) writeSync(this.fd, Buffer.alloc(BLOCK - rest));
  }
}

export interface TarEntry {
  readonly name: string;
  readonly size: number;
  /** Offset of the entry's data in the archive. */
  readonly offset: number;
}

function readString(h: Buffer, offset: number, length: number): string {
  const field = h.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function readSize(h: Buffer): number {
  if ((h[124] ?? 0) & 0x80) {
    const big = h.readBigUInt64BE(124 + 4);
    if (h.subarray(125, 128).some((b) => b !== 0) || big > BigInt(Number.MAX_SAFE_INTEGER)) throw new TarError('tar: entry too large');
    return Number(big);
  }
  const text = readString(h, 124, 12).trim();
  if (!/^[0-7]+$/.test(text)) throw new TarError('tar: malformed size field');
  return Number.parseInt(text, 8);
}

/** Lists the entries of the tar at `fd`; throws TarError on anything but intact regular files. */
export function listTar(fd: number): TarEntry[] {
  const total = fstatSync(fd).size;
  const entries: TarEntry[] = [];
  const h = Buffer.alloc(BLOCK);
  let pos = 0;
  for (;;) {
    if (pos + BLOCK > total || readSync(fd, h, 0, BLOCK, pos) !== BLOCK) throw new TarError('tar: archive ends without its end marker (truncated?)');
    if (h.every((b) => b === 0)) return entries;
    const stored = Number.parseInt(readString(h, 148, 8).trim(), 8);
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
    if (stored !== sum) throw new TarError(`tar: header checksum mismatch at byte ${pos}`);
    const type = h[156];
    const name = readString(h, 0, 100);
    if (type !== 0x30 && type !== 0) throw new TarError(`tar: "${name}" is not a regular file`);
    if (readString(h, 345, 155) !== '') throw new TarError(`tar: "${name}" uses a name prefix`);
    const size = readSize(h);
    if (pos + BLOCK + size > total) throw new TarError(`tar: "${name}" is cut short`);
    entries.push({ name, size, offset: pos + BLOCK });
    pos += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
}

/** Copies one entry's data out of the archive, passing every chunk to `onChunk` (hashing). */
export function extractEntry(fd: number, entry: TarEntry, dest: string, onChunk?: (chunk: Buffer) => void): void {
  const out = openSync(dest, 'wx', 0o600);
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    let done = 0;
    while (done < entry.size) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, entry.size - done), entry.offset + done);
      if (n === 0) throw new TarError(`tar: "${entry.name}" is cut short`);
      onChunk?.(chunk.subarray(0, n));
      writeSync(out, chunk, 0, n);
      done += n;
    }
  } finally {
    closeSync(out);
  }
}
