/**
 * CoAP over real UDP: per case a fresh endpoint sends one to four datagrams built with
 * coap-packet from random fields (methods and other codes, CON/NON/ACK/RST, tokens of any length,
 * Uri-Path into the device API, Content-Format, Observe, Block1/Block2, unknown options) and
 * byte-mutated, then a CoAP ping (empty CON). The server must answer the ping with RST
 * (RFC 7252 §4.3): datagrams from one endpoint are handled in order, so that answer proves every
 * datagram before it was handled without stalling the server.
 */
import { createSocket, type Socket } from 'node:dgram';
import fc from 'fast-check';
import { generate, parse, type Packet } from 'coap-packet';
import { applyMutations, mutationsArb, type Mutation } from '../gen/mutate.js';
import { devicePayload } from '../gen/payloads.js';
import { asyncSurface, type Surface } from '../surface.js';
import type { FuzzWorld } from './world.js';

interface CoapCase {
  readonly datagrams: { packet: Packet; mutations: Mutation[] }[];
}

/** Block1/Block2 option value (RFC 7959 §2.2): NUM, M, SZX in one to three bytes. */
function blockValue(num: number, more: boolean, szx: number): Buffer {
  const v = (num << 4) | (more ? 8 : 0) | (szx & 7);
  if (v < 0x100) return Buffer.from([v]);
  if (v < 0x10000) return Buffer.from([v >> 8, v & 0xff]);
  return Buffer.from([(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff]);
}

function coapCase(world: FuzzWorld, hostile: boolean): fc.Arbitrary<CoapCase> {
  const token = fc.constantFrom(world.tokens.device, world.tokens.gateway, 'no-such-token', '');
  const resource = fc.constantFrom(['telemetry'], ['attributes'], ['rpc'], ['rpc', '7'], ['attributes', 'updates'], ['claim'], [], ['x', 'y', 'z']);
  const path: fc.Arbitrary<string[]> = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(token, resource).map(([t, r]) => ['api', 'v1', t, ...r]) },
    { weight: 1, arbitrary: fc.constant(['api', 'v1', 'provision']) as fc.Arbitrary<string[]> },
    { weight: 1, arbitrary: fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }) },
  );
  const option = fc.oneof(
    fc.constantFrom(50, 110, 60, 0, 42, 65535).map((cf) => ({ name: 'Content-Format', value: cf < 256 ? Buffer.from([cf]) : Buffer.from([cf >> 8, cf & 0xff]) })),
    fc.constantFrom(Buffer.alloc(0), Buffer.from([1]), Buffer.from([0xff, 0xff, 0xff])).map((v) => ({ name: 'Observe', value: v })),
    fc.record({ num: fc.integer({ min: 0, max: 0xfffff }), more: fc.boolean(), szx: fc.integer({ min: 0, max: 7 }) }).map((b) => ({ name: 'Block1', value: blockValue(b.num, b.more, b.szx) })),
    fc.record({ num: fc.integer({ min: 0, max: 64 }), more: fc.boolean(), szx: fc.integer({ min: 0, max: 7 }) }).map((b) => ({ name: 'Block2', value: blockValue(b.num, b.more, b.szx) })),
    fc.integer({ min: 0, max: 2 ** 24 }).map((n) => ({ name: 'Size1', value: Buffer.from([n >> 16, (n >> 8) & 0xff, n & 0xff]) })),
    fc.string({ maxLength: 12 }).map((q) => ({ name: 'Uri-Query', value: Buffer.from(q) })),
    fc.tuple(fc.integer({ min: 0, max: 3000 }), fc.uint8Array({ maxLength: 8 })).map(([name, v]) => ({ name, value: Buffer.from(v) })),
  );
  const packet = fc
    .record({
      code: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('0.01', '0.02', '0.03', '0.04', '0.05', '0.06', '0.07') }, { weight: 1, arbitrary: fc.constantFrom('0.00', '2.05', '4.04', '7.31', '1.00') }),
      type: fc.constantFrom('con', 'con', 'non', 'ack', 'reset'),
      messageId: fc.integer({ min: 0, max: 65535 }),
      token: fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
      path,
      options: fc.array(option, { maxLength: 4 }),
      payload: fc.oneof(devicePayload({ hostile }).map((b) => b.subarray(0, 1400)), fc.constant(Buffer.alloc(0))),
    })
    .map((r): Packet => ({
      code: r.code,
      messageId: r.messageId,
      token: r.token,
      confirmable: r.type === 'con',
      ack: r.type === 'ack',
      reset: r.type === 'reset',
      options: [...r.path.map((p) => ({ name: 'Uri-Path', value: Buffer.from(p) })), ...r.options],
      payload: r.payload,
    }));
  return fc.record({ datagrams: fc.array(fc.record({ packet, mutations: mutationsArb }), { minLength: 1, maxLength: 4 }) });
}

function encode(p: Packet): Buffer {
  try {
    return generate(p, 1500);
  } catch {
    // A combination coap-packet refuses to encode (e.g. too long): the same message without options.
    return generate({ ...p, options: [], payload: (p.payload ?? Buffer.alloc(0)).subarray(0, 1000) }, 1500);
  }
}

function bound(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

const PING_ID = 0x5a5a;

async function runCase(port: number, c: CoapCase): Promise<void> {
  const socket = await bound();
  try {
    const pong = new Promise<void>((resolve) => {
      socket.on('message', (msg) => {
        try {
          const p = parse(msg);
          if (p.reset && p.messageId === PING_ID) resolve();
        } catch {
          // A reply we cannot parse is the server's business only if it never answers the ping.
        }
      });
    });
    // A generated message that happens to reuse the ping's id would be deduplicated with it.
    const datagrams = c.datagrams.map((d) => applyMutations(encode({ ...d.packet, messageId: d.packet.messageId === PING_ID ? 1 : d.packet.messageId }), d.mutations));
    for (const d of datagrams) socket.send(d, port, '127.0.0.1');
    // UDP may drop the ping or its answer under load: repeat it, as a CON is retransmitted (§4.2).
    const ping = (): void => socket.send(generate({ code: '0.00', messageId: PING_ID, confirmable: true }), port, '127.0.0.1');
    ping();
    const again = setInterval(ping, 1000);
    try {
      await pong;
    } finally {
      clearInterval(again);
    }
  } finally {
    socket.close();
  }
}

export function coapSurface(world: FuzzWorld, options: { hostile: boolean; timeoutMs: number }): Surface {
  return asyncSurface(`CoAP over UDP${options.hostile ? ' (hostile payloads)' : ''}`, coapCase(world, options.hostile), (c) => runCase(world.ports.coap, c), options.timeoutMs);
}
