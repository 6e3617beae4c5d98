/**
 * Subscriptions are authorized when made; these keep them authorized when what a principal may do
 * changes. A resumed session (or one restored after a restart) may hold filters its device is no
 * longer granted, and a tenant's grants may change while its devices are connected: in both cases
 * the routed subscriptions the ACL now refuses are removed, and the client keeps its connection
 * (it sees no more messages on them; a new SUBSCRIBE is refused). Device API subscriptions taken
 * by interceptors are not the ACL's and stay.
 */
import type { AuthPolicy } from './auth.js';
import type { Session } from './session.js';

export interface ReauthorizeHost {
  readonly options: { readonly policy: AuthPolicy };
  sessionsIn(spaceKey: string): Iterable<Session>;
  unsubscribe(session: Session, key: string): boolean;
}

/** What ending a space's connections needs of the broker. */
export interface RevokeHost {
  sessionsIn(spaceKey: string): Iterable<Session>;
  endSession(session: Session): void;
}

/** Removes the session's routed subscriptions its principal may no longer make; returns how many. */
export function pruneSubscriptions(host: ReauthorizeHost, session: Session): number {
  const policy = host.options.policy;
  let removed = 0;
  for (const sub of [...session.subs.values()]) {
    if (!policy.authorize(session.principal, 'subscribe', sub.filter)) {
      host.unsubscribe(session, sub.key);
      removed++;
    }
  }
  return removed;
}

/**
 * A tenant's grants changed: recompile every authenticated principal of its space (connected or
 * kept offline), then prune. Sessions restored after a restart whose client has not come back yet
 * carry no principal to recompile; they are pruned when the client reconnects (connect.ts).
 */
export async function reauthorizeSpace(host: ReauthorizeHost, spaceKey: string): Promise<number> {
  const policy = host.options.policy;
  const sessions = [...host.sessionsIn(spaceKey)].filter((s) => s.principal.kind !== 'anonymous');
  const seen = new Set<object>();
  for (const s of sessions) {
    // Sessions of one connection share its principal: recompile it once.
    if (seen.has(s.principal)) continue;
    seen.add(s.principal);
    await policy.refresh?.(s.principal);
  }
  let removed = 0;
  for (const s of sessions) removed += pruneSubscriptions(host, s);
  return removed;
}

/**
 * The space's owner may no longer connect (tenant suspended or deleted): every connected client
 * of it is disconnected (MQTT 5 with reason 0x87), and with `forget` every stored session of it is
 * ended too (a deleted tenant's sessions have nothing to resume). Returns how many connections
 * were closed. New CONNECTs are refused by authentication, which reads the same tenant status.
 */
export function revokeSpace(host: RevokeHost, spaceKey: string, why: string, forget: boolean): number {
  let closed = 0;
  for (const session of [...host.sessionsIn(spaceKey)]) {
    const link = session.link;
    if (link?.revoke) {
      link.revoke(why);
      closed++;
    }
    if (forget) host.endSession(session);
  }
  return closed;
}
