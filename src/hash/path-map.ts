import { ancestors } from '../paths.js';

/**
 * A map keyed by project-relative paths that can drop a whole subtree and its ancestors in
 * O(depth + subtree) rather than scanning every key: invalidation runs after every stage, and a
 * 10,000-stage build holds tens of thousands of entries.
 */
export class PathMap<V> {
  private readonly values = new Map<string, V>();
  /** Keys present under each directory (at any depth). */
  private readonly under = new Map<string, Set<string>>();

  get(key: string): V | undefined {
    return this.values.get(key);
  }

  set(key: string, value: V): void {
    if (!this.values.has(key)) {
      for (const dir of ancestors(key)) {
        let set = this.under.get(dir);
        if (!set) this.under.set(dir, (set = new Set()));
        set.add(key);
      }
    }
    this.values.set(key, value);
  }

  delete(key: string): void {
    if (!this.values.delete(key)) return;
    for (const dir of ancestors(key)) this.under.get(dir)?.delete(key);
  }

  /** Removes `key`, everything inside it, and every directory containing it. */
  deleteTree(key: string): void {
    for (const inner of [...(this.under.get(key) ?? [])]) this.delete(inner);
    this.delete(key);
    for (const dir of ancestors(key)) this.delete(dir);
  }

  entries(): IterableIterator<[string, V]> {
    return this.values.entries();
  }

  get size(): number {
    return this.values.size;
  }
}
