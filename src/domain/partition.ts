/**
 * The partition of a device: FNV-1a of its id modulo the partition count. The buses partition
 * their work queues this way (adapters/bus/partition.ts) and the rule engine's cluster
 * checkpoints (services/rules/partitions.ts) must agree with them, so it lives here, once.
 */

/** FNV-1a (32 bit). */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function devicePartition(deviceId: string, partitions: number): number {
  return hashKey(deviceId) % partitions;
}
