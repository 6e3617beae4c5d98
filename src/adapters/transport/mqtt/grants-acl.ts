/**
 * The synchronous half of device-to-device grants: whether a PUBLISH topic or a SUBSCRIBE filter
 * falls under the filters compiled for a connection at CONNECT (services/mqtt-grants.ts). A
 * PUBLISH is allowed when a granted publish filter matches its topic; a SUBSCRIBE when a granted
 * subscribe filter covers every topic the requested filter could match (`devices/a/#` covers
 * `devices/a/x` and `devices/a/+`, but not `devices/+/x`).
 */
import type { GrantedFilters } from '../../../domain/mqtt-grants.js';
import { topicMatches } from './topics.js';

/** Every topic `requested` matches is matched by `granted`. */
export function filterCovers(granted: string, requested: string): boolean {
  if (granted === requested) return true;
  // [MQTT-4.7.2-1]: a granted filter starting with a wildcard does not reach `$` topics.
  if (requested.startsWith('$') && (granted.startsWith('+') || granted.startsWith('#'))) return false;
  const g = granted.split('/');
  const r = requested.split('/');
  for (let i = 0; i < g.length; i++) {
    const level = g[i];
    if (level === '#') return true;
    if (i >= r.length) return false;
    const want = r[i];
    if (want === '#') return false; // only a `#` at the same level covers a `#`
    if (level !== '+' && level !== want) return false; // a literal level covers neither `+` nor another literal
  }
  return g.length === r.length;
}

export function grantsAllow(granted: GrantedFilters, action: 'publish' | 'subscribe', topic: string): boolean {
  if (action === 'publish') {
    for (const f of granted.publish) if (topicMatches(f, topic)) return true;
    return false;
  }
  for (const f of granted.subscribe) if (filterCovers(f, topic)) return true;
  return false;
}
