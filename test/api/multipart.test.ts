/**
 * The streaming multipart reader of OTA uploads: the file comes out byte-exact however the body
 * is cut (down to one byte a chunk, a boundary split between chunks, CRLFs and dashes inside the
 * file), fields before the file are kept, and bodies without a file or cut short are refused.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { boundaryOf, openMultipartFile } from '../../src/api/multipart.js';
import { isPlatformError } from '../../src/domain/errors.js';

const B = 'XyZ-boundary-42';

function body(file: Buffer, fields: Record<string, string> = {}): Buffer {
  const parts: Buffer[] = [Buffer.from('preamble ignored\r\n')];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  parts.push(Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="file"; filename="fw.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`));
  parts.push(file, Buffer.from(`\r\n--${B}--\r\n`));
  return Buffer.concat(parts);
}

async function* cut(b: Buffer, size: number): AsyncIterable<Buffer> {
  for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size);
}

async function read(source: AsyncIterable<Buffer>): Promise<{ fields: Record<string, string>; filename: string; data: Buffer }> {
  const { fields, filename, file } = await openMultipartFile(source, B);
  const parts: Buffer[] = [];
  for await (const p of file) parts.push(p);
  return { fields, filename, data: Buffer.concat(parts) };
}

describe('multipart upload reader', () => {
  it('streams the file byte-exact whatever the chunking, with the fields before it', async () => {
    const file = Buffer.concat([randomBytes(3000), Buffer.from(`\r\n--${B.slice(0, 5)}\r\n--`), randomBytes(500)]);
    for (const size of [1, 7, 64, 1000, 1 << 20]) {
      const got = await read(cut(body(file, { note: 'hello' }), size));
      assert.deepEqual(got.data, file, `chunks of ${size}`);
      assert.deepEqual(got.fields, { note: 'hello' });
      assert.equal(got.filename, 'fw.bin');
    }
  });

  it('refuses a body without a file part, and one that ends inside the file', async () => {
    const noFile = Buffer.from(`--${B}\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--${B}--\r\n`);
    await assert.rejects(read(cut(noFile, 5)), (err) => isPlatformError(err, 'BAD_REQUEST'));
    const whole = body(randomBytes(100));
    await assert.rejects(read(cut(whole.subarray(0, whole.length - 30), 10)), (err) => isPlatformError(err, 'BAD_REQUEST'));
  });

  it('reads the boundary from the content type', () => {
    assert.equal(boundaryOf(`multipart/form-data; boundary=${B}`), B);
    assert.equal(boundaryOf('multipart/form-data; boundary="quoted b"'), 'quoted b');
    assert.equal(boundaryOf('application/octet-stream'), undefined);
    assert.equal(boundaryOf(undefined), undefined);
  });
});
