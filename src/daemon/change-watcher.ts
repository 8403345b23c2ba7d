import { mkdirSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import path from 'node:path';
import type { Summary } from '../run/noop-check.js';

/** More changed paths than this since the last check: the next check stats everything. */
const MAX_DIRTY = 50_000;

const join = (folder: string, name: string) => (folder === '' ? name : name === '' ? folder : `${folder}/${name}`);
const parentOf = (rel: string) => {
  const slash = rel.lastIndexOf('/');
  return slash < 0 ? '' : rel.slice(0, slash);
};

/**
 * Which of the paths a no-op summary lists may have changed since, from the kernel's change
 * notices (inotify, through one `fs.watch` per folder) instead of a stat per path: what makes
 * a no-op through the daemon cost a socket round trip.
 *
 * Every folder that holds a listed path is watched, and every folder above it up to the
 * project root, so that a folder renamed or removed is seen by its parent. A change marks the
 * path dirty, and a dirty path makes everything under it dirty. A folder watched only now may
 * have changed while nobody watched it, so it starts dirty. A check first syncs: it writes a
 * cookie file into a watched folder and waits for its notice; notices of one inotify instance
 * arrive in order, so every change made before the check was asked for has arrived by then.
 *
 * What it cannot see: changes on network file systems, and changes made while the kernel's
 * notice queue overflowed (Node does not report an overflow); `pipeline daemon stop` or a run
 * without the daemon (`PIPELINE_DAEMON=0`) is the way back to a stat of every path.
 */
export class ChangeWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private dirty = new Set<string>();
  /** Set until a full check: nothing is known clean. */
  private everything = true;
  /** Listed paths that cannot be watched (a directory of more folders than the summary records). */
  private unwatched = new Set<string>();
  private readonly cookies = new Map<string, () => void>();
  private cookieCount = 0;
  private cookieWatcher: FSWatcher;

  constructor(
    private readonly projectDir: string,
    private readonly cookieDir: string,
  ) {
    this.cookieWatcher = this.watchCookies();
  }

  private watchCookies(): FSWatcher {
    mkdirSync(this.cookieDir, { recursive: true });
    return watch(this.cookieDir, (_event, name) => {
      if (name) this.cookies.get(name)?.();
    });
  }

  get watchedFolders(): number {
    return this.watchers.size;
  }

  /** Waits until every change made before this call has been heard. */
  async sync(): Promise<void> {
    const name = `cookie-${process.pid}-${++this.cookieCount}`;
    const file = path.join(this.cookieDir, name);
    const heard = new Promise<void>((resolve) => this.cookies.set(name, resolve));
    try {
      writeFileSync(file, '');
    } catch {
      // Its folder was removed (`rm -rf .pipeline`): watch a new one, and trust nothing this time.
      this.cookies.delete(name);
      this.cookieWatcher.close();
      this.cookieWatcher = this.watchCookies();
      this.everything = true;
      return;
    }
    const arrived = await Promise.race([heard.then(() => true), new Promise<false>((resolve) => setTimeout(() => resolve(false), 2000).unref())]);
    this.cookies.delete(name);
    rmSync(file, { force: true });
    // A notice that never came: trust nothing this time.
    if (!arrived) this.everything = true;
  }

  /**
   * What a check may take as unchanged, frozen now: changes from here on collect for the next
   * check. `settle(accounted)` after the run: true when the request compared every mark with
   * the summary and found it unchanged, or wrote a new summary (which describes what the run
   * saw after this point); otherwise the marks count again.
   */
  snapshot(): { clean: (rel: string) => boolean; settle: (accounted: boolean) => void } {
    const dirty = this.dirty;
    const everything = this.everything;
    this.dirty = new Set();
    this.everything = false;
    const dirtyAbove = new Set<string>();
    for (const rel of dirty) for (let p = parentOf(rel); p !== '' && !dirtyAbove.has(p); p = parentOf(p)) dirtyAbove.add(p);
    const unwatched = this.unwatched;
    const clean = (rel: string) => {
      if (everything || dirty.has('') || unwatched.has(rel) || dirtyAbove.has(rel)) return false;
      // Outside the project the folders above are not watched: a rename there would go unheard.
      if (rel.startsWith('..')) return false;
      for (let p = rel; p !== ''; p = parentOf(p)) if (dirty.has(p)) return false;
      return true;
    };
    return {
      clean,
      settle: (accounted) => {
        if (accounted) return;
        this.everything ||= everything;
        for (const rel of dirty) this.mark(rel);
      },
    };
  }

  /** Forget what is known: the next check stats every path. */
  reset(): void {
    this.everything = true;
  }

  /** Watches the folders of what `summary` lists (and stops watching the rest); its paths are relative to our project dir. */
  arm(summary: Summary | undefined): void {
    const wanted = new Set<string>();
    const unwatched = new Set<string>();
    const want = (folder: string) => {
      for (let f = folder; !wanted.has(f); f = parentOf(f)) {
        wanted.add(f);
        if (f === '') break;
      }
    };
    if (summary) {
      want('');
      for (const file of [...summary.files, summary.lockFile]) want(parentOf(file));
      for (const [rel, sig, , , folders] of summary.paths) {
        want(parentOf(rel));
        if (!sig.startsWith('T')) continue;
        if (!folders) unwatched.add(rel);
        else for (const inner of Object.keys(folders)) want(join(rel, inner));
      }
    }
    this.unwatched = unwatched;
    for (const [folder, watcher] of this.watchers) {
      if (wanted.has(folder)) continue;
      watcher.close();
      this.watchers.delete(folder);
    }
    for (const folder of wanted) {
      if (this.watchers.has(folder)) continue;
      // Whatever happened in it before now went unheard.
      this.mark(folder);
      try {
        const watcher = watch(path.resolve(this.projectDir, folder), { persistent: false }, (_event, name) => this.mark(name ? join(folder, name) : folder));
        // Removed, or a watch the kernel dropped: a parent's notice marks it; watch it afresh next time.
        watcher.on('error', () => this.forget(folder));
        this.watchers.set(folder, watcher);
      } catch {
        // Not there (yet): its parent is watched, so its creation is heard; it stays dirty.
      }
    }
  }

  close(): void {
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
    this.cookieWatcher.close();
  }

  private forget(folder: string): void {
    this.watchers.get(folder)?.close();
    this.watchers.delete(folder);
    this.mark(folder);
  }

  private mark(rel: string): void {
    if (this.dirty.size >= MAX_DIRTY) {
      this.everything = true;
      return;
    }
    this.dirty.add(rel);
    // A watched folder renamed or removed: its watch may be dead (a new one at the next arm).
    const watcher = this.watchers.get(rel);
    if (watcher && rel !== '') {
      watcher.close();
      this.watchers.delete(rel);
    }
  }
}
