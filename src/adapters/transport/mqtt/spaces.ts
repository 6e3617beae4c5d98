/**
 * Topic spaces (broker.ts, "Isolation"): each tenant's subscription index, shared groups and
 * retained messages, apart from every other tenant's.
 */
import qlobber from 'qlobber';
import { RetainedStore } from './retained.js';
import type { RetainedUse } from './retained-quota.js';
import type { Message, Subscription } from './session.js';
import type { SharedGroup } from './shared-groups.js';

const QLOBBER_OPTIONS = {
  separator: '/',
  wildcard_one: '+',
  wildcard_some: '#',
  // MQTT's `+` matches an empty level too ("+/a" matches "/a").
  match_empty_levels: true,
  max_words: 1025,
  // Devices publish to the same topics over and over: cache their split form.
  cache_splits: 4096,
};

/** One isolated topic space. */
export class Space {
  constructor(readonly key: string) {}

  readonly subs = new qlobber.QlobberDedup<Subscription>(QLOBBER_OPTIONS);
  readonly shared = new qlobber.QlobberDedup<SharedGroup>(QLOBBER_OPTIONS);
  readonly groups = new Map<string, SharedGroup>();
  readonly retained = new RetainedStore<RetainedEntry>();
}

/** A retained message with who set it and what it counts against the quota. */
export interface RetainedEntry {
  readonly msg: Message;
  readonly use: RetainedUse;
}

/** [MQTT-4.7.2-1]: filters starting with a wildcard do not match topics starting with `$`. */
export function wildStart(filter: string): boolean {
  const c = filter.charCodeAt(0);
  return c === 0x2b || c === 0x23;
}
