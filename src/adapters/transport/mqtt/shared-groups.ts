/** Shared subscriptions (MQTT 5.0 §4.8.2): a group of subscriptions of which each message reaches one. */
import type { Subscription } from './session.js';

export interface SharedGroup {
  readonly filter: string;
  readonly members: Subscription[];
  next: number;
}

/** Round robin over the group, preferring connected members. */
export function pickMember(group: SharedGroup): Subscription | undefined {
  const n = group.members.length;
  let fallback: Subscription | undefined;
  for (let i = 0; i < n; i++) {
    const sub = group.members[(group.next + i) % n] as Subscription;
    if (sub.session.link) {
      group.next = (group.next + i + 1) % n;
      return sub;
    }
    fallback ??= sub;
  }
  group.next = (group.next + 1) % Math.max(n, 1);
  return fallback;
}
