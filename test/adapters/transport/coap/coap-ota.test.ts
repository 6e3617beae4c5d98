/**
 * ThingsBoard's CoAP firmware download over the CoAP transport (fake DeviceApi): libcoap's
 * coap-client fetches a chunk block-wise (Block2, 1 KiB blocks) and the chunk is asked of the
 * DeviceApi once, not once per block; a request without title/version is 4.00, another
 * version 4.04, a POST 4.05.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FAKE_FIRMWARE } from '../fake-ota.js';
import { GOOD_TOKEN } from '../http/fake-device-api.js';
import { coapClient, startCoap, tmpFile, type CoapHarness } from './helpers.js';

describe('CoAP transport: OTA firmware', () => {
  let h: CoapHarness;
  before(async () => {
    h = await startCoap();
  });
  after(() => h.stop());

  it('serves a 4 KiB chunk block-wise, reading it from the DeviceApi once', async () => {
    const out = join(tmpFile('placeholder', ''), '..', 'fw-chunk.bin');
    const q = `title=${FAKE_FIRMWARE.title}&version=${FAKE_FIRMWARE.version}&size=4096&chunk=0`;
    const before = h.api.otaChunkCalls;
    const r = await coapClient(['-m', 'get', '-b', '1024', '-o', out, h.url(`${GOOD_TOKEN}/firmware?${q}`)]);
    assert.deepEqual(readFileSync(out), FAKE_FIRMWARE.data.subarray(0, 4096));
    // The trace parser of helpers.ts reads text payloads; binary blocks are counted from the raw trace.
    const blocks = r.stdout.match(/c:2\.05 .*Content-Format:application\/octet-stream, Block2:\d+\/[M_]\/1024/g) ?? [];
    assert.equal(blocks.length, 4, `block-wise in 4 blocks of 1 KiB: ${r.stdout.slice(0, 400)}`);
    assert.equal(h.api.otaChunkCalls - before, 1, 'one DeviceApi call for all the blocks');
    await coapClient(['-m', 'get', '-o', out, h.url(`${GOOD_TOKEN}/firmware?title=${FAKE_FIRMWARE.title}&version=${FAKE_FIRMWARE.version}&size=4096&chunk=1`)]);
    assert.deepEqual(readFileSync(out), FAKE_FIRMWARE.data.subarray(4096));
  });

  it('answers 4.00 without title and version, 4.04 for another version or no software, 4.05 for a POST', async () => {
    assert.equal((await coapClient(['-m', 'get', h.url(`${GOOD_TOKEN}/firmware?size=100`)])).code, '4.00');
    assert.equal((await coapClient(['-m', 'get', h.url(`${GOOD_TOKEN}/firmware?title=${FAKE_FIRMWARE.title}&version=0.1`)])).code, '4.04');
    assert.equal((await coapClient(['-m', 'get', h.url(`${GOOD_TOKEN}/software?title=a&version=1`)])).code, '4.04');
    assert.equal((await coapClient(['-m', 'post', '-e', 'x', h.url(`${GOOD_TOKEN}/firmware`)])).code, '4.05');
  });
});
