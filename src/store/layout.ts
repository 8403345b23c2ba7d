import path from 'node:path';

/**
 * Where pipeline keeps its state: the only code that knows these paths. `cache/` holds what
 * can be shared (objects, run records, logs); `.pipeline/` what belongs to one clone (stat
 * cache, the parsed-spec and no-op shortcuts, the run lock, this clone's config).
 */
export class ProjectLayout {
  readonly cacheDir: string;

  /**
   * `specDir` holds pipeline.lock and `.pipeline/`; it is the project root except for a dvc.yaml
   * in a subfolder of its repository, whose lock sits beside it (and beside dvc.lock) while
   * `cache/` stays at the root, shared by every spec of the repository.
   */
  constructor(
    readonly projectDir: string,
    cacheDir = process.env.PIPELINE_CACHE_DIR ?? path.join(projectDir, 'cache'),
    readonly specDir = projectDir,
  ) {
    this.cacheDir = path.resolve(projectDir, cacheDir);
  }

  get lockFile(): string {
    return path.join(this.specDir, 'pipeline.lock');
  }

  /** Per-clone state, never shared or committed. */
  state(name: 'stat-cache.tsv' | 'lock.json' | 'spec.json' | 'options.json' | 'noop.json' | 'run.lock' | 'config.yaml'): string {
    return path.join(this.specDir, '.pipeline', name);
  }

  /** What a built-in keeps across runs (per-item memos); per clone, never an out. */
  stageCache(stage: string): string {
    return path.join(this.specDir, '.pipeline', 'stage-cache', stage);
  }

  get logsDir(): string {
    return path.join(this.cacheDir, 'logs');
  }

  /** Scratch space of one kind (`specs`, `slurm`, downloads); emptied by `cache gc`. */
  tmp(kind?: string): string {
    return kind ? path.join(this.cacheDir, 'tmp', kind) : path.join(this.cacheDir, 'tmp');
  }
}

/** Keys of a cache's files relative to its root: the same on disk and on a remote. */
export const objectKey = (hash: string): string => `objects/${hash.slice(0, 2)}/${hash.slice(2)}`;
export const runKey = (key: string): string => `runs/${key}.json`;
