/**
 * Just enough multipart/form-data (RFC 7578) to stream one uploaded file: small text fields
 * before the file are collected, the first part with a `filename` is handed on as a stream
 * (never buffered whole), and whatever follows it is ignored. No dependency, no temp files.
 */
import { PlatformError } from '../domain/errors.js';

const MAX_HEADER_BYTES = 8 * 1024;
const MAX_FIELD_BYTES = 4 * 1024;
const MAX_FIELDS = 32;

const CRLF = Buffer.from('\r\n');
const HEADER_END = Buffer.from('\r\n\r\n');

/** The boundary of a `multipart/form-data; boundary=…` content type, or undefined. */
export function boundaryOf(contentType: string | undefined): string | undefined {
  if (contentType === undefined || !/^multipart\/form-data\s*;/i.test(contentType)) return undefined;
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;]{1,70}))/i.exec(contentType);
  return m?.[1] ?? m?.[2];
}

class Reader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Buffer | Uint8Array | string>;

  constructor(source: AsyncIterable<Buffer | Uint8Array | string>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(what: string): Promise<void> {
    const next = await this.it.next();
    if (next.done === true) throw new PlatformError('BAD_REQUEST', `multipart body ends inside ${what}`);
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
  }

  /** The bytes before `delim` (at most `max`), consuming the delimiter too. */
  async until(delim: Buffer, max: number, what: string): Promise<Buffer> {
    for (;;) {
      const i = this.buf.indexOf(delim);
      if (i >= 0) {
        const out = this.buf.subarray(0, i);
        this.buf = this.buf.subarray(i + delim.length);
        return out;
      }
      if (this.buf.length > max + delim.length) throw new PlatformError('BAD_REQUEST', `multipart ${what} over ${max} bytes`);
      await this.fill(what);
    }
  }

  /** Streams the bytes before `delim`, holding back only what could be its beginning. */
  async *stream(delim: Buffer): AsyncIterable<Buffer> {
    for (;;) {
      const i = this.buf.indexOf(delim);
      if (i >= 0) {
        if (i > 0) yield this.buf.subarray(0, i);
        this.buf = this.buf.subarray(i + delim.length);
        return;
      }
      const keep = delim.length - 1;
      if (this.buf.length > keep) {
        yield this.buf.subarray(0, this.buf.length - keep);
        this.buf = this.buf.subarray(this.buf.length - keep);
      }
      await this.fill('the file');
    }
  }
}

function dispositionOf(headers: string): { name?: string; filename?: string } {
  const line = headers.split('\r\n').find((l) => /^content-disposition\s*:/i.test(l));
  if (!line) throw new PlatformError('BAD_REQUEST', 'multipart part without Content-Disposition');
  const param = (key: string): string | undefined => {
    const m = new RegExp(`;\\s*${key}="([^"]*)"`, 'i').exec(line) ?? new RegExp(`;\\s*${key}=([^;\\s]+)`, 'i').exec(line);
    return m?.[1];
  };
  const name = param('name');
  const filename = param('filename');
  return { ...(name !== undefined ? { name } : {}), ...(filename !== undefined ? { filename } : {}) };
}

export interface MultipartFile {
  /** Text fields sent before the file. */
  readonly fields: Record<string, string>;
  readonly filename: string;
  readonly file: AsyncIterable<Buffer>;
}

/** Reads up to the first file part; BAD_REQUEST when the body has none. */
export async function openMultipartFile(source: AsyncIterable<Buffer | Uint8Array | string>, boundary: string): Promise<MultipartFile> {
  const reader = new Reader(source);
  const dash = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  await reader.until(dash, 64 * 1024, 'the preamble');
  const fields: Record<string, string> = {};
  for (let n = 0; n <= MAX_FIELDS; n++) {
    // After a boundary: `--` ends the body, else the rest of the line (transport padding).
    const rest = (await reader.until(CRLF, 64, 'a boundary line')).toString('latin1');
    if (rest.startsWith('--')) break;
    const headers = (await reader.until(HEADER_END, MAX_HEADER_BYTES, 'part headers')).toString('utf8');
    const { name, filename } = dispositionOf(headers);
    if (filename !== undefined) return { fields, filename, file: reader.stream(next) };
    const value = await reader.until(next, MAX_FIELD_BYTES, 'a field');
    if (name !== undefined && n < MAX_FIELDS) fields[name] = value.toString('utf8');
  }
  throw new PlatformError('BAD_REQUEST', 'the multipart body holds no file part');
}
