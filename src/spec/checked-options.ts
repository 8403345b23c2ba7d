import { readFileSync } from 'node:fs';
import { canonicalJson } from '../canonical-json.js';
import { writeFileAtomic } from '../fs-atomic.js';
import { sha256Text } from '../hash/sha256.js';

/**
 * The `with:` option sets already checked against their built-in's declaration, remembered in
 * `.pipeline/options.json` (per clone, like the parsed-spec cache): compiling the validators
 * costs more than a whole no-op `status`, and the same options are checked on every load.
 */
export class CheckedOptions {
  private readonly keys: Set<string>;
  private dirty = false;

  constructor(private readonly file: string) {
    try {
      this.keys = new Set(JSON.parse(readFileSync(file, 'utf8')) as string[]);
    } catch {
      this.keys = new Set();
    }
  }

  static keyOf(stage: string, version: string, options: Record<string, unknown> | undefined): string {
    return sha256Text(`${stage}@${version}\0${canonicalJson(options ?? {})}`);
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    this.keys.add(key);
    this.dirty = true;
  }

  /** Best effort: a read-only checkout only loses the shortcut. */
  save(): void {
    if (!this.dirty) return;
    try {
      writeFileAtomic(this.file, JSON.stringify([...this.keys].sort()));
      this.dirty = false;
    } catch {
      // The next load checks again.
    }
  }
}
