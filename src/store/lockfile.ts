import { readFileSync } from 'node:fs';
import path from 'node:path';
import jsYaml from 'js-yaml';
import { UserError } from '../errors.js';
import { isDiskFull, onDiskFull } from '../disk-full.js';
import { fileIdentity, writeFileAtomic } from '../fs-atomic.js';

/** What pipeline.lock records for one stage instance: enough to explain staleness and to verify outs. */
export interface LockEntry {
  key: string;
  /** The interpolated command, or `uses: name@version` for built-ins. */
  cmd: string;
  deps: Record<string, string>;
  params: Record<string, unknown>;
  env?: Record<string, string>;
  outs: Record<string, string>;
}

const HEADER = '# pipeline.lock: written by `pipeline run`; commit it. Stable order, one entry per stage instance.\n';

/**
 * pipeline.lock, held in memory and written atomically. Writes are coalesced (a 10,000-stage
 * lock is megabytes), but every finished stage is written within a fraction of a second and
 * on exit; a stage lost to a kill -9 in that window restores from the run cache next time.
 */
export class Lockfile {
  private entries = new Map<string, LockEntry>();
  private timer: NodeJS.Timeout | undefined;
  private lastWriteMs = 0;
  private pending = false;
  private mirrorStale = false;
  private readonly dumped = new Map<string, { entry: LockEntry; text: string }>();

  /**
   * `mirror` is a JSON copy of the parsed lock, tagged with the lock's (inode, size, mtime):
   * parsing a 10,000-stage YAML lock takes longer than a whole no-op run should. It also keeps
   * each entry's YAML text, so a run that changes a few entries dumps only those.
   */
  constructor(readonly file: string, private readonly mirror?: string, readonly displayName = 'pipeline.lock') {
    const tag = fileIdentity(file);
    if (tag === 'missing') return;
    if (mirror) {
      try {
        const cached = JSON.parse(readFileSync(mirror, 'utf8')) as { tag: string; stages: Record<string, LockEntry>; texts?: Record<string, string> };
        if (cached.tag === tag) {
          for (const [id, entry] of Object.entries(cached.stages)) {
            this.entries.set(id, entry);
            const text = cached.texts?.[id];
            if (text !== undefined) this.dumped.set(id, { entry, text });
          }
          return;
        }
      } catch {
        // No usable mirror: parse the YAML.
      }
    }
    const text = readFileSync(file, 'utf8');
    let data: { stages?: Record<string, LockEntry> } | null;
    try {
      data = jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA }) as typeof data;
    } catch (error) {
      throw new UserError(`cannot parse the lock file (${(error as Error).message.split('\n')[0]}); restore it from git or delete it to rebuild`, { file: displayName });
    }
    for (const [id, entry] of Object.entries(data?.stages ?? {})) this.entries.set(id, entry);
    this.writeMirror(tag);
  }

  private writeMirror(tag: string): void {
    if (!this.mirror) return;
    try {
      const texts: Record<string, string> = {};
      for (const [id, entry] of this.entries) {
        const memo = this.dumped.get(id);
        if (memo?.entry === entry) texts[id] = memo.text;
      }
      writeFileAtomic(this.mirror, JSON.stringify({ tag, stages: Object.fromEntries(this.entries), texts }));
    } catch {
      // Only an accelerator.
    }
  }

  get(id: string): LockEntry | undefined {
    return this.entries.get(id);
  }

  ids(): string[] {
    return [...this.entries.keys()];
  }

  set(id: string, entry: LockEntry): void {
    this.entries.set(id, entry);
    this.schedule();
  }

  delete(id: string): void {
    if (this.entries.delete(id)) this.schedule();
  }

  private schedule(): void {
    this.pending = true;
    if (this.timer) return;
    const delay = Math.min(2000, Math.max(200, this.lastWriteMs * 5));
    this.timer = setTimeout(() => this.flushSoon(), delay);
  }

  /**
   * A timed write must not throw out of a timer (that would kill the process mid-run): on a
   * full disk the entries stay pending, and the final flush reports it.
   */
  private flushSoon(): void {
    try {
      this.flush();
    } catch (error) {
      if (!isDiskFull(error)) throw error;
    }
  }

  /**
   * Writes now if anything changed since the last write. `final` also refreshes the JSON mirror
   * (only the next command reads it, so intermediate writes skip it).
   */
  flush(final = false): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending) {
      const started = Date.now();
      const text = this.serialize();
      onDiskFull(
        () => writeFileAtomic(this.file, text, true),
        () => ({
          what: this.displayName,
          dir: path.dirname(this.file),
          bytes: Buffer.byteLength(text),
          kept: `the previous ${this.displayName} is intact, and the stages that finished are in the run cache:`,
          remedy: 'free space on that disk and run again, and they are restored, not rerun.',
        }),
      );
      this.pending = false;
      this.lastWriteMs = Date.now() - started;
      this.mirrorStale = true;
    }
    if (final && this.mirrorStale) {
      this.writeMirror(fileIdentity(this.file));
      this.mirrorStale = false;
    }
  }

  serialize(): string {
    const parts = [HEADER, 'schema: 1\n'];
    const ids = [...this.entries.keys()].sort();
    parts.push(ids.length ? 'stages:\n' : 'stages: {}\n');
    for (const id of ids) parts.push(this.entryText(id, this.entries.get(id)!));
    return parts.join('');
  }

  /**
   * One stage's part of the file, dumped once per entry object: a sweep's lock is rewritten
   * after every few finished stages, and dumping all of it each time was most of an
   * incremental run's engine time. The same bytes as dumping the whole document at once.
   */
  private entryText(id: string, e: LockEntry): string {
    const memo = this.dumped.get(id);
    if (memo?.entry === e) return memo.text;
    const entry: LockEntry = { key: e.key, cmd: e.cmd, deps: sortKeys(e.deps), params: sortKeys(e.params), outs: sortKeys(e.outs) };
    if (e.env && Object.keys(e.env).length) entry.env = sortKeys(e.env);
    const text = jsYaml
      .dump({ [id]: entry }, { lineWidth: -1, noRefs: true, sortKeys: false })
      .replace(/^(?=.)/gm, '  ');
    this.dumped.set(id, { entry: e, text });
    return text;
  }
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const key of Object.keys(record).sort()) out[key] = record[key];
  return out;
}
