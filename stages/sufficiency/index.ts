import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { toSvg } from '../../src/ui/svg-chart.js';
import { StageError, type BuiltinStage } from '../runtime/stage.js';
import { readStudy } from '../runtime/study.js';
import { SUFFICIENCY_METRICS } from './declaration.js';
import { declaration } from './declaration.js';
import { fitPowerLaw, inverse, powerLaw, type PowerLaw } from './fit.js';
import { sufficiencyChart } from './plot.js';

type Metric = (typeof SUFFICIENCY_METRICS)[number];

/** The contract of `sufficiency.json` (../shared/DESIGN.md, "Analyses"). */
export interface SufficiencyFile {
  metric: Metric;
  curves: {
    model: string;
    points: { n: number; value: number }[];
    params: PowerLaw;
    projection: { n: number; value: number }[];
    inverse: { target: number; n: number | null }[];
  }[];
}

interface FoldFile {
  n_train: number;
  val: Record<string, number>;
}

function foldPoints(runsDir: string, metric: Metric): { n: number; value: number }[] {
  if (!existsSync(runsDir)) return [];
  return readdirSync(runsDir)
    .sort()
    .map((fold) => path.join(runsDir, fold, 'metrics.json'))
    .filter((file) => existsSync(file))
    .map((file) => JSON.parse(readFileSync(file, 'utf8')) as FoldFile)
    .filter((f) => typeof f.n_train === 'number' && typeof f.val[metric] === 'number')
    .map((f) => ({ n: f.n_train, value: f.val[metric] }));
}

/**
 * DataEval's sufficiency analysis as a stage: per model, every fold's metric at the training-set
 * size it had (a study's nested data fractions), error = 1 - metric fitted as c * n^-m + c0,
 * projected to larger n and inverted for target values.
 */
export const sufficiency: BuiltinStage = {
  declaration,
  async run(ctx) {
    const metric = (ctx.options.metric ?? 'auc') as Metric;
    const targets = (ctx.options.targets as number[] | undefined) ?? [0.9, 0.95, 0.99];
    const study = readStudy(ctx.inputs.configs).filter((s) => !s.probe && s.model !== undefined && s.fraction !== undefined);
    if (study.length === 0) {
      throw new StageError(`${path.join(ctx.inputs.configs, 'study.yaml')}: no experiment gives \`model\` and \`fraction\`; sufficiency fits one curve per model over the data fractions its experiments train on (e.g. p4_w8_f25: { model: simple_cnn w8, fraction: 0.25 })`);
    }
    const models = [...new Set(study.map((s) => s.model!))];
    const curves: SufficiencyFile['curves'] = [];
    for (const model of models) {
      const points = study.filter((s) => s.model === model).flatMap((s) => foldPoints(path.join(ctx.inputs.runs, s.name), metric)).sort((a, b) => a.n - b.n || a.value - b.value);
      if (new Set(points.map((p) => p.n)).size < 2 || points.length < 3) {
        ctx.log(`sufficiency: ${model} skipped: ${points.length} fold results over ${new Set(points.map((p) => p.n)).size} training-set sizes (a curve needs 3 results over 2 sizes)`);
        continue;
      }
      const fit = fitPowerLaw(points.map((p) => p.n), points.map((p) => 1 - p.value));
      const params = { c: fit.c, m: fit.m, c0: fit.c0 };
      const largest = points[points.length - 1].n;
      const project = (ctx.options.project as number[] | undefined) ?? [2 * largest, 4 * largest, 10 * largest];
      curves.push({
        model,
        points,
        params,
        projection: project.map((n) => ({ n, value: 1 - powerLaw(params, n) })),
        inverse: targets.map((target) => ({ target, n: inverse(params, 1 - target) })),
      });
      ctx.log(`sufficiency ${model}: ${metric} = 1 - (${fit.c.toFixed(3)} n^-${fit.m.toFixed(3)} + ${fit.c0.toFixed(4)}); asymptote ${(1 - fit.c0).toFixed(4)}`);
    }
    if (curves.length === 0) throw new StageError('sufficiency: no model has results at two or more training-set sizes yet');
    const result: SufficiencyFile = { metric, curves };
    const out = ctx.outputs.sufficiency;
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    writeFileSync(path.join(out, 'sufficiency.json'), JSON.stringify(result, null, 1) + '\n');
    writeFileSync(path.join(out, 'sufficiency.svg'), await toSvg(sufficiencyChart(result)));
  },
};
