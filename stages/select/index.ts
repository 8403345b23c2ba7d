import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { StageError, type BuiltinStage } from '../runtime/stage.js';
import { declaration } from './declaration.js';

interface Options {
  rung: string;
  metric: string;
  mode: 'max' | 'min';
  keep: number;
  trials: Record<string, Record<string, unknown>>;
  budget?: { param: string; value: number };
}

/** One trial of a rung as the selection records it (docs/formats.md, "Search selections"). */
export interface RankedTrial {
  trial: string;
  values: Record<string, unknown>;
  /** The metric per fold, in fold-folder order. */
  folds: Record<string, number>;
  mean: number;
}

/** Every `metrics.json` below a trial's folder, by its path relative to the folder (`fold0`). */
function foldMetrics(dir: string, metric: string): Record<string, number> {
  const out: Record<string, number> = {};
  const walk = (rel: string) => {
    const abs = path.join(dir, rel);
    const file = path.join(abs, 'metrics.json');
    if (existsSync(file)) {
      const data = JSON.parse(readFileSync(file, 'utf8')) as { val?: Record<string, unknown> };
      const value = data.val?.[metric];
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw new StageError(`${file}: val.${metric} is ${JSON.stringify(value)}; search.metric names a number every fold writes (its val: ${Object.keys(data.val ?? {}).filter((k) => typeof data.val![k] === 'number').join(', ')})`);
      }
      out[rel || '.'] = value;
      return;
    }
    for (const entry of readdirSync(abs, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) if (entry.isDirectory()) walk(path.posix.join(rel, entry.name));
  };
  walk('');
  return out;
}

/** Ranks a rung's trials (ties broken by trial name, so the same runs always promote the same trials). */
export const select: BuiltinStage = {
  declaration,
  async run(ctx) {
    const options = ctx.options as unknown as Options;
    const runs = ctx.inputs.runs;
    const ranked: RankedTrial[] = Object.entries(options.trials).map(([trial, values]) => {
      const dir = path.join(runs, trial);
      if (!existsSync(dir)) throw new StageError(`${dir}: trial ${trial} of rung ${options.rung} wrote no folder`);
      const folds = foldMetrics(dir, options.metric);
      const scores = Object.values(folds);
      if (scores.length === 0) throw new StageError(`${dir}: no metrics.json below it`);
      return { trial, values, folds, mean: scores.reduce((a, b) => a + b, 0) / scores.length };
    });
    const sign = options.mode === 'max' ? -1 : 1;
    ranked.sort((a, b) => sign * (a.mean - b.mean) || a.trial.localeCompare(b.trial));
    const promoted = ranked.slice(0, Math.min(options.keep, ranked.length)).map((t) => t.trial);
    const out = ctx.outputs.selected;
    mkdirSync(path.dirname(out), { recursive: true });
    const result = { rung: options.rung, metric: options.metric, mode: options.mode, ...(options.budget ? { budget: options.budget } : {}), runs, trials: ranked, promoted };
    writeFileSync(out, JSON.stringify(result, null, 1) + '\n');
    ctx.log(`rung ${options.rung}: ${ranked.length} trials by ${options.metric} (${options.mode}); best ${ranked[0].trial} ${ranked[0].mean.toFixed(4)}; promoted ${promoted.length}`);
  },
};
