import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { discover } from '../../stages/images/discover.js';
import { CONVENTIONAL_POSITIVE, type Task } from '../../stages/images/task.js';
import { StageError } from '../../stages/runtime/stage.js';
import { UserError } from '../errors.js';
import { GITIGNORE_LINES, pipelineYaml, studyConfigs, type StudyTemplate } from '../init/templates.js';
import { bold, dim, green } from '../ui/format.js';

export interface InitOptions {
  images?: string;
  positive?: string;
  facecrop?: boolean;
  force?: boolean;
  /** tfjs (the built-in trainer) or pytorch (a train.py of the researcher's, from templates/pytorch). */
  trainer?: string;
}

export const TRAINERS = ['tfjs', 'pytorch'] as const;

/** The package's own copy of the bundled demo study (pipeline.yaml + configs/). */
const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * `pipeline init`: a study in the current directory, on the user's images (`--images`) or the
 * bundled demo. Never overwrites a file unless --force: it checks every target first and writes
 * nothing when one exists. An existing .gitignore gets the missing lines appended.
 */
export function initCommand(options: InitOptions, cwd = process.cwd()): number {
  const files = options.images ? studyFiles(options, cwd) : demoFiles();
  if (!options.force) {
    const existing = Object.keys(files).filter((rel) => existsSync(path.join(cwd, rel)));
    if (existing.length) {
      throw new UserError(`${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; nothing was written (pass --force to overwrite)`);
    }
  }
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(cwd, rel)), { recursive: true });
    if (typeof content === 'string') writeFileSync(path.join(cwd, rel), content);
    else cpSync(content.copyFrom, path.join(cwd, rel));
  }
  const gitignore = path.join(cwd, '.gitignore');
  const had = existsSync(gitignore) ? readFileSync(gitignore, 'utf8') : '';
  const missing = GITIGNORE_LINES.filter((line) => !had.split(/\r?\n/).includes(line));
  if (missing.length) writeFileSync(gitignore, had + (had && !had.endsWith('\n') ? '\n' : '') + missing.join('\n') + '\n');
  process.stdout.write(`${green('✓')} wrote ${Object.keys(files).join(', ')}${missing.length ? `, .gitignore (${had ? 'added ' : ''}${missing.join(' ')})` : ''}\n`);
  process.stdout.write(`\nnext:\n  ${bold('npx pipeline run report')}     ${dim('# builds everything; then open outputs/report/index.html')}\n`);
  process.stdout.write(`  ${bold('npx pipeline dag')}            ${dim('# the stages and how they connect')}\n`);
  process.stdout.write(`  ${bold('npx pipeline status')}         ${dim('# after an edit: what is stale, and why')}\n`);
  return 0;
}

type FileContent = string | { copyFrom: string };

