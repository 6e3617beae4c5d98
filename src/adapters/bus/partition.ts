/**
 * Partition keys shared by the bus adapters: the memory bus and the NATS JetStream bus put one
 * device's messages in the same partition the same way (the subject's device token, FNV-1a).
 */

/**
 * The default work-queue partition: the subject's third token (`<event>.<tenant>.<device>`), ''
 * when there is none.
 */
export function deviceToken(subject: string): string {
  const a = subject.indexOf('.');
  if (a === -1) return '';
  const b = subject.indexOf('.', a + 1);
  if (b === -1) return '';
  const c = subject.indexOf('.', b + 1);
  return c === -1 ? subject.slice(b + 1) : subject.slice(b + 1, c);
}

/** FNV-1a: spreads partitions over members (memory bus) or over the fixed partition count (NATS bus). */
export { hashKey } from '../../domain/partition.js';
