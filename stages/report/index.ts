import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { confusion, rocCurve } from '../metrics/metrics.js';
import { samplePath } from '../runtime/manifest.js';
import { correctedPairedTTest, holm, mean } from '../metrics/stats.js';
import { datasetSummary, PRIMARY, type DatasetSummary } from '../runtime/dataset-task.js';
import type { BuiltinStage } from '../runtime/stage.js';
import { declaration } from './declaration.js';
import { readStudy, type StudyInfo } from '../runtime/study.js';
import { experimentsWithTargets } from './target-experiments.js';
import { probeVerdict } from './probe.js';
import { costSection } from './cost-section.js';
import { explainSection, readExplanations, shareCell } from './explain-section.js';
import { initBackend } from '../train/backend.js';
import { pretrainingResults, pretrainingVerdict } from './pretraining.js';
import { sufficiencySection } from './sufficiency-section.js';
import { sweepSection } from './sweep-section.js';
import { readSearches, searchSection } from './search-section.js';
import { compareSection } from './compare-section.js';
import { balanceSection } from './balance-section.js';
import { exclusionSection } from './exclusion-section.js';
import { groupSection, type GroupRequest } from './group-section.js';
import type { ComparedResults } from '../metrics/compare.js';
import { hardestErrors, imageTag, readOof } from './run-files.js';
import { propertySection } from './property-section.js';
import { taskSection, type TaskResult } from './task-section.js';
import { aspectStrip, aucBars, learningCurves, perSourceBars, rocCurves, scalingCurves, toSvg } from './charts.js';
import { esc } from './html.js';

interface Stat {
  mean: number;
  std: number;
  lo: number;
  hi: number;
  values: number[];
}

interface Result {
  experiment: string;
  metrics: Record<string, Stat>;
  per_source_auc: Record<string, Stat>;
  per_source_auc_variance: number;
  train_val_gap: Stat;
  best_epochs: number[];
  backend: string;
  /** n_test / n_train of the folds (the Nadeau-Bengio correction); absent in results of older aggregates. */
  test_train_ratio?: number | null;
  intervals?: string;
  /** The resolved params, when the experiment was made from values (`set:`, a search) rather than a config file. */
  params?: Record<string, unknown>;
}

/** Dotted leaves of a params tree. */
function flatParams(tree: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  return Object.fromEntries(Object.entries(tree).flatMap(([k, v]) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.entries(flatParams(v as Record<string, unknown>, `${prefix}${k}.`)) : [[`${prefix}${k}`, v]])));
}

/**
 * The params that differ between a phase's experiments made from values (a `set:` sweep): what
 * each one sets, shown beside its label (`model.width 8, data.fraction 0.25`).
 */
function variedParams(all: (Record<string, unknown> | undefined)[]): (params: Record<string, unknown> | undefined) => string {
  const flats = all.filter((p): p is Record<string, unknown> => p !== undefined).map((p) => flatParams(p));
  const keys = flats.length < 2 ? [] : [...new Set(flats.flatMap((f) => Object.keys(f)))].filter((k) => new Set(flats.map((f) => JSON.stringify(f[k]))).size > 1).sort();
  return (params) => (params && keys.length ? keys.map((k) => `${k} ${JSON.stringify(flatParams(params)[k])}`).join(', ') : '');
}

const f3 = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(3));
const ci = (s: Stat | undefined) => (s ? `${f3(s.mean)} [${f3(s.lo)}, ${f3(s.hi)}]` : 'n/a');

function readHistory(runsDir: string): { epoch: number; val_auc: number; train_auc: number }[][] {
  // One target of several (`exp:target`) has no curve of its own: its run's history is the weighted loss's.
  if (!existsSync(runsDir) || path.basename(runsDir).includes(':')) return [];
  return readdirSync(runsDir)
    .sort()
    .filter((fold) => existsSync(path.join(runsDir, fold, 'history.json')))
    .map((fold) => JSON.parse(readFileSync(path.join(runsDir, fold, 'history.json'), 'utf8')) as { epoch: number; val_auc: number; train_auc: number }[]);
}

