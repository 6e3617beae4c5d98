/**
 * Broker state in memory: what the broker had before persistence (nothing survives the process),
 * behind the BrokerStateStore port. A broker created again in the same process with the same
 * instance gets its state back, which is what the contract tests and the in-process restart tests
 * use. Records are copied in and out so callers cannot change what is kept.
 */
import type {
  BrokerMessageRecord,
  BrokerOutboundRecord,
  BrokerRetainedRecord,
  BrokerSessionRecord,
  BrokerStateChange,
  BrokerStateSnapshot,
  BrokerStateStore,
} from '../../../ports.js';

const outboundKey = (sessionKey: string, seq: number): string => `${sessionKey}\u0000${seq}`;
const retainedKey = (space: string, topic: string): string => `${space}\u0000${topic}`;

// structuredClone would turn a Buffer into a plain Uint8Array: copied by hand instead.
const copyMessage = (m: BrokerMessageRecord): BrokerMessageRecord => ({ ...m, payload: Buffer.from(m.payload) });
const copySession = (s: BrokerSessionRecord): BrokerSessionRecord => ({ ...s, subscriptions: s.subscriptions.map((sub) => ({ ...sub })) });
const copyOutbound = (o: BrokerOutboundRecord): BrokerOutboundRecord => ({
  ...o,
  message: copyMessage(o.message),
  subscriptionIds: o.subscriptionIds && [...o.subscriptionIds],
});
const copyRetained = (r: BrokerRetainedRecord): BrokerRetainedRecord => ({ ...r, message: copyMessage(r.message) });

export function createMemoryBrokerState(): BrokerStateStore {
  const sessions = new Map<string, BrokerSessionRecord>();
  /** Per session: seq → record. */
  const outbound = new Map<string, Map<string, BrokerOutboundRecord>>();
  const retained = new Map<string, BrokerRetainedRecord>();
  let closed = false;

  function applyOne(c: BrokerStateChange): void {
    switch (c.op) {
      case 'putSession':
        sessions.set(c.session.key, copySession(c.session));
        return;
      case 'deleteSession':
        sessions.delete(c.key);
        outbound.delete(c.key);
        return;
      case 'putOutbound': {
        const o = c.outbound;
        let mine = outbound.get(o.sessionKey);
        if (!mine) outbound.set(o.sessionKey, (mine = new Map()));
        mine.set(outboundKey(o.sessionKey, o.seq), copyOutbound(o));
        return;
      }
      case 'deleteOutbound':
        outbound.get(c.sessionKey)?.delete(outboundKey(c.sessionKey, c.seq));
        return;
      case 'putRetained':
        retained.set(retainedKey(c.retained.space, c.retained.message.topic), copyRetained(c.retained));
        return;
      case 'deleteRetained':
        retained.delete(retainedKey(c.space, c.topic));
        return;
    }
  }

  return {
    kind: 'memory',
    load(): Promise<BrokerStateSnapshot> {
      const out: BrokerOutboundRecord[] = [];
      for (const [key, records] of outbound) {
        // Rows of a session that is no longer kept are not returned (as a foreign key would ensure).
        if (!sessions.has(key)) continue;
        for (const o of [...records.values()].sort((a, b) => a.seq - b.seq)) out.push(copyOutbound(o));
      }
      return Promise.resolve({ sessions: [...sessions.values()].map(copySession), outbound: out, retained: [...retained.values()].map(copyRetained) });
    },
    apply(changes: readonly BrokerStateChange[]): Promise<void> {
      if (closed) return Promise.reject(new Error('broker state is closed'));
      for (const c of changes) applyOne(c);
      return Promise.resolve();
    },
    close(): Promise<void> {
      closed = true;
      return Promise.resolve();
    },
  };
}
