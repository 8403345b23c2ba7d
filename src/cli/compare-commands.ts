import type { Command } from 'commander';
import type { MetricsDiff, ParamsDiff } from '../compare/diff.js';
import type { ExpShowOptions } from '../compare/exp-show.js';
import type { Scalar } from '../compare/metrics-files.js';
import { dim, yellow } from '../ui/format.js';
import { open, type Common } from './common.js';

type Format = { json?: boolean; md?: boolean; csv?: boolean };

/** `exp show`, `params diff`, `metrics diff`: DVC's commands and shapes, reading pipeline.yaml's stages. */
export function registerCompareCommands(program: Command, setExit: (code: number) => void): void {
  const exp = program.command('exp').description('compare experiments');
  exp
    .command('show')
    .description('one row per stage instance with metrics: the params that entered its key and its metrics')
    .argument('[targets...]', 'instances to show (names, ids, globs); all when none')
    .option('--json', 'as JSON: [{id, stage, params, metrics}]')
    .option('--md', 'as a Markdown table')
    .option('--csv', 'as CSV')
    .option('--sort <key>', 'sort by a metric or param (descending; KEY:asc for ascending)')
    .option('--only-changed', 'leave out params and metrics that are the same in every row')
    .option('--params <globs>', 'param columns to show, comma-separated globs (train.*,model.arch)', list)
    .option('--metrics <globs>', 'metric columns to show, comma-separated globs (val.auc,val.f1)', list)
    .action(async (targets: string[], options: Format & ExpShowOptions) => {
      const { cell, expRows, shape } = await import('../compare/exp-show.js');
      const { csvTable, markdownTable, textTable } = await import('../compare/table.js');
      const ws = open(program.opts<Common>());
      const { rows, params, metrics } = shape(expRows(ws, ws.graph.matching(targets)), options);
      if (options.json) {
        process.stdout.write(JSON.stringify(rows.map((r) => ({ id: r.id, stage: r.stage, params: pick(r.params, params), metrics: pick(r.metrics, metrics) })), null, 2) + '\n');
        return;
      }
      const header = ['id', ...params, ...metrics];
      const cells = rows.map((r) => [r.id, ...params.map((k) => cell(r.params[k])), ...metrics.map((k) => cell(r.metrics[k]))]);
      if (options.csv) return void process.stdout.write(csvTable(['id', ...params.map((k) => `params.${k}`), ...metrics.map((k) => `metrics.${k}`)], cells));
      if (options.md) return void process.stdout.write(markdownTable(header, cells));
      if (rows.length === 0) return void process.stdout.write(dim('no stage instance with metrics (a metrics: file, or train/aggregate outputs) among the selected ones\n'));
      const table = textTable(header, cells, process.stdout.isTTY ? process.stdout.columns : undefined);
      process.stdout.write(table.text);
      if (table.hidden) process.stdout.write(dim(`… ${table.hidden} more columns: choose with --params/--metrics globs, drop constant ones with --only-changed, or use --csv/--json\n`));
    });

  exp
    .command('diff')
    .description('two experiments metric by metric (an aggregate\'s with.experiment, or an instance id): both values, the change, the relative change, and the corrected t-test where their folds pair')
    .argument('<a>', 'the experiment compared against (v1)')
    .argument('<b>', 'the experiment compared (v2)')
    .option('--json', 'as JSON: {a, b, changes: [{metric, a, b, change, relative, test: {p, t, folds}}]}')
    .option('--md', 'as a Markdown table')
    .action(async (a: string, b: string, options: Format) => {
      const { experimentDiff } = await import('../compare/exp-diff.js');
      const { markdownTable, textTable } = await import('../compare/table.js');
      const diff = experimentDiff(open(program.opts<Common>()), a, b);
      if (options.json) return void process.stdout.write(JSON.stringify(diff, null, 2) + '\n');
      const header = ['metric', a, b, 'change', 'relative', 'p (corrected t)'];
      const rows = diff.changes.map((c) => [c.metric, c.a.toFixed(4), c.b.toFixed(4), `${c.change >= 0 ? '+' : ''}${c.change.toFixed(4)}`, c.relative === null ? 'n/a' : `${c.relative >= 0 ? '+' : ''}${(100 * c.relative).toFixed(1)}%`, c.test ? `${c.test.p.toPrecision(3)} (${c.test.folds} folds)` : 'folds do not pair']);
      process.stdout.write(options.md ? markdownTable(header, rows) : textTable(header, rows).text);
    });

  for (const what of ['params', 'metrics'] as const) {
    program
      .command(what)
      .description(`${what} of the workspace against a git revision`)
      .command('diff')
      .description(
        what === 'params'
          ? 'params and config values that changed since REV (default HEAD): {file: {key: {old, new}}}'
          : 'metrics that changed since REV (default HEAD); old values come from the cache through the pipeline.lock committed at REV: {file: {key: {old, new, diff}}}',
      )
      .argument('[rev]', 'a commit, branch or tag', 'HEAD')
      .option('--json', "as JSON (DVC's shape)")
      .option('--md', 'as a Markdown table')
      .action(async (rev: string, options: Format) => {
        const { metricsDiff, paramsDiff } = await import('../compare/diff.js');
        const ws = open(program.opts<Common>());
        if (what === 'params') {
          await printDiff(paramsDiff(ws, rev), rev, options);
          return;
        }
        const { diff, missing } = metricsDiff(ws, rev);
        await printDiff(diff, rev, options);
        for (const m of missing) process.stderr.write(`${yellow('missing:')} ${m}\n`);
        if (missing.length) setExit(1);
      });
  }
}

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

function pick(values: Record<string, Scalar>, keys: string[]): Record<string, Scalar> {
  return Object.fromEntries(keys.filter((k) => k in values).map((k) => [k, values[k]]));
}

async function printDiff(diff: ParamsDiff | MetricsDiff, rev: string, options: Format): Promise<void> {
  const { cell } = await import('../compare/exp-show.js');
  const { markdownTable, textTable } = await import('../compare/table.js');
  if (options.json) {
    process.stdout.write(JSON.stringify(diff, null, 2) + '\n');
    return;
  }
  const withDiff = Object.values(diff).some((keys) => Object.values(keys).some((c) => 'diff' in c));
  const header = ['path', 'key', rev, 'workspace', ...(withDiff ? ['change'] : [])];
  const rows = Object.entries(diff).flatMap(([file, keys]) =>
    Object.entries(keys).map(([key, c]) => [file, key, cell(c.old), cell(c.new), ...(withDiff ? [('diff' in c && typeof c.diff === 'number') ? signed(c.diff, cell) : '-'] : [])]),
  );
  if (options.md) return void process.stdout.write(markdownTable(header, rows));
  if (rows.length === 0) return void process.stdout.write(dim(`nothing changed since ${rev}\n`));
  process.stdout.write(textTable(header, rows).text);
}

function signed(x: number, cell: (v: Scalar) => string): string {
  return (x > 0 ? '+' : '') + cell(x);
}