/**
 * One self-contained HTML page (inline SVG charts from Vega-Lite, inline images) plus
 * Markdown. Result-gated: every experiment config appears; one without results is listed as
 * missing and never given numbers.
 */
export const report: BuiltinStage = {
  declaration,
  async run(ctx) {
    const resultsDir = ctx.inputs.results;
    const edaDir = ctx.inputs.eda;
    const configsDir = ctx.inputs.configs;
    const runsRoot = ctx.inputs.runs;
    const dataDir = ctx.inputs.dataset;
    const out = ctx.outputs.report;
    const { study, results: read } = experimentsWithTargets(readStudy(configsDir), resultsDir);
    const since = ctx.inputs.since ? (JSON.parse(readFileSync(ctx.inputs.since, 'utf8')) as SinceDiff) : undefined;
    const sinceLabel = String(ctx.options.since ?? 'the compared revision');
    const results = new Map<string, Result>();
    const taskResults = new Map<string, TaskResult>();
    for (const s of study) {
      if (!read.has(s.name)) continue;
      const result = read.get(s.name) as Result | TaskResult;
      // Multi-class and regression experiments get their own section; the phases compare binary ones.
      if ('task' in result && (result.task === 'multiclass' || result.task === 'regression')) taskResults.set(s.name, result);
      else results.set(s.name, result as Result);
    }
    const eda = JSON.parse(readFileSync(path.join(edaDir, 'eda.json'), 'utf8')) as {
      images: number;
      counts: { by_label: Record<string, number>; by_source: Record<string, number> };
      groups: number;
      shortcut: { finding: string; risk: boolean };
      grids: Record<string, string>;
      aspect_by_label: { label: string; aspect: number }[];
      duplicates: string[][];
      unreadable: string[];
    };
    const comparisons = compareWithBaselines(study, results, taskResults);
    const explanations = readExplanations(ctx.inputs.explain, study.map((s) => s.name));
    const html: string[] = [];
    const names = classNames(dataDir);
    const title = names ? `${names.positive} vs ${names.negative}: study report` : (otherTaskTitle(dataDir) ?? 'Real vs fake faces: study report');
    const md: string[] = [`# ${title}`, ''];
    const missing = study.filter((s) => !results.has(s.name) && !taskResults.has(s.name));
    const withResults = results.size + taskResults.size;
    html.push(`<h1>${esc(title)}</h1>`);
    html.push(`<p>${study.length} experiments in <code>${esc(configsDir)}</code>; ${withResults} with results${missing.length ? `; <b>missing</b>: ${missing.map((m) => esc(m.name)).join(', ')}` : ''}. Every experiment uses the same ${Object.keys(results.values().next().value?.metrics.auc.values ?? [0]).length}-fold group-aware split.</p>`);
    md.push(`${study.length} experiments; ${withResults} with results${missing.length ? `; missing: ${missing.map((m) => m.name).join(', ')}` : ''}.`, '');

    html.push('<h2>Data</h2>');
    html.push(`<p>${eda.images} images of ${eda.groups} ${names ? 'groups' : 'identities'}; by label ${Object.entries(eda.counts.by_label).map(([k, v]) => `${k}: ${v}`).join(', ')}; by source ${Object.entries(eda.counts.by_source).map(([k, v]) => `${k}: ${v}`).join(', ')}. ${eda.duplicates.length} exact duplicate sets, ${eda.unreadable.length} unreadable files.</p>`);
    html.push(`<p class="${eda.shortcut.risk ? 'warn' : ''}"><b>Shortcut check:</b> ${esc(eda.shortcut.finding)}</p>`);
    html.push(`<div class="chart">${await toSvg(aspectStrip(eda.aspect_by_label))}</div>`);
    for (const [source, file] of Object.entries(eda.grids)) {
      const png = readFileSync(path.join(edaDir, file));
      html.push(`<p>${esc(source)}<br><img src="data:image/png;base64,${png.toString('base64')}" alt="samples of ${esc(source)}"></p>`);
    }
    md.push('## Data', '', `${eda.images} images, ${eda.groups} ${names ? 'groups' : 'identities'}. Shortcut check: ${eda.shortcut.finding}`, '');
    const byRule = exclusionSection(dataDir);
    html.push(...byRule.html);
    md.push(...byRule.md);

    const ratios = [...results.values()].map((r) => r.test_train_ratio).filter((v): v is number => typeof v === 'number');
    const methods =
      `Intervals: 95% t intervals over the folds, on the logit scale for metrics bounded by [0, 1] (AUC, PR-AUC, accuracy, F1), so they stay inside it. ` +
      `Comparisons: Δ AUC against each experiment's baseline over the same folds, tested with Nadeau and Bengio's corrected resampled t-test ` +
      `(the folds' training sets overlap, so the paired t-test's variance is scaled by 1/k + n_test/n_train${ratios.length ? `, n_test/n_train = ${f3(ratios[0])}` : ''}); ` +
      `p (Holm) adjusts those p-values for the ${comparisons.size} comparisons in this report. Accuracy, balanced accuracy and F1 use each fold's own threshold, chosen on its training predictions (Youden's J: the training ROC's point furthest above the diagonal), never on the images they score.`;
    html.push(`<p class="methods">${esc(methods)}</p>`);
    md.push(methods, '');

    // Probes of a multi-class or regression target sit in that task's section, not in the binary phases.
    const probes = study.filter((s) => s.probe && !taskResults.has(s.name));
    const binary = study.filter((s) => !s.probe && !taskResults.has(s.name));
    for (const phase of [...new Set(binary.map((s) => s.phase))]) {
      const networks = binary.filter((s) => s.phase === phase);
      const members = [...networks, ...probes];
      html.push(`<h2>Phase ${phase}</h2>`);
      md.push(`## Phase ${phase}`, '');
      const header = ['experiment', 'question', 'setting', 'AUC [95% CI]', 'Δ AUC vs baseline', 'p (corrected t)', 'p (Holm)', 'PR-AUC', 'accuracy', 'balanced acc.', 'F1', 'log loss', 'train-val gap', ...(explanations.size ? ['inside the face [95% CI]'] : []), ...(since ? [`AUC since ${sinceLabel}`] : [])];
      html.push(`<table><tr>${header.map((h) => `<th>${h}</th>`).join('')}</tr>`);
      md.push(`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`);
      const varied = variedParams(members.map((s) => results.get(s.name)?.params));
      for (const s of members) {
        const r = results.get(s.name);
        const setting = varied(r?.params) ? `${s.label} (${varied(r?.params)})` : s.label;
        const base = s.baseline ? results.get(s.baseline) : undefined;
        let cells: string[];
        if (!r) {
          cells = [s.name, s.question, setting, 'missing (no results)', '', '', '', '', '', '', '', '', '', ...(explanations.size ? [''] : []), ...(since ? [''] : [])];
        } else {
          const delta = base ? r.metrics.auc.mean - base.metrics.auc.mean : undefined;
          const test = comparisons.get(s.name);
          cells = [
            s.name,
            s.question,
            setting,
            ci(r.metrics.auc),
            delta === undefined ? (s.baseline ? 'baseline missing' : '—') : `${delta >= 0 ? '+' : ''}${delta.toFixed(3)} vs ${s.baseline}`,
            test ? test.p.toFixed(3) : '—',
            test ? test.holm.toFixed(3) : '—',
            f3(r.metrics.pr_auc.mean),
            f3(r.metrics.accuracy.mean),
            f3(r.metrics.balanced_accuracy?.mean),
            f3(r.metrics.f1.mean),
            f3(r.metrics.log_loss.mean),
            f3(r.train_val_gap.mean),
            ...(explanations.size ? [shareCell(explanations.get(s.name)?.file.summary.face_share)] : []),
            ...(since ? [sinceCell(since, path.posix.join(resultsDir, `${s.name}.json`))] : []),
          ];
        }
        html.push(`<tr class="${r ? '' : 'missing'}">${cells.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`);
        md.push(`| ${cells.join(' | ')} |`);
      }
      html.push('</table>');
      md.push('');
      const pretraining = pretrainingVerdict(pretrainingResults(networks, comparisons));
      if (pretraining) {
        html.push(`<p class="probe"><b>${esc(pretraining)}</b></p>`);
        md.push(pretraining, '');
      }
      const auc = (s: StudyInfo) => ({ name: s.name, auc: results.get(s.name)!.metrics.auc.mean });
      for (const probe of probes.filter((p) => results.has(p.name))) {
        const verdict = probeVerdict(auc(probe), networks.filter((s) => results.has(s.name)).map(auc));
        html.push(`<p class="probe">${esc(verdict)}</p>`);
        md.push(verdict, '');
      }
      const looks = explainSection(String(phase), networks.map((s) => ({ name: s.name, auc: results.get(s.name)?.metrics.auc.mean, baseline: s.baseline, model: s.model, fraction: s.fraction })), explanations);
      html.push(...looks.html);
      md.push(...looks.md);
      const withResults = members.filter((s) => results.has(s.name));
      if (withResults.length === 0) continue;
      html.push(...(await sweepSection(networks, runsRoot)));
      html.push(`<div class="chart">${await toSvg(aucBars(withResults.map((s) => ({ experiment: s.name, auc: results.get(s.name)!.metrics.auc.mean, lo: results.get(s.name)!.metrics.auc.lo, hi: results.get(s.name)!.metrics.auc.hi })), `Phase ${phase}: ROC AUC`))}</div>`);
      const curves = withResults.flatMap((s) => {
        const histories = readHistory(path.join(runsRoot, s.name));
        const epochs = Math.max(0, ...histories.map((h) => h.length));
        return Array.from({ length: epochs }, (_, e) => {
          const at = histories.map((h) => h[e]).filter(Boolean);
          return [
            { experiment: s.name, epoch: e + 1, split: 'validation', value: at.reduce((a, h) => a + h.val_auc, 0) / at.length },
            { experiment: s.name, epoch: e + 1, split: 'training', value: at.reduce((a, h) => a + h.train_auc, 0) / at.length },
          ];
        }).flat();
      });
      html.push(`<div class="chart">${await toSvg(learningCurves(curves, `Phase ${phase}: learning curves`))}</div>`);
      const perSource = withResults.flatMap((s) => Object.entries(results.get(s.name)!.per_source_auc).map(([source, stat]) => ({ experiment: s.name, source, auc: stat.mean })));
      html.push(`<div class="chart">${await toSvg(perSourceBars(perSource, `Phase ${phase}: AUC of real vs each fake source`))}</div>`);
      const roc = withResults.flatMap((s) => {
        const oof = readOof(path.join(runsRoot, s.name));
        return rocCurve(oof.map((o) => o.label), oof.map((o) => o.prob)).map((p, order) => ({ experiment: s.name, order, ...p }));
      });
      html.push(`<div class="chart">${await toSvg(rocCurves(roc, `Phase ${phase}: ROC (pooled out-of-fold)`))}</div>`);
      html.push('<h3>Confusion matrices (pooled out-of-fold, each fold at its training threshold)</h3><div class="cms">');
      for (const s of withResults) {
        const oof = readOof(path.join(runsRoot, s.name));
        const c = confusion(oof.map((o) => o.label), oof.map((o) => o.pred), 0.5);
        html.push(`<table class="cm"><caption>${esc(s.name)}</caption><tr><th></th><th>pred real</th><th>pred fake</th></tr><tr><th>real</th><td>${c.tn}</td><td>${c.fp}</td></tr><tr><th>fake</th><td>${c.fn}</td><td>${c.tp}</td></tr></table>`);
      }
      html.push('</div>');
      const scaling = study.filter((s) => s.fraction !== undefined && results.has(s.name));
      if (members.some((s) => s.fraction !== undefined && s.fraction < 1) && scaling.length) {
        const rows = scaling.flatMap((s) => [
          { model: s.model ?? s.name, fraction: s.fraction!, source: 'all', auc: results.get(s.name)!.metrics.auc.mean },
          ...Object.entries(results.get(s.name)!.per_source_auc).map(([source, stat]) => ({ model: s.model ?? s.name, fraction: s.fraction!, source, auc: stat.mean })),
        ]);
        html.push(`<div class="chart">${await toSvg(scalingCurves(rows, `Phase ${phase}: data scaling, overall and per source`))}</div>`);
      }
    }

    if (taskResults.size) {
      html.push('<h2>Multi-class and regression experiments</h2>');
      md.push('## Multi-class and regression experiments', '');
      for (const s of study.filter((x) => taskResults.has(x.name))) {
        const section = await taskSection(taskResults.get(s.name)!, s.label, path.join(runsRoot, s.name), dataDir, s.baseline ? { baseline: s.baseline, ...comparisons.get(s.name) } : undefined);
        html.push(...section.html);
        md.push(...section.md);
      }
    }

    const timing = ctx.options.inference_ms === true ? { backend: (await initBackend()).backend } : undefined;
    const cost = await costSection(study.map((s) => s.name), runsRoot, timing);
    html.push(...cost.html);
    md.push(...cost.md);

    const balanced = balanceSection(study.map((s) => s.name), runsRoot);
    html.push(...balanced.html);
    md.push(...balanced.md);

    const sufficient = sufficiencySection(ctx.inputs.sufficiency);
    html.push(...sufficient.html);
    md.push(...sufficient.md);

    const pairs = (ctx.options.compare as [string, string][] | undefined) ?? [];
    const compared = compareSection(pairs, (name) => results.get(name) ?? (taskResults.get(name) as unknown as ComparedResults | undefined));
    html.push(...compared.html);
    md.push(...compared.md);

    const grouped = await groupSection((ctx.options.groups as GroupRequest[] | undefined) ?? [], runsRoot, dataDir, (name) => (results.has(name) ? 'binary' : taskResults.get(name)?.task));
    html.push(...grouped.html);
    md.push(...grouped.md);

    const searched = await searchSection(readSearches(ctx.inputs.searches));
    html.push(...searched.html);
    md.push(...searched.md);

    const first = study.find((s) => !s.probe && results.has(s.name));
    if (first && dataDir) {
      const oof = readOof(path.join(runsRoot, first.name));
      const errors = hardestErrors(oof, 8);
      html.push(`<h2>Hardest errors (${esc(first.name)})</h2><div class="grid">`);
      for (const e of errors) html.push(await imageTag(samplePath(dataDir, { path: e.id }), `${e.label ? (names?.positive ?? 'fake') : (names?.negative ?? 'real')} (${e.source}) p(${names?.positive ?? 'fake'})=${e.prob.toFixed(2)}`));
      html.push(errors.length ? '</div>' : '<p>No misclassified images.</p></div>');
      const options = ctx.options as { bins?: number; property_bins?: Record<string, number[]> };
      const byProperty = await propertySection(first.name, oof, dataDir, { negative: names?.negative ?? 'real', positive: names?.positive ?? 'fake' }, { bins: options.bins, edges: options.property_bins });
      html.push(...byProperty.html);
      md.push(...byProperty.md);
    }

    const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Study report</title><style>
body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}table{border-collapse:collapse;margin:1em 0;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}tr.missing td{color:#999;font-style:italic}.warn{background:#fff3cd;padding:.5em}
.chart{display:inline-block;margin:.5em}figure.pair{width:184px}figure.pair img{image-rendering:pixelated;margin-right:2px}.grid,.cms{display:flex;flex-wrap:wrap;gap:8px}figure{margin:0;font-size:11px;width:90px}table.cm{display:inline-table}
</style></head><body>
${html.join('\n')}
</body></html>
`;
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'index.html'), page);
    writeFileSync(path.join(out, 'report.md'), md.join('\n') + '\n');
    ctx.log(`report: ${withResults}/${study.length} experiments with results -> ${path.join(out, 'index.html')}`);
  },
};

/** The class names an `images` dataset recorded (dataset.json); the bundled study has none and keeps real/fake. */
function classNames(dataDir: string | undefined): { negative: string; positive: string } | undefined {
  if (!dataDir) return undefined;
  let summary: DatasetSummary;
  try {
    summary = datasetSummary(dataDir);
  } catch {
    return undefined; // an unreadable summary leaves the names real/fake, as before
  }
  if (summary.task && summary.task !== 'binary') return undefined;
  const negative = summary.classes?.find((c) => c.label === 0)?.name;
  const positive = summary.classes?.find((c) => c.label === 1)?.name;
  return negative && positive ? { negative, positive } : undefined;
}

/** A multi-class or regression dataset's title (the `images` stage records its task); undefined for binary or bundled data. */
function otherTaskTitle(dataDir: string | undefined): string | undefined {
  if (!dataDir) return undefined;
  const summary = datasetSummary(dataDir);
  if (summary.task === 'multiclass') return `${summary.classes?.length ?? ''}-class study report: ${(summary.classes ?? []).map((c) => c.name).join(', ')}`;
  if (summary.task === 'regression') return 'Regression study report';
  return undefined;
}

/** An experiment against its baseline: the corrected resampled t-test's p, Holm's adjustment, and the difference of means. */
export interface Comparison {
  p: number;
  holm: number;
  delta: number;
}

/** `pipeline metrics diff REV --json`: {file: {key: {old, new, diff}}}, only what changed. */
type SinceDiff = Record<string, Record<string, { old: number | null; new: number | null; diff?: number }>>;

/** The AUC an experiment had at the compared revision, and how it moved: `0.812 → 0.845 (+0.033)`, `unchanged`, `new`. */
function sinceCell(since: SinceDiff, resultsFile: string): string {
  const change = since[resultsFile]?.['metrics.auc.mean'];
  if (!change) return 'unchanged';
  if (change.old === null) return 'new';
  if (change.new === null) return `${change.old.toFixed(3)} → missing`;
  const d = change.diff ?? change.new - change.old;
  return `${change.old.toFixed(3)} → ${change.new.toFixed(3)} (${d >= 0 ? '+' : ''}${d.toFixed(3)})`;
}


/**
 * Every experiment against its baseline over the same folds: the corrected resampled t-test's p,
 * and Holm's adjustment across all of the report's comparisons (a reader scans them all at once).
 */
function compareWithBaselines(study: StudyInfo[], results: Map<string, Result>, taskResults: Map<string, TaskResult>): Map<string, Comparison> {
  const tests: [string, number, number][] = [];
  // Each experiment on its task's headline metric (AUC; macro AUC; MAE), against a baseline of the same task.
  const valuesOf = (name: string): { task: string; values: number[]; ratio?: number | null } | undefined => {
    const binary = results.get(name);
    if (binary) return { task: 'binary', values: binary.metrics.auc.values, ratio: binary.test_train_ratio };
    const other = taskResults.get(name);
    const stat = other?.metrics[PRIMARY[other.task].metric];
    return other && stat ? { task: other.task, values: stat.values, ratio: other.test_train_ratio } : undefined;
  };
  for (const s of study) {
    const r = valuesOf(s.name);
    const base = s.baseline ? valuesOf(s.baseline) : undefined;
    if (!r || !base || r.task !== base.task || base.values.length !== r.values.length) continue;
    const k = r.values.length;
    const ratio = r.ratio ?? 1 / Math.max(1, k - 1);
    tests.push([s.name, correctedPairedTTest(r.values, base.values, ratio).p, mean(r.values) - mean(base.values)]);
  }
  const adjusted = holm(tests.map(([, p]) => p));
  return new Map(tests.map(([name, p, delta], i) => [name, { p, holm: adjusted[i], delta }]));
}
