/** ThingsBoard's MQTT OTA topics: which PUBLISHes are chunk requests and how they are read. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { otaFeedOf, parseOtaRequest } from '../../../../src/adapters/transport/mqtt/ota-topics.js';
import { isPlatformError } from '../../../../src/domain/errors.js';

describe('MQTT OTA topics', () => {
  it('reads v2/fw and v2/sw chunk requests: request id, chunk index, size from the payload (empty = whole)', () => {
    assert.deepEqual(parseOtaRequest('v2/fw/request/12/chunk/3', Buffer.from('16384')), {
      request: { type: 'firmware', chunkSize: 16384, chunk: 3 },
      responseTopic: 'v2/fw/response/12/chunk/3',
      errorTopic: 'v2/fw/error',
    });
    assert.deepEqual(parseOtaRequest('v2/sw/request/1/chunk/0', Buffer.alloc(0))?.request, { type: 'software', chunkSize: 0, chunk: 0 });
    assert.deepEqual(parseOtaRequest('v2/fw/request/1/chunk/0', Buffer.from(' 512\n'))?.request.chunkSize, 512);
  });

  it('is not a request for other topics (the bridge refuses them), and refuses a payload that is not a size', () => {
    for (const topic of ['v2/fw/request/1/chunk', 'v2/fw/request/x/chunk/0', 'v2/fw/request/1/chunk/-1', 'v2/xx/request/1/chunk/0', 'v2/fw/request/12345678901/chunk/0', 'v2/fw/response/1/chunk/0']) {
      assert.equal(parseOtaRequest(topic, Buffer.from('1')), undefined, topic);
    }
    for (const payload of ['abc', '1.5', '-1', '1e3', '9'.repeat(17)]) {
      assert.throws(() => parseOtaRequest('v2/fw/request/1/chunk/0', Buffer.from(payload)), (err) => isPlatformError(err, 'BAD_REQUEST'), payload);
    }
  });

  it('knows the filters devices subscribe with', () => {
    assert.equal(otaFeedOf('v2/fw/response/+/chunk/+'), 'fwResponse');
    assert.equal(otaFeedOf('v2/sw/response/#'), 'swResponse');
    assert.equal(otaFeedOf('v2/fw/error'), 'fwError');
    assert.equal(otaFeedOf('v2/#'), undefined);
  });
});
