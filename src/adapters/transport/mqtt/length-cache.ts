/**
 * Filling mqtt-packet's cache of encoded lengths once, at load, so that it cannot pin memory later.
 *
 * mqtt-packet (9.x) caches the bytes of every variable byte integer below 16,384 that it encodes
 * (Remaining Length, property lengths, subscription identifiers; MQTT 5.0 §1.5.5), lazily, one
 * 4-byte `Buffer.allocUnsafe` at a time. Such small buffers are slices of Node's shared 8 KiB
 * allocation pool, and a slice keeps its whole pool slab alive. So each new length the broker
 * encoded (a SUBACK for n filters, a CONNACK or DISCONNECT with a reason string, an MQTT 5 PUBLISH
 * with properties) could pin 8 KiB for the life of the process: under fuzzing, external memory
 * grew ~4 MB per 8,000 connections, up to 16,384 × 8 KiB = 128 MiB. Encoding every cacheable
 * length once, back to back, puts the whole cache in sixteen adjacent slabs (16,384 × 8 bytes,
 * the pool's alignment) and nothing is added to it afterwards.
 */
import { writeToStream, type Packet } from 'mqtt-packet';

/** mqtt-packet caches lengths below this (writeToStream.js, writeVarByteInt). */
export const CACHED_LENGTHS = 16_384;

/**
 * Accepts and drops what mqtt-packet writes: nothing is allocated per write, so the cached
 * length buffers are the only pool allocations in the loop and lie next to each other.
 */
const discard = {
  write: (): boolean => true,
  destroy: (err?: Error): void => {
    throw err ?? new Error('mqtt-packet refused a packet while filling its length cache');
  },
};
type Sink = Parameters<typeof writeToStream>[1];

let filled = false;

/** Idempotent; a few milliseconds, once per process. */
export function fillLengthCache(): void {
  if (filled) return;
  filled = true;
  const sink = discard as unknown as Sink;
  const zeros = Buffer.alloc(CACHED_LENGTHS);
  // 0, 1, 2: below the smallest PUBLISH; as subscription identifiers (a variable byte integer too).
  for (let n = 0; n < 3; n++) {
    const packet: Packet = { cmd: 'publish', topic: 'a', payload: zeros.subarray(0, 0), qos: 0, retain: false, dup: false, properties: { subscriptionIdentifier: n } };
    writeToStream(packet, sink, { protocolVersion: 5 });
  }
  // 3 and up: an MQTT 3.1.1 QoS 0 PUBLISH to topic "a" has a Remaining Length of 3 + payload.
  for (let n = 3; n < CACHED_LENGTHS; n++) {
    const packet: Packet = { cmd: 'publish', topic: 'a', payload: zeros.subarray(0, n - 3), qos: 0, retain: false, dup: false };
    writeToStream(packet, sink, { protocolVersion: 4 });
  }
}
