/**
 * Block-wise responses (RFC 7959 Block2), stateless: the handler computes the whole body for
 * every block request and the reply is cut here. An ETag over the whole body (RFC 7959 §2.4,
 * RFC 7252 §5.10.6) lets the client notice when the representation changed between blocks.
 *
 * A body over MAX_PAYLOAD_BYTES is sent block-wise even if the client did not ask (§2.4: the
 * server may start a block-wise transfer on its own with block 0).
 */
import { createHash } from 'node:crypto';
import { blockSize, encodeBlockOption, parseBlockOption, type BlockOption } from './block1.js';
import { MAX_PAYLOAD_BYTES, encodeUint, optionOf, type CoapReply, type CoapRequest } from './message.js';

/** szx of MAX_PAYLOAD_BYTES (1024 = 2^(6+4)). */
const MAX_SZX = Math.log2(MAX_PAYLOAD_BYTES) - 4;

function etagOf(body: Buffer): Buffer {
  return createHash('sha1').update(body).digest().subarray(0, 4);
}

/** The reply as it goes on the wire: whole, or the requested block of it. */
export function blockwise(req: CoapRequest, reply: CoapReply): CoapReply {
  const body = reply.payload;
  if (body === undefined || body.length === 0) return reply;
  const raw = optionOf(req.options, 'Block2');
  if (raw === undefined && body.length <= MAX_PAYLOAD_BYTES) return reply;
  const asked = raw === undefined ? { num: 0, more: false, szx: MAX_SZX } : parseBlockOption(raw);
  // An unusable Block2 option in the request: 4.02 Bad Option (RFC 7252 §5.9.2.3).
  if (!asked) return { code: '4.02' };
  // §2.2: the server may answer with a smaller block than asked, never a larger one.
  const szx = Math.min(asked.szx, MAX_SZX);
  const size = blockSize({ num: 0, more: false, szx });
  // Block numbers count in the client's block size; a smaller size means a later number.
  const num = asked.num * (blockSize(asked) / size);
  const last = Math.ceil(body.length / size) - 1;
  if (num > last) return { code: '4.02' };
  const block: BlockOption = { num, more: num < last, szx };
  const options = [...(reply.options ?? []), { name: 'Block2', value: encodeBlockOption(block) }, { name: 'ETag', value: etagOf(body) }];
  // §4: Size2 with value 0 in a request asks for the size of the whole representation.
  if (optionOf(req.options, 'Size2') !== undefined) options.push({ name: 'Size2', value: encodeUint(body.length) });
  return { code: reply.code, options, payload: body.subarray(num * size, (num + 1) * size) };
}
