/**
 * Retained messages of one topic space, in a trie keyed by topic level. The subscription index
 * answers "which filters match this name"; retained delivery needs the reverse ("which stored names
 * match this filter"), which a level trie walks in time proportional to the matching part.
 */

interface Node<T> {
  children: Map<string, Node<T>> | undefined;
  value: T | undefined;
}

function newNode<T>(): Node<T> {
  return { children: undefined, value: undefined };
}

export class RetainedStore<T> {
  private readonly root: Node<T> = newNode();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The retained message of a topic, if any. */
  get(topic: string): T | undefined {
    let node: Node<T> | undefined = this.root;
    for (const level of topic.split('/')) {
      node = node.children?.get(level);
      if (!node) return undefined;
    }
    return node.value;
  }

  /** Stores, or with `undefined` deletes, the retained message of a topic [MQTT-3.3.1-5, MQTT-3.3.1-6]. */
  set(topic: string, value: T | undefined): void {
    const levels = topic.split('/');
    if (value === undefined) {
      this.delete(this.root, levels, 0);
      return;
    }
    let node = this.root;
    for (const level of levels) {
      node.children ??= new Map();
      let next = node.children.get(level);
      if (!next) {
        next = newNode();
        node.children.set(level, next);
      }
      node = next;
    }
    if (node.value === undefined) this.count++;
    node.value = value;
  }

  /** Removes the value and prunes empty branches; returns whether the node is now empty. */
  private delete(node: Node<T>, levels: string[], i: number): boolean {
    if (i === levels.length) {
      if (node.value !== undefined) this.count--;
      node.value = undefined;
    } else {
      const child = node.children?.get(levels[i] as string);
      if (child && this.delete(child, levels, i + 1)) node.children?.delete(levels[i] as string);
    }
    return node.value === undefined && (!node.children || node.children.size === 0);
  }

  /**
   * Calls `fn` for every stored message whose topic matches `filter`. At the first level a wildcard
   * skips topics starting with `$` [MQTT-4.7.2-1].
   */
  forEachMatch(filter: string, fn: (value: T) => void): void {
    this.walk(this.root, filter.split('/'), 0, fn);
  }

  private walk(node: Node<T>, levels: string[], i: number, fn: (value: T) => void): void {
    if (i === levels.length) {
      if (node.value !== undefined) fn(node.value);
      return;
    }
    const level = levels[i] as string;
    if (level === '#') {
      // "sport/#" also matches "sport" itself [MQTT-4.7.1-2].
      if (node.value !== undefined && i > 0) fn(node.value);
      this.all(node, i === 0, fn);
      return;
    }
    if (!node.children) return;
    if (level === '+') {
      for (const [key, child] of node.children) {
        if (i === 0 && key.startsWith('$')) continue;
        this.walk(child, levels, i + 1, fn);
      }
      return;
    }
    const child = node.children.get(level);
    if (child) this.walk(child, levels, i + 1, fn);
  }

  private all(node: Node<T>, skipDollar: boolean, fn: (value: T) => void): void {
    if (!node.children) return;
    for (const [key, child] of node.children) {
      if (skipDollar && key.startsWith('$')) continue;
      if (child.value !== undefined) fn(child.value);
      this.all(child, false, fn);
    }
  }
}
