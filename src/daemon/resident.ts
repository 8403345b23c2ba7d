import { statSync } from 'node:fs';
import path from 'node:path';
import type { Common, Resident } from '../cli/common.js';
import { fileIdentity } from '../fs-atomic.js';
import { RACY_WINDOW_MS, type Unchanged } from '../hash/content-hasher.js';
import type { StatCache } from '../hash/stat-cache.js';
import { StageGraph } from '../graph.js';
import { inputsHash } from '../run/noop-check.js';
import { inputFilesOf } from '../run/noop-summary.js';
import { Workspace } from '../run/workspace.js';
import { loadProject } from '../spec/load.js';
import { matrixGlobMatches } from '../spec/matrix-glob.js';
import type { Project } from '../spec/model.js';
import { ProjectLayout } from '../store/layout.js';
import type { Lockfile } from '../store/lockfile.js';

interface Kept {
  specFile: string;
  overrides: string;
  /** What shaped the graph (the no-op summary's rule: input files' contents, glob matches). */
  inputs: string;
  project: Project;
  graph: StageGraph;
  statCache: StatCache;
  statCacheSignature: string;
  lock: Lockfile;
  lockSignature: string;
}

/**
 * The daemon's memory between runs: the loaded project and its graph, the stat cache and the
 * lock, each reused only while the disk still says what they say (the files' signatures are
 * what our last run saved; the inputs that shape the graph hash the same). Anything else, or a
 * run that did not close cleanly, and the next run loads afresh.
 */
export class ResidentWorkspace implements Resident {
  private kept?: Kept;
  private opened?: { ws: Workspace; specFile: string; overrides: string; inputs: string };
  private deferred: (() => Promise<void>)[] = [];

  open(options: Common, known?: Unchanged): Workspace {
    const specFile = path.resolve(options.file);
    const overrides = JSON.stringify(options.setParam ?? []);
    const kept = this.kept;
    this.kept = undefined;
    let project: Project | undefined;
    let graph: StageGraph | undefined;
    let statCache: StatCache | undefined;
    let lock: Lockfile | undefined;
    if (kept && kept.specFile === specFile && kept.overrides === overrides) {
      const layout = new ProjectLayout(kept.project.dir, undefined, kept.project.specDir);
      if (fileIdentity(layout.state('stat-cache.tsv')) === kept.statCacheSignature) statCache = kept.statCache;
      if (fileIdentity(layout.lockFile) === kept.lockSignature) lock = kept.lock;
      if (kept.inputs !== '' && this.inputsOf(kept.project) === kept.inputs) ({ project, graph } = kept);
    }
    let inputs = kept?.inputs ?? '';
    if (!project) {
      const loadStarted = Date.now();
      project = loadProject({ specFile, ...(options.setParam ? { overrides: options.setParam } : {}) });
      // Hashed after the load: an input modified around the load might hash as the new text
      // beside a project loaded from the old one, so such a project is not kept.
      const racy = inputFilesOf(project).some((file) => (statSync(path.join(project!.dir, file), { throwIfNoEntry: false })?.mtimeMs ?? 0) >= loadStarted - RACY_WINDOW_MS);
      inputs = racy ? '' : this.inputsOf(project);
    }
    graph ??= new StageGraph(project);
    statCache ??= Workspace.statCacheFor(project.specDir);
    lock ??= Workspace.lockFor(project.specDir);
    const ws = new Workspace(project, { statCache, lock, graph, ...(known ? { known } : {}) });
    this.opened = { ws, specFile, overrides, inputs };
    // Held for closed(): the workspace does not expose its stat cache.
    this.statCacheOf.set(ws, statCache);
    return ws;
  }

  closed(ws: Workspace): void {
    const opened = this.opened;
    this.opened = undefined;
    const statCache = this.statCacheOf.get(ws);
    if (!opened || opened.ws !== ws || !statCache) return;
    this.kept = {
      specFile: opened.specFile,
      overrides: opened.overrides,
      inputs: opened.inputs,
      project: ws.project,
      graph: ws.graph,
      statCache,
      statCacheSignature: fileIdentity(ws.layout.state('stat-cache.tsv')),
      lock: ws.lock,
      lockSignature: fileIdentity(ws.layout.lockFile),
    };
  }

  /** Work that starts only after the answer (settled() runs it). */
  defer(work: () => Promise<void>): void {
    this.deferred.push(work);
  }

  /** Runs the deferred work, in order (the next command must see its result). */
  async settled(): Promise<void> {
    const deferred = this.deferred;
    this.deferred = [];
    for (const work of deferred) await work();
  }

  private readonly statCacheOf = new WeakMap<Workspace, StatCache>();

  /** What a project was loaded from: its input files' contents and its matrix globs' matches now. */
  private inputsOf(project: Project): string {
    const globs = project.globs.map(({ pattern }) => matrixGlobMatches(pattern, project.dir));
    return [inputsHash(project.dir, inputFilesOf(project), ''), JSON.stringify(globs)].join('\0');
  }
}
