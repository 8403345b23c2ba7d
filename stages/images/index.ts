import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { csvField, PROPERTY_COLUMNS } from '../runtime/manifest.js';
import { brokenRule, parseRules } from './exclusion-rules.js';
import { brisqueFeatures, brisqueScore, loadBrisqueModel, opencvGrey } from './brisque.js';
import sharp from 'sharp';
import { StageError, type BuiltinStage } from '../runtime/stage.js';
import { declaration } from './declaration.js';
import { discover, type Candidate } from './discover.js';
import { ANALYSIS_SIZE, inspect, type ImageProperties } from './inspect.js';
import { ItemMemo } from './memo.js';
import { decideTask, type TaskDecision } from './task.js';

interface ImagesOptions {
  positive?: string;
  task?: 'auto' | 'binary' | 'multiclass' | 'regression';
  classes?: string[];
  group_pattern?: string;
  strict?: boolean;
  brisque_model?: string;
  brisque_range?: string;
  /** Property -> comparison (`sharpness: "< 20"`). */
  exclude?: Record<string, string>;
}

interface Usable {
  candidate: Candidate;
  sha256: string;
  group: string;
  properties: ImageProperties;
}

/** Images inspected at once: sharp decodes on libvips's own threads. */
const CONCURRENCY = 4;

/**
 * The researcher's images as a dataset: reads each file once (per content: a memo keyed by
 * path + stat and by sha256 means adding 100 images to 50k decodes 100), excludes what cannot
 * be used with the reason, computes the properties the analyses break errors down by, and
 * writes a manifest the other built-ins read. The user's folder is only read.
 */
export const images: BuiltinStage = {
  declaration,
  async run(ctx) {
    const options = ctx.options as ImagesOptions;
    const input = ctx.inputs.images;
    const out = ctx.outputs.dataset;
    const found = discover(input, options.classes);
    const pattern = options.group_pattern ? compilePattern(options.group_pattern) : undefined;
    const memo = new ItemMemo(ctx.stageCache);
    const usable: Usable[] = [];
    const excluded = [...found.skipped];
    let done = 0;
    let decoded = 0;
    const queue = [...found.candidates];
    const worker = async () => {
      for (let c = queue.shift(); c; c = queue.shift()) {
        if (ctx.signal.aborted) return;
        const result = await inspectCandidate(c, memo, () => decoded++);
        if ('reason' in result) excluded.push({ path: c.rel, reason: result.reason });
        else usable.push({ candidate: c, sha256: result.sha256, group: groupOf(c, pattern), properties: result.properties });
        if (++done % 200 === 0 || done === found.candidates.length) ctx.progress({ images: done, of: found.candidates.length });
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    memo.save();
    if (options.brisque_model && options.brisque_range) {
      const model = loadBrisqueModel(path.resolve(options.brisque_model), path.resolve(options.brisque_range));
      let scored = 0;
      for (const u of usable) {
        // OpenCV reads the file as displayed (EXIF orientation applied), at full size.
        const { data, info } = await sharp(u.candidate.abs).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
        u.properties = { ...u.properties, brisque: Math.round(brisqueScore(brisqueFeatures(opencvGrey(data, info.width, info.height, info.channels)), model) * 1e6) / 1e6 };
        if (++scored % 50 === 0 || scored === usable.length) ctx.progress({ brisque: `${scored}/${usable.length}` });
      }
    }
    // Exclusion by rule (blur, noise, ...): listed with the rule, and counted per rule, class and source for the report.
    const rules = parseRules(options.exclude);
    const byRule: Record<string, { images: number; by_class: Record<string, number>; by_source: Record<string, number> }> = Object.fromEntries(rules.map((r) => [r.text, { images: 0, by_class: {}, by_source: {} }]));
    for (let i = usable.length - 1; i >= 0 && rules.length; i--) {
      const broken = brokenRule(usable[i].properties, rules);
      if (!broken) continue;
      const { candidate } = usable[i];
      excluded.push({ path: candidate.rel, reason: `rule ${broken.rule.text} (${broken.rule.property} ${broken.value})` });
      const count = byRule[broken.rule.text];
      count.images++;
      count.by_class[candidate.label] = (count.by_class[candidate.label] ?? 0) + 1;
      count.by_source[candidate.source] = (count.by_source[candidate.source] ?? 0) + 1;
      usable.splice(i, 1);
    }
    usable.sort((a, b) => (a.candidate.rel < b.candidate.rel ? -1 : 1));
    excluded.sort((a, b) => (a.path < b.path ? -1 : 1));
    const unreadable = excluded.filter((e) => !e.reason.startsWith('rule '));
    if (options.strict && unreadable.length) {
      throw new StageError(`strict: ${unreadable.length} files cannot be used:\n${unreadable.map((e) => `  ${e.path}: ${e.reason}`).join('\n')}`);
    }
    if (usable.length === 0) throw new StageError(`${input}: no usable images (${excluded.length} excluded)`);
    const task = decideTask(usable.map((u) => u.candidate.label), options);
    const duplicates = findDuplicates(usable);
    const warnings: string[] = [];
    const groupsFrom = found.groupsFrom ?? (pattern ? 'group_pattern' : 'one per image');
    if (groupsFrom === 'one per image') {
      warnings.push('no groups (no group column, no group_pattern): every image is its own group, so leakage across folds (the same person or scene in train and validation) cannot be checked');
    }
    for (const d of duplicates.filter((d) => d.leakage)) warnings.push(`identical images across ${d.leakage}: ${d.paths.join(', ')}`);

    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'manifest.csv'), manifestCsv(usable, task, out));
    writeFileSync(path.join(out, 'excluded.csv'), ['path,reason', ...excluded.map((e) => `${csvField(e.path)},${csvField(e.reason)}`)].join('\n') + '\n');
    const summary = {
      input,
      task: task.task,
      classes: task.classes,
      positive: task.positive ?? null,
      images: usable.length,
      groups: { from: groupsFrom, count: new Set(usable.map((u) => u.group)).size },
      excluded,
      ...(rules.length ? { excluded_by_rule: byRule } : {}),
      duplicates,
      warnings,
      properties: { analysed_at: `fitted inside ${ANALYSIS_SIZE}x${ANALYSIS_SIZE}`, columns: PROPERTY_COLUMNS },
    };
    writeFileSync(path.join(out, 'dataset.json'), JSON.stringify(summary, null, 2) + '\n');
    ctx.log(`images: ${usable.length} usable, ${excluded.length} excluded, ${decoded} decoded this run (the rest from ${ctx.stageCache}); task ${task.task}: ${task.classes.map((c) => `${c.name} (${c.count})`).join(', ')}`);
    for (const e of excluded) ctx.log(`  excluded ${e.path}: ${e.reason}`);
    for (const w of warnings) ctx.log(`  warning: ${w}`);
    if (!statSync(input).isDirectory() && !ctx.inputs.files) {
      ctx.log(`  note: the images a CSV lists are not deps of this stage: an edited image is seen when ${input} changes, or with \`pipeline run --force ${ctx.id}\`; map their folder as deps: { files: <folder> } to track them`);
    }
  },
};

