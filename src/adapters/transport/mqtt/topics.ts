/**
 * Topic names and topic filters: validation and `$share` parsing (MQTT 3.1.1 §4.7, MQTT 5.0 §4.7, §4.8.2).
 * Pure functions, no state, so the broker, the ACL and the device API bridge agree on one reading.
 */

/** Levels the matcher accepts. MQTT sets no limit; deep topics cost memory and CPU, so we cap them. */
export const MAX_TOPIC_LEVELS = 1024;

/** Topic names and filters are UTF-8 strings of at most 65535 bytes [MQTT-4.7.3-3]. */
const MAX_TOPIC_BYTES = 65535;

function levelCount(topic: string): number {
  let n = 1;
  for (let i = 0; i < topic.length; i++) if (topic.charCodeAt(i) === 0x2f) n++;
  return n;
}

/**
 * A PUBLISH topic name: non-empty [MQTT-4.7.3-1], no wildcard characters [MQTT-3.3.2-2], no U+0000
 * [MQTT-4.7.3-2]. Runs once per incoming PUBLISH, hence the single character loop.
 */
export function isValidTopicName(topic: string): boolean {
  if (topic.length === 0 || topic.length > MAX_TOPIC_BYTES) return false;
  let levels = 1;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    if (c === 0x2b /* + */ || c === 0x23 /* # */ || c === 0) return false;
    if (c === 0x2f && ++levels > MAX_TOPIC_LEVELS) return false;
  }
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only long names need the exact count.
  return topic.length * 3 <= MAX_TOPIC_BYTES || Buffer.byteLength(topic) <= MAX_TOPIC_BYTES;
}

/**
 * A SUBSCRIBE/UNSUBSCRIBE topic filter: `#` only as the whole last level [MQTT-4.7.1-2], `+` only as
 * a whole level [MQTT-4.7.1-3], non-empty [MQTT-4.7.3-1].
 */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.length > MAX_TOPIC_BYTES || filter.includes('\u0000')) return false;
  if (levelCount(filter) > MAX_TOPIC_LEVELS) return false;
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i] as string;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return false;
    if (level.includes('+') && level !== '+') return false;
  }
  return true;
}

export interface SharedFilter {
  readonly group: string;
  readonly filter: string;
}

/**
 * `$share/{ShareName}/{filter}` (MQTT 5.0 §4.8.2): ShareName is at least one character with no `/`,
 * `+` or `#` [MQTT-4.8.2-1, MQTT-4.8.2-2]. Returns undefined for an ordinary filter, 'invalid' for a
 * malformed shared one.
 */
export function parseShared(filter: string): SharedFilter | 'invalid' | undefined {
  if (!filter.startsWith('$share/')) return undefined;
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return 'invalid';
  const group = rest.slice(0, slash);
  const inner = rest.slice(slash + 1);
  if (group.includes('+') || group.includes('#') || !isValidTopicFilter(inner)) return 'invalid';
  return { group, filter: inner };
}

/**
 * Whether a filter matches a name, with MQTT's rules including [MQTT-4.7.2-1]: a filter starting
 * with a wildcard does not match a name starting with `$`. Used for ACL checks and retained lookups
 * of single topics; routing uses the trie in the broker.
 */
export function topicMatches(filter: string, name: string): boolean {
  if (name.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const n = name.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return true;
    if (i >= n.length) return false;
    if (level !== '+' && level !== n[i]) return false;
  }
  return f.length === n.length;
}

/**
 * Whether every topic a filter can match lies under `prefix` (a topic prefix ending in `/`, or an
 * exact topic). Used to confine a device's subscriptions to its own namespace: `devices/a/#` is inside
 * `devices/a/`, `devices/+/x` is not.
 */
export function filterWithin(filter: string, prefix: string): boolean {
  if (!prefix.endsWith('/')) return filter === prefix;
  const base = prefix.slice(0, -1);
  // The prefix holds no wildcards, so a filter that starts with it literally cannot escape it.
  return filter === base || filter.startsWith(prefix);
}
