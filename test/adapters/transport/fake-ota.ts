/** The firmware the transport tests' fake DeviceApis serve: one package, assigned to every device. */
import { PlatformError } from '../../../src/domain/errors.js';
import { chunkRange } from '../../../src/domain/ota.js';
import type { OtaChunkRequest, OtaDownload } from '../../../src/ports/device-api.js';

export const FAKE_FIRMWARE = {
  title: 'fake-fw',
  version: '2.0.0',
  data: Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7 + 3) % 256)),
  maxChunkBytes: 4096,
};

export function fakeOtaChunk(request: OtaChunkRequest): Promise<Buffer> {
  try {
    if (request.type !== 'firmware') throw new PlatformError('PACKAGE_NOT_FOUND', 'no software assigned');
    if ((request.title !== undefined && request.title !== FAKE_FIRMWARE.title) || (request.version !== undefined && request.version !== FAKE_FIRMWARE.version)) {
      throw new PlatformError('PACKAGE_NOT_FOUND', 'not the assigned firmware');
    }
    const { offset, length } = chunkRange(FAKE_FIRMWARE.data.length, request.chunkSize, request.chunk, FAKE_FIRMWARE.maxChunkBytes);
    return Promise.resolve(Buffer.from(FAKE_FIRMWARE.data.subarray(offset, offset + length)));
  } catch (err) {
    return Promise.reject(err as Error);
  }
}

export async function fakeOtaDownload(request: Pick<OtaChunkRequest, 'type' | 'title' | 'version'>): Promise<OtaDownload> {
  await fakeOtaChunk({ ...request, chunkSize: 1, chunk: 0 }); // the same checks
  const data = FAKE_FIRMWARE.data;
  return {
    size: data.length,
    checksum: '',
    body: (async function* () {
      yield Buffer.from(data);
    })(),
  };
}
