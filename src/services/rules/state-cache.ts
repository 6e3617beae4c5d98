/**
 * Rule state per (rule, device) in memory, loaded from the store on first use and written back in
 * batches: one transaction per flush interval instead of one per message. A crash loses at most
 * one interval of window samples; a clean stop flushes everything.
 */
import { deserializeState, initialState, serializeState, type RuleState } from '../../domain/rules/state.js';
import type { Clock, Logger, RuleStore } from '../../ports.js';

const keyOf = (ruleId: string, deviceId: string): string => `${ruleId}\u0000${deviceId}`;

export class RuleStateCache {
  private readonly states = new Map<string, RuleState>();
  private readonly dirty = new Set<string>();
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<RuleStore, 'loadRuleState' | 'saveRuleState'>,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /**
   * `rev` is the rule's updatedAt: state written for an earlier version of the rule (a flush that
   * raced an update) is not reused.
   */
  async get(ruleId: string, deviceId: string, rev: number): Promise<RuleState> {
    const key = keyOf(ruleId, deviceId);
    const cached = this.states.get(key);
    if (cached?.rev === rev) return cached;
    const stored = cached ? undefined : await this.store.loadRuleState(ruleId, deviceId);
    const raced = this.states.get(key);
    if (raced?.rev === rev) return raced;
    const loaded = stored ? deserializeState(stored.state) : undefined;
    const state = loaded?.rev === rev ? loaded : { ...initialState(), rev };
    this.states.set(key, state);
    return state;
  }

  markDirty(ruleId: string, deviceId: string): void {
    this.dirty.add(keyOf(ruleId, deviceId));
  }

  /** Forgets a rule's state in memory (the caller deletes it from the store). */
  forgetRule(ruleId: string): void {
    const prefix = `${ruleId}\u0000`;
    for (const key of [...this.states.keys()]) if (key.startsWith(prefix)) this.states.delete(key);
    for (const key of [...this.dirty]) if (key.startsWith(prefix)) this.dirty.delete(key);
  }

  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.dirty.size === 0) return;
    const keys = [...this.dirty];
    this.dirty.clear();
    const now = this.clock.now();
    const records = keys.flatMap((key) => {
      const state = this.states.get(key);
      if (!state) return [];
      const [ruleId, deviceId] = key.split('\u0000') as [string, string];
      return [{ ruleId, deviceId, state: serializeState(state), updatedAt: now }];
    });
    this.flushing = this.store
      .saveRuleState(records)
      .catch((err: unknown) => {
        for (const key of keys) this.dirty.add(key);
        this.logger.warn({ err, states: records.length }, 'saving rule state failed; will retry');
      })
      .finally(() => (this.flushing = undefined));
    await this.flushing;
  }
}
