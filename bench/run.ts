/**
 * `npm run bench`: pipeline beside GNU make (and Snakemake when installed) on the same
 * generated DAGs, plus cold hashing throughput beside sha256sum. Prints a table with ratios.
 * `npm run bench -- --quick` runs only the 1,000-stage DAG and a 512 MB hashing tree;
 * `--training-only` the training rows (CPU backends, then WebGPU beside PyTorch on the GPU);
 * `--explain-only` explaining 40 images against one training epoch; `--s3-only` push/pull of 200 MB to a real S3 server beside the AWS CLI and curl; `--search-only` planning a 1,000- and a 10,000-trial search; `--gpu-only` just the GPU rows, for a lent GPU machine; `--big-dir-only` the 1M-file
 * directory dep (100k with --quick); `--memory-only` a training stage's peak RSS at 2k and 16k
 * images (1k and 4k with --quick); `--dag-only` the DAG rows beside make.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, utimesSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContentHasher } from '../src/hash/content-hasher.js';
import { StatCache } from '../src/hash/stat-cache.js';
import { writeDag, type DagShape } from './dag.js';
import { remoteThroughput, watchLatency } from './extras.js';
import { gpuTable, gpuTrainingThroughput } from './gpu-training.js';
import { backboneTable, backboneThroughput } from './backbones.js';
import { trainingThroughput } from './training.js';
import { memoryTable, trainingMemory } from './train-memory.js';
import { bigDirectory, bigDirTable } from './big-dir.js';
import { probeSolvers, probeTable } from './probe.js';
import { searchPlanning, searchTable } from './search.js';
import { s3Transfer, transferTable } from './s3-transfer.js';
import { explainCost, explainTable } from './explain.js';

const cli = fileURLToPath(new URL('../../bin/pipeline.js', import.meta.url));
const quick = process.argv.includes('--quick');
const extrasOnly = process.argv.includes('--extras-only') || process.argv.includes('--training-only');
const trainingOnly = process.argv.includes('--training-only');
/** Only the many-files directory dep. */
const bigDirOnly = process.argv.includes('--big-dir-only');
/** Only a training stage's peak memory against the data set's size. */
const memoryOnly = process.argv.includes('--memory-only');
/** Only the pretrained backbones' rows (224 px beside PyTorch). */
const backbonesOnly = process.argv.includes('--backbones-only');
/** Only the GPU rows: the one thing worth a lent GPU machine's minutes. */
const gpuOnly = process.argv.includes('--gpu-only');
/** Only the baseline probe's solvers beside scikit-learn. */
const probeOnly = process.argv.includes('--probe-only');
/** Only planning a 10,000-trial search. */
const searchOnly = process.argv.includes('--search-only');
/** Only push/pull of 200 MB to a real S3 server beside the AWS CLI and curl. */
const s3Only = process.argv.includes('--s3-only');
/** Only the DAG rows beside make (1k stages; 10k too without --quick). */
const dagOnly = process.argv.includes('--dag-only');
/** Only explaining 40 images of one experiment against one epoch of its training. */
const explainOnly = process.argv.includes('--explain-only');
const jobs = 2;
const root = path.join(process.env.BENCH_DIR ?? tmpdir(), 'pipeline-bench');

