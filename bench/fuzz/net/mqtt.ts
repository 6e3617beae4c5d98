/**
 * MQTT over real TCP sockets: per case one connection that writes a CONNECT (valid for the fuzz
 * device or gateway, or mutated) and a few packets (valid or mutated), sometimes cut into small
 * writes, then closes. The broker may refuse anything, but must not throw, stall or let the
 * case's connection outlive the case.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import fc from 'fast-check';
import type { Packet } from 'mqtt-packet';
import { clientPacket, connectPacket, encode } from '../gen/mqtt.js';
import { applyMutations, mutationsArb, type Mutation } from '../gen/mutate.js';
import { devicePayload } from '../gen/payloads.js';
import { asyncSurface, type Surface } from '../surface.js';
import type { FuzzWorld } from './world.js';

interface MqttCase {
  readonly connect: Packet;
  readonly connectMutations: Mutation[];
  readonly waitConnack: boolean;
  readonly packets: { packet: Packet; mutations: Mutation[] }[];
  readonly chunk: number | undefined;
}

function mqttCase(world: FuzzWorld, hostile: boolean): fc.Arbitrary<MqttCase> {
  const username = fc.constantFrom(world.tokens.device, world.tokens.gateway, 'no-such-token', '');
  return username.chain((u) =>
    fc.record({
      connect: connectPacket({ username: u, clientIdPrefix: 'fz-' }),
      connectMutations: fc.oneof({ weight: 5, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 1, arbitrary: mutationsArb }),
      waitConnack: fc.boolean(),
      packets: fc.array(fc.record({ packet: clientPacket(devicePayload({ hostile })), mutations: mutationsArb }), { maxLength: 6 }),
      chunk: fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
    }),
  );
}

function opened(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves on the first bytes from the broker, on close, or after `ms`. */
function firstReply(socket: Socket, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      socket.off('data', done);
      socket.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    socket.once('data', done);
    socket.once('close', done);
  });
}

async function write(socket: Socket, bytes: Buffer, chunk: number | undefined): Promise<void> {
  if (socket.destroyed) return;
  if (chunk === undefined) {
    socket.write(bytes);
    return;
  }
  // At most 16 pieces: each waits for an event-loop turn, and a busy loop makes thousands slow.
  const size = Math.max(chunk, Math.ceil(bytes.length / 16));
  for (let at = 0; at < bytes.length && !socket.destroyed; at += size) {
    socket.write(bytes.subarray(at, at + size));
    await new Promise((r) => setImmediate(r));
  }
}

/** What a stuck case was doing, for the hang report. */
class Progress {
  phase = 'connecting';
  received = 0;
  readonly started = performance.now();
  toString(): string {
    return `${this.phase} after ${Math.round(performance.now() - this.started)} ms, ${this.received} bytes received`;
  }
}

async function runCase(port: number, c: MqttCase, stuckMs: number): Promise<void> {
  const progress = new Progress();
  const stuck = setTimeout(() => console.error(`MQTT case still ${progress}`), stuckMs);
  try {
    const socket = await opened(port);
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => (progress.received += d.length));
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const version = (c.connect as { protocolVersion?: number }).protocolVersion ?? 4;
    progress.phase = 'writing CONNECT';
    await write(socket, applyMutations(encode(c.connect, version), c.connectMutations), c.chunk);
    progress.phase = 'waiting for CONNACK';
    if (c.waitConnack) await firstReply(socket, 300);
    progress.phase = 'writing packets';
    for (const p of c.packets) await write(socket, applyMutations(encode(p.packet, version), p.mutations), c.chunk);
    progress.phase = 'waiting for the broker to close after our FIN';
    socket.end();
    // Our FIN must close the connection from the broker's side too (no half-open leftovers).
    await closed;
  } finally {
    clearTimeout(stuck);
  }
}

export function mqttSurface(world: FuzzWorld, options: { hostile: boolean; timeoutMs: number }): Surface {
  return asyncSurface(`MQTT over TCP${options.hostile ? ' (hostile payloads)' : ''}`, mqttCase(world, options.hostile), (c) => runCase(world.ports.mqtt, c, options.timeoutMs - 1000), options.timeoutMs);
}
