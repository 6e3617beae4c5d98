/**
 * Rule state per (rule, device) in memory, loaded from the store on first use and written back in
 * batches: one transaction per flush interval instead of one per message. A crash loses at most
 * one interval of window samples; a clean stop flushes everything.
 *
 * The engine asks for a state on every message: `peek` answers from memory without a promise, and
 * marking a state dirty is a flag on its entry (no key strings, no set per message).
 */
import { deserializeState, initialState, serializeState, type RuleState } from '../../domain/rules/state.js';
import type { Clock, Logger, RuleStateRecord, RuleStore } from '../../ports.js';

interface Entry {
  readonly ruleId: string;
  readonly deviceId: string;
  readonly state: RuleState;
  dirty: boolean;
}

export class RuleStateCache {
  /** rule id → device id → entry. */
  private readonly states = new Map<string, Map<string, Entry>>();
  /** Entries marked dirty since the last flush (each once: its flag says so). */
  private dirty: Entry[] = [];
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly store: Pick<RuleStore, 'loadRuleState' | 'saveRuleState'>,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  private entry(ruleId: string, deviceId: string): Entry | undefined {
    return this.states.get(ruleId)?.get(deviceId);
  }

  private put(ruleId: string, deviceId: string, state: RuleState): void {
    let byDevice = this.states.get(ruleId);
    if (!byDevice) this.states.set(ruleId, (byDevice = new Map()));
    const old = byDevice.get(deviceId);
    const entry: Entry = { ruleId, deviceId, state, dirty: false };
    byDevice.set(deviceId, entry);
    // A dirty state replaced by a newer version of the rule: the new state is written instead.
    if (old?.dirty) this.markEntry(entry);
  }

  /** The state in memory for this version of the rule, or undefined when `get` must load it. */
  peek(ruleId: string, deviceId: string, rev: number): RuleState | undefined {
    const cached = this.entry(ruleId, deviceId);
    return cached?.state.rev === rev ? cached.state : undefined;
  }

  /**
   * `rev` is the rule's updatedAt: state written for an earlier version of the rule (a flush that
   * raced an update) is not reused.
   */
  async get(ruleId: string, deviceId: string, rev: number): Promise<RuleState> {
    const cached = this.entry(ruleId, deviceId);
    if (cached?.state.rev === rev) return cached.state;
    const stored = cached ? undefined : await this.store.loadRuleState(ruleId, deviceId);
    const raced = this.entry(ruleId, deviceId);
    if (raced?.state.rev === rev) return raced.state;
    const loaded = stored ? deserializeState(stored.state) : undefined;
    const state = loaded?.rev === rev ? loaded : { ...initialState(), rev };
    this.put(ruleId, deviceId, state);
    return state;
  }

  markDirty(ruleId: string, deviceId: string): void {
    const entry = this.entry(ruleId, deviceId);
    if (entry) this.markEntry(entry);
  }

  private markEntry(entry: Entry): void {
    if (entry.dirty) return;
    entry.dirty = true;
    this.dirty.push(entry);
  }

  /** Forgets a rule's state in memory (the caller deletes it from the store). */
  forgetRule(ruleId: string): void {
    const byDevice = this.states.get(ruleId);
    if (!byDevice) return;
    this.states.delete(ruleId);
    for (const entry of byDevice.values()) entry.dirty = false;
    this.dirty = this.dirty.filter((e) => e.ruleId !== ruleId);
  }

  /**
   * Cluster checkpoints (partitions.ts): the dirty states of the devices `pick` selects, their
   * flags cleared; `undo` marks them dirty again (the checkpoint failed).
   */
  takeDirty(pick: (deviceId: string) => boolean, now: number): { records: RuleStateRecord[]; undo(): void } {
    const taken: Entry[] = [];
    const rest: Entry[] = [];
    for (const entry of this.dirty) {
      if (!entry.dirty) continue;
      if (!pick(entry.deviceId)) rest.push(entry);
      else if (this.entry(entry.ruleId, entry.deviceId) === entry) taken.push(entry);
      else entry.dirty = false;
    }
    this.dirty = rest;
    for (const entry of taken) entry.dirty = false;
    return {
      records: taken.map((e) => ({ ruleId: e.ruleId, deviceId: e.deviceId, state: serializeState(e.state), updatedAt: now })),
      undo: () => {
        for (const entry of taken) if (this.entry(entry.ruleId, entry.deviceId) === entry) this.markEntry(entry);
      },
    };
  }

  /** Forgets the states of the devices `pick` selects (a partition gained or lost: the store has the truth). */
  forgetDevices(pick: (deviceId: string) => boolean): void {
    for (const byDevice of this.states.values()) {
      for (const [deviceId, entry] of byDevice) {
        if (!pick(deviceId)) continue;
        entry.dirty = false;
        byDevice.delete(deviceId);
      }
    }
    this.dirty = this.dirty.filter((e) => e.dirty);
  }

  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.dirty.length === 0) return;
    const entries = this.dirty;
    this.dirty = [];
    const now = this.clock.now();
    const written: Entry[] = [];
    const records = [];
    for (const entry of entries) {
      if (!entry.dirty) continue;
      entry.dirty = false;
      // Replaced meanwhile (rule updated): the replacement carries its own flag.
      if (this.entry(entry.ruleId, entry.deviceId) !== entry) continue;
      written.push(entry);
      records.push({ ruleId: entry.ruleId, deviceId: entry.deviceId, state: serializeState(entry.state), updatedAt: now });
    }
    if (records.length === 0) return;
    this.flushing = this.store
      .saveRuleState(records)
      .catch((err: unknown) => {
        for (const entry of written) if (this.entry(entry.ruleId, entry.deviceId) === entry) this.markEntry(entry);
        this.logger.warn({ err, states: records.length }, 'saving rule state failed; will retry');
      })
      .finally(() => (this.flushing = undefined));
    await this.flushing;
  }
}