async function inspectCandidate(c: Candidate, memo: ItemMemo, onDecode: () => void): Promise<{ sha256: string; properties: ImageProperties } | { reason: string }> {
  const stats = statSync(c.abs, { throwIfNoEntry: false, bigint: true });
  if (!stats) return { reason: 'file not found' };
  if (!stats.isFile()) return { reason: 'not a regular file' };
  const signature = `${stats.ino}:${stats.size}:${stats.mtimeNs}`;
  let sha256 = memo.shaOf(c.abs, signature);
  let bytes: Buffer | undefined;
  if (!sha256) {
    bytes = readFileSync(c.abs);
    sha256 = createHash('sha256').update(bytes).digest('hex');
    memo.rememberSha(c.abs, signature, sha256);
  }
  let result = memo.inspection(sha256);
  if (!result) {
    onDecode();
    result = await inspect(bytes ?? readFileSync(c.abs));
    memo.rememberInspection(sha256, result);
  }
  return result.ok ? { sha256, properties: result.properties } : { reason: result.reason };
}

function compilePattern(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (error) {
    throw new StageError(`group_pattern ${JSON.stringify(source)} is not a regular expression: ${(error as Error).message}`);
  }
}

/** The CSV's group, else group_pattern's first group (or whole match) on the file name, else the image itself. */
function groupOf(c: Candidate, pattern: RegExp | undefined): string {
  if (c.group) return c.group;
  if (pattern) {
    const match = pattern.exec(path.basename(c.rel));
    if (match) return match[1] ?? match[0];
  }
  return c.rel;
}

interface Duplicate {
  sha256: string;
  paths: string[];
  /** `classes` or `groups` when the copies straddle them (they would leak across folds or contradict a label). */
  leakage: 'classes' | 'groups' | null;
}

function findDuplicates(usable: readonly Usable[]): Duplicate[] {
  const bySha = new Map<string, Usable[]>();
  for (const u of usable) bySha.set(u.sha256, [...(bySha.get(u.sha256) ?? []), u]);
  return [...bySha.values()]
    .filter((copies) => copies.length > 1)
    .map((copies) => ({
      sha256: copies[0].sha256,
      paths: copies.map((c) => c.candidate.rel),
      leakage: new Set(copies.map((c) => c.candidate.label)).size > 1 ? 'classes' : new Set(copies.map((c) => c.group)).size > 1 ? 'groups' : null,
    }));
}

/** Paths relative to the dataset folder (absolute when the images live outside the project), so the other stages resolve them from there. */
function manifestCsv(usable: readonly Usable[], task: TaskDecision, out: string): string {
  const header = ['path', 'label', 'source', 'group', 'class', 'sha256', ...PROPERTY_COLUMNS];
  const inProject = (abs: string) => !path.relative(process.cwd(), abs).startsWith('..');
  const rows = usable.map((u) => {
    const abs = path.resolve(u.candidate.abs);
    const where = inProject(abs) ? path.relative(path.resolve(out), abs).split(path.sep).join('/') : abs;
    const p = u.properties;
    return [where, task.labelOf(u.candidate.label), u.candidate.source, u.group, u.candidate.label, u.sha256, ...PROPERTY_COLUMNS.map((c) => p[c] ?? '')]
      .map((v) => csvField(v))
      .join(',');
  });
  return [header.join(','), ...rows].join('\n') + '\n';
}
