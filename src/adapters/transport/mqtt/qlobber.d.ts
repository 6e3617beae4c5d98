/**
 * Types for the parts of `qlobber` (8.x, CommonJS, ships no types) the broker uses. Ambient module
 * declaration, kept next to its only user.
 */
declare module 'qlobber' {
  interface QlobberOptions {
    separator?: string;
    wildcard_one?: string;
    wildcard_some?: string;
    match_empty_levels?: boolean;
    cache_adds?: boolean;
    cache_splits?: number;
    max_words?: number;
    max_wildcard_somes?: number;
  }

  /** Values are kept in a Set per filter; `match` returns the union as a Set (possibly internal: do not modify). */
  interface QlobberDedup<V> {
    add(topic: string, val: V): this;
    remove(topic: string, val?: V): this;
    match(topic: string): Set<V>;
    test(topic: string, val: V): boolean;
    clear(): this;
  }

  interface QlobberDedupConstructor {
    new <V>(options?: QlobberOptions): QlobberDedup<V>;
  }

  const qlobber: { QlobberDedup: QlobberDedupConstructor };
  export default qlobber;
}