function time(command: string, args: string[], cwd: string): { seconds: number; stdout: string } {
  const start = performance.now();
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const seconds = (performance.now() - start) / 1000;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${r.stderr.slice(-2000)}`);
  return { seconds, stdout: r.stdout };
}

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

interface Row {
  what: string;
  tool: string;
  seconds: number;
  ran?: number;
  /** Shown instead of the ratio to make's row (a figure from paired runs). */
  note?: string;
}

function pipelineRan(stdout: string): number {
  const done = stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; ran?: number }).find((e) => e.event === 'done');
  return done?.ran ?? -1;
}

function makeRan(stdout: string): number {
  return stdout.split('\n').filter((l) => l.startsWith('cat ')).length;
}

function benchDag(shape: DagShape): Row[] {
  const label = `${shape.stages} stages / ${shape.files} files`;
  const rows: Row[] = [];
  const pDir = path.join(root, `p-${shape.stages}`);
  const mDir = path.join(root, `m-${shape.stages}`);
  writeDag(pDir, shape);
  writeDag(mDir, shape);
  const pipeline = (what: string) => {
    const r = time(process.execPath, [cli, 'run', '--json', '--jobs', String(jobs)], pDir);
    rows.push({ what: `${what}, ${label}`, tool: 'pipeline', seconds: r.seconds, ran: pipelineRan(r.stdout) });
  };
  const make = (what: string) => {
    const r = time('make', ['-r', '-j', String(jobs)], mDir);
    rows.push({ what: `${what}, ${label}`, tool: 'make', seconds: r.seconds, ran: makeRan(r.stdout) });
  };
  process.stderr.write(`cold build ${label}...\n`);
  pipeline('cold build');
  make('cold build');
  process.stderr.write(`no-op ${label}...\n`);
  pipeline('no-op');
  make('no-op');
  // The no-op target is Node's own start + 0.03 s: the floor no Node program gets under.
  const bare = time(process.execPath, ['-e', '0'], pDir);
  rows.push({ what: `no-op, ${label}`, tool: 'node -e 0 (bare start)', seconds: bare.seconds });
  for (const dir of [pDir, mDir]) appendFileSync(path.join(dir, 'in/g0/f0.txt'), 'changed\n');
  pipeline('one input changed');
  make('one input changed');
  const later = new Date(Date.now() + 10_000);
  for (const dir of [pDir, mDir]) {
    for (const g of readdirSync(path.join(dir, 'in')).slice(0, 10)) {
      for (const f of readdirSync(path.join(dir, 'in', g))) utimesSync(path.join(dir, 'in', g, f), later, later);
    }
  }
  pipeline('touch-only (10 groups)');
  make('touch-only (10 groups)');
  rows.push(...benchDaemon(pDir, mDir, label));
  return rows;
}

/** The median of five timed runs, each after `prepare(i)` (this VM drifts by 20% from one run to the next). */
function median5(prepare: (i: number) => void, run: () => { seconds: number; ran?: number }): { seconds: number; ran?: number } {
  const runs = [0, 1, 2, 3, 4].map((i) => (prepare(i), run())).sort((a, b) => a.seconds - b.seconds);
  return runs[2]!;
}

/**
 * `a` and `b` run in turns (A B A B ...), `rounds` times: their medians, and the median of the
 * paired differences (each pair ran back to back, so this VM's drift, larger than the gap being
 * measured, cancels out of it).
 */
function pairedMedians(a: () => { seconds: number; ran?: number }, b: () => { seconds: number; ran?: number }, rounds: number) {
  const pairs = Array.from({ length: rounds }, () => [a(), b()] as const);
  const median = <T,>(values: T[], by: (value: T) => number): T => values.sort((x, y) => by(x) - by(y))[Math.floor(values.length / 2)]!;
  return {
    a: median(pairs.map(([x]) => x), (x) => x.seconds),
    b: median(pairs.map(([, y]) => y), (y) => y.seconds),
    difference: median(pairs.map(([x, y]) => x.seconds - y.seconds), (d) => d),
    ratio: median(pairs.map(([x, y]) => x.seconds / y.seconds), (r) => r),
  };
}

/**
 * The same project through `pipeline daemon` (the engine stays loaded, inotify says what
 * changed), beside make and Node's bare start: the no-op and one-change rows in turns with
 * their peer (see pairedMedians), the touch-only rows medians of five.
 */
function benchDaemon(pDir: string, mDir: string, label: string): Row[] {
  const rows: Row[] = [];
  process.stderr.write(`daemon ${label}...\n`);
  // The touch-only rows above left mtimes in the future: make rebuilds those groups on every
  // run, and pipeline hashes them on every run (it never trusts a future mtime). Let that time pass.
  const past = new Date(Date.now() - 60_000);
  for (const dir of [pDir, mDir]) {
    for (const g of readdirSync(path.join(dir, 'in'))) for (const f of readdirSync(path.join(dir, 'in', g))) utimesSync(path.join(dir, 'in', g, f), past, past);
  }
  time('make', ['-r', '-j', String(jobs)], mDir);
  const start = time(process.execPath, [cli, 'daemon', 'start'], pDir);
  rows.push({ what: `daemon start, ${label}`, tool: 'pipeline', seconds: start.seconds });
  try {
    const pipeline = () => {
      const r = time(process.execPath, [cli, 'run', '--json', '--jobs', String(jobs)], pDir);
      return { seconds: r.seconds, ran: pipelineRan(r.stdout) };
    };
    const make = () => {
      const r = time('make', ['-r', '-j', String(jobs)], mDir);
      return { seconds: r.seconds, ran: makeRan(r.stdout) };
    };
    rows.push({ what: `first run after daemon start, ${label}`, tool: 'pipeline', ...pipeline() });
    // Steady state, as a daemon spends its life: the first runs also compile the engine's paths.
    for (const i of [0, 1, 2, 3]) {
      pipeline();
      appendFileSync(path.join(pDir, `in/g${190 + i}/f0.txt`), 'warm-up\n');
      pipeline();
    }
    const what = (name: string) => `${name} (daemon running), ${label}`;
    const nothing = () => undefined;
    // The target is Node's own start + 0.03 s, a gap smaller than this VM's drift between two
    // medians of five: so the two alternate, and the row below them is their paired gap.
    const noop = pairedMedians(pipeline, () => time(process.execPath, ['-e', '0'], pDir), 21);
    rows.push({ what: what('no-op'), tool: 'pipeline', ...noop.a });
    rows.push({ what: what('no-op'), tool: 'make', ...median5(nothing, make) });
    rows.push({ what: what('no-op'), tool: 'node -e 0 (bare start)', ...noop.b, note: `pipeline +${noop.difference.toFixed(3)} s (median of 21 paired runs)` });
    const change = (dir: string) => (i: number) => appendFileSync(path.join(dir, `in/g${i + 1}/f0.txt`), 'changed again\n');
    // In turns too: make's side of this row drifts by a fifth between two medians of five.
    let edits = 0;
    const changed = pairedMedians(
      () => (change(pDir)(edits), pipeline()),
      () => (change(mDir)(edits++), make()),
      11,
    );
    rows.push({ what: what('one input changed'), tool: 'pipeline', ...changed.a, note: `${changed.ratio.toFixed(2)}x (median of 11 paired runs)` });
    rows.push({ what: what('one input changed'), tool: 'make', ...changed.b });
    const touch = (dir: string) => (i: number) => {
      const later = new Date(Date.now() + 20_000 + i * 1000);
      for (const g of readdirSync(path.join(dir, 'in')).sort().slice(10 + i * 10, 20 + i * 10)) {
        for (const f of readdirSync(path.join(dir, 'in', g))) utimesSync(path.join(dir, 'in', g, f), later, later);
      }
    };
    rows.push({ what: what('touch-only (10 groups)'), tool: 'pipeline', ...median5(touch(pDir), pipeline) });
    rows.push({ what: what('touch-only (10 groups)'), tool: 'make', ...median5(touch(mDir), make) });
  } finally {
    time(process.execPath, [cli, 'daemon', 'stop'], pDir);
  }
  return rows;
}

async function benchHashing(totalBytes: number): Promise<Row[]> {
  const dir = path.join(root, 'hash-tree');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'tree'), { recursive: true });
  const fileSize = 32 * 1024 * 1024;
  const block = Buffer.alloc(fileSize);
  for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((i * 2654435761) >>> 0, i);
  const files: string[] = [];
  for (let i = 0; i < totalBytes / fileSize; i++) {
    block.writeUInt32LE(i, 0);
    const file = path.join(dir, 'tree', `part${i}.bin`);
    writeFileSync(file, block);
    files.push(file);
  }
  const gb = totalBytes / 1e9;
  const rows: Row[] = [];
  time('sh', ['-c', 'cat tree/* > /dev/null'], dir); // warm the page cache for both tools alike
  const sha = time('sha256sum', files, dir);
  rows.push({ what: `cold hash ${gb.toFixed(1)} GB (page cache warm)`, tool: 'sha256sum', seconds: sha.seconds });
  const start = performance.now();
  const hasher = new ContentHasher(dir, new StatCache(path.join(dir, 'no-such-dir', 'stat-cache.tsv')));
  await hasher.hash('tree');
  const seconds = (performance.now() - start) / 1000;
  await hasher.close();
  rows.push({ what: `cold hash ${gb.toFixed(1)} GB (page cache warm)`, tool: 'pipeline', seconds });
  rmSync(dir, { recursive: true, force: true });
  return rows;
}

function printTable(rows: Row[], hashBytes: number): void {
  const lines = ['| measurement | tool | seconds | stages run | vs make / sha256sum |', '|---|---|---:|---:|---:|'];
  for (const row of rows) {
    const peer = rows.find((r) => r.what === row.what && (r.tool === 'make' || r.tool === 'sha256sum'));
    const ratio = row.note ?? (peer && peer !== row ? `${(row.seconds / peer.seconds).toFixed(2)}x` : '');
    const rate = row.what.startsWith('cold hash') ? ` (${(hashBytes / 1e9 / row.seconds).toFixed(2)} GB/s)` : '';
    lines.push(`| ${row.what} | ${row.tool} | ${row.seconds.toFixed(3)}${rate} | ${row.ran ?? ''} | ${ratio} |`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

async function main(): Promise<void> {
  const bigFiles = quick ? 100_000 : 1_000_000;
  if (bigDirOnly) {
    process.stdout.write(bigDirTable(bigFiles, bigDirectory(root, bigFiles)));
    process.exit(0);
  }
  if (memoryOnly) {
    process.stdout.write(memoryTable(await trainingMemory(root, quick ? [1000, 4000] : [2000, 16000])));
    process.exit(0);
  }
  if (backbonesOnly) {
    process.stdout.write(backboneTable(await backboneThroughput()));
    process.exit(0);
  }
  if (gpuOnly) {
    process.stdout.write(gpuTable(gpuTrainingThroughput()));
    process.exit(0);
  }
  if (probeOnly) {
    process.stdout.write(probeTable(probeSolvers(path.join(root, 'probe'))));
    process.exit(0);
  }
  if (searchOnly) {
    process.stdout.write(searchTable([1000, 10_000].map((n) => searchPlanning(root, cli, n))));
  process.stderr.write('explain: 40 images against one training epoch...\n');
  const explain = explainCost(root, cli);
  process.stdout.write(explainTable(explain));
    process.exit(0);
  }
  if (s3Only) {
    process.stdout.write(transferTable(s3Transfer(root, cli)));
    process.exit(0);
  }
  if (explainOnly) {
    process.stdout.write(explainTable(explainCost(root, cli)));
    process.exit(0);
  }
  if (!has('make')) throw new Error('GNU make is needed for the comparison (apt-get install make)');
  if (has('snakemake')) process.stderr.write('snakemake found but not yet wired into this benchmark\n');
  const rows: Row[] = [];
  if (dagOnly) {
    rows.push(...benchDag({ stages: 1000, files: 10_000, layers: 5 }));
    if (!quick) rows.push(...benchDag({ stages: 10_000, files: 50_000, layers: 5 }));
    printTable(rows, 0);
    process.exit(0);
  }
  const hashBytes = quick ? 512 * 1024 * 1024 : 2 * 1024 * 1024 * 1024;
  if (!extrasOnly) {
    rows.push(...benchDag({ stages: 1000, files: 10_000, layers: 5 }));
    if (!quick) rows.push(...benchDag({ stages: 10_000, files: 50_000, layers: 5 }));
    process.stderr.write('hashing...\n');
    rows.push(...(await benchHashing(hashBytes)));
  }
  if (rows.length > 0) printTable(rows, hashBytes);
  let bigDir: ReturnType<typeof bigDirectory> = [];
  let memory: Awaited<ReturnType<typeof trainingMemory>> = [];
  if (!extrasOnly) {
    process.stderr.write(`a directory dep of ${bigFiles} files...\n`);
    bigDir = bigDirectory(root, bigFiles);
    process.stdout.write(bigDirTable(bigFiles, bigDir));
    process.stderr.write('training memory against data set size...\n');
    memory = await trainingMemory(root, quick ? [1000, 4000] : [2000, 16000]);
    process.stdout.write(memoryTable(memory));
  }
  if (!trainingOnly) process.stderr.write('watch latency and remote throughput...\n');
  const extras = trainingOnly ? [] : [...(await watchLatency(path.join(root, 'watch'), 7)), ...remoteThroughput(path.join(root, 'remote'), quick ? 8 : 20, 25)];
  const lines = ['', '| measurement | tool | seconds | |', '|---|---|---:|---|'];
  for (const row of extras) lines.push(`| ${row.what} | ${row.tool} | ${row.seconds.toFixed(3)} | ${row.note ?? ''} |`);
  if (extras.length > 0) process.stdout.write(lines.join('\n') + '\n');
  process.stderr.write('training throughput...\n');
  const training = await trainingThroughput();
  const torch = training.find((r) => r.backend.startsWith('PyTorch'))?.imagesPerSecond;
  const t = ['', '| training, SimpleCNN 64 px, batch 32 | images/s | vs PyTorch CPU | |', '|---|---:|---:|---|'];
  for (const r of training) t.push(`| ${r.backend} | ${Number.isNaN(r.imagesPerSecond) ? 'n/a' : r.imagesPerSecond.toFixed(1)} | ${torch && !Number.isNaN(torch) && !Number.isNaN(r.imagesPerSecond) ? (r.imagesPerSecond / torch).toFixed(2) + 'x' : ''} | ${r.note} |`);
  process.stdout.write(t.join('\n') + '\n');
  process.stdout.write(probeTable(probeSolvers(path.join(root, 'probe'))));
  process.stdout.write(searchTable([1000, 10_000].map((n) => searchPlanning(root, cli, n))));
  process.stderr.write('explain: 40 images against one training epoch...\n');
  const explain = explainCost(root, cli);
  process.stdout.write(explainTable(explain));
  process.stderr.write('S3 push/pull beside the AWS CLI and curl...\n');
  const s3 = s3Transfer(root, cli);
  process.stdout.write(transferTable(s3));
  process.stderr.write('pretrained backbones at 224 px...\n');
  const backbones = await backboneThroughput();
  process.stdout.write(backboneTable(backbones));
  process.stderr.write('GPU training throughput (WebGPU beside PyTorch)...\n');
  const gpu = gpuTrainingThroughput();
  process.stdout.write(gpuTable(gpu));
  // --training-only skips every part that makes the work folder.
  mkdirSync(root, { recursive: true });
  writeFileSync(path.join(root, 'results.json'), JSON.stringify({ rows, bigDir, memory, extras, training, explain, s3, backbones, gpu }, null, 2));
  process.exit(0);
}

await main();