function studyFiles(options: InitOptions, cwd: string): Record<string, FileContent> {
  const images = options.images!;
  const abs = path.resolve(cwd, images);
  if (!existsSync(abs)) throw new UserError(`--images ${images}: no such folder or CSV (a folder <class>/[<source>/]*.jpg, or a CSV path,label[,source,group])`);
  const rel = path.relative(cwd, abs).split(path.sep).join('/') || '.';
  const counts = new Map<string, number>();
  const { candidates } = discoverOrExplain(abs);
  for (const c of candidates) counts.set(c.label, (counts.get(c.label) ?? 0) + 1);
  const classes = [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => (a.name < b.name ? -1 : 1));
  const listing = classes.map((c) => `${c.name} (${c.count})`).join(', ') || 'none';
  // Two classes: binary; more: multi-class; numeric labels (a CSV): regression; one: nothing to
  // learn. Folders are classes even when their names are numbers (digits sorted into 0/ ... 9/).
  const numeric = statSync(abs).isFile() && classes.length > 2 && classes.every((c) => c.name.trim() !== '' && Number.isFinite(Number(c.name)));
  const task: Task = options.positive !== undefined || classes.length === 2 ? 'binary' : numeric ? 'regression' : 'multiclass';
  if (classes.length < 2) {
    const kind = statSync(abs).isDirectory() ? 'class folders' : 'labels';
    throw new UserError(`--images ${images}: found ${classes.length} ${kind}: ${listing}; a study needs two or more classes (or a numeric label column for regression)`);
  }
  let positive: string | undefined;
  if (task === 'binary') {
    if (classes.length !== 2) throw new UserError(`--positive makes a binary study, and ${images} has ${classes.length} classes: ${listing}; leave --positive out for a multi-class study`);
    positive = options.positive ?? classes.find((c) => CONVENTIONAL_POSITIVE.includes(c.name.toLowerCase()))?.name;
    if (!positive) throw new UserError(`--images ${images}: two classes, ${listing}; say which one to detect: --positive ${classes[1].name}`);
    if (!counts.has(positive)) throw new UserError(`--positive ${positive}: not one of the classes in ${images} (${listing})`);
  }
  const files = statSync(abs).isDirectory() ? undefined : imagesFolder(candidates.map((c) => c.abs), cwd);
  const trainer = options.trainer ?? 'tfjs';
  if (!(TRAINERS as readonly string[]).includes(trainer)) throw new UserError(`--trainer ${trainer}: one of ${TRAINERS.join(', ')}`);
  const python = trainer === 'pytorch' ? torchInterpreter() : undefined;
  const template: StudyTemplate = { images: rel, ...(files ? { files } : {}), task, ...(positive ? { positive } : {}), classes, facecrop: Boolean(options.facecrop), trainer: trainer as StudyTemplate['trainer'], ...(python ? { python } : {}) };
  if (task === 'regression') {
    const values = candidates.map((c) => Number(c.label));
    process.stdout.write(`found a numeric target in ${rel}: ${candidates.length} images, from ${Math.min(...values)} to ${Math.max(...values)}: a regression study\n`);
  } else {
    process.stdout.write(`found ${classes.length} classes in ${rel}: ${classes.map((c) => `${c.name} (${c.count}${c.name === positive ? ', positive' : ''})`).join(', ')}${task === 'multiclass' ? ': a multi-class study' : ''}\n`);
  }
  const written: Record<string, FileContent> = { 'pipeline.yaml': pipelineYaml(template), ...studyConfigs(template) };
  if (trainer === 'pytorch') written['train.py'] = { copyFrom: path.join(packageRoot, 'templates/pytorch/train.py') };
  return written;
}

/**
 * The python that imports torch and torchvision: python3 on PATH (written as nothing: the
 * default), else Debian's /usr/bin/python3 behind a pyenv or conda shim (written as
 * with.python). Neither: a note, and the default, for the researcher's environment to provide.
 */
function torchInterpreter(): string | undefined {
  const imports = (python: string) => spawnSync(python, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0;
  if (imports('python3')) return undefined;
  if (existsSync('/usr/bin/python3') && imports('/usr/bin/python3')) return '/usr/bin/python3';
  process.stdout.write(`${dim('note: no python3 here imports torch and torchvision; train.py needs them (pip install torch torchvision, or apt-get install python3-torchvision), or set with.python in pipeline.yaml')}
`);
  return undefined;
}

/** The images stage's reading of the folder or CSV; its complaints (a path leaving the CSV's folder, a bad header) are the user's to fix, so they print as errors, not crashes. */
function discoverOrExplain(abs: string): ReturnType<typeof discover> {
  try {
    return discover(abs);
  } catch (error) {
    if (error instanceof StageError) throw new UserError(error.message);
    throw error;
  }
}

/**
 * The folder a CSV's images share, as a dep: the deepest common parent, unless that is the
 * project itself or above it (a dep cannot be the whole project), in which case none.
 */
function imagesFolder(files: string[], cwd: string): string | undefined {
  if (files.length === 0) return undefined;
  let common = path.dirname(path.resolve(files[0]));
  for (const file of files) while (!path.resolve(file).startsWith(common + path.sep)) common = path.dirname(common);
  if (!path.relative(common, cwd).startsWith('..')) return undefined; // the project itself, or above it
  return path.relative(cwd, common).split(path.sep).join('/');
}

/** The bundled demo study, as the package ships it (its schema comment pointed at node_modules). */
function demoFiles(): Record<string, FileContent> {
  const spec = readFileSync(path.join(packageRoot, 'pipeline.yaml'), 'utf8').replace('$schema=./schema/pipeline.schema.json', '$schema=node_modules/pipeline/schema/pipeline.schema.json');
  const files: Record<string, FileContent> = { 'pipeline.yaml': spec };
  const walk = (rel: string) => {
    for (const entry of readdirSync(path.join(packageRoot, rel), { withFileTypes: true })) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else files[child] = { copyFrom: path.join(packageRoot, child) };
    }
  };
  walk('configs');
  return files;
}
