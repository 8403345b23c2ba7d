import path from 'node:path';
import { UserError, type Where } from '../errors.js';
import type { PlotDefinition } from './model.js';
import { isPlainObject } from './params.js';

/**
 * A plot as DVC defines one (dvc.org, dvc.yaml "Plots"): a data file, or an id with `y` naming
 * fields (`y: loss`, `y: [loss, acc]`) or files and their fields (`y: { a.csv: loss }`), `x`
 * likewise, and a template. Paths are relative to `base` (the spec's folder or a stage's wdir).
 */
export function parsePlotEntry(entry: unknown, base: string, where: Where): PlotDefinition {
  const rel = (file: string) => path.posix.normalize(path.posix.join(base, file));
  if (typeof entry === 'string') return { id: rel(entry), template: 'linear', y: { [rel(entry)]: [] } };
  const [id, given] = isPlainObject(entry) ? (Object.entries(entry)[0] ?? []) : [];
  if (id === undefined || (given !== null && !isPlainObject(given))) throw new UserError('a plot is a data file, or { id: { x, y, template, ... } }', where);
  const options = given ?? {};
  const fields = (value: unknown): string[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);
  const y: Record<string, string[]> = {};
  if (isPlainObject(options.y)) for (const [file, named] of Object.entries(options.y)) y[rel(file)] = fields(named);
  else y[rel(id)] = fields(options.y);
  const definition: PlotDefinition = { id: isPlainObject(options.y) ? id : rel(id), template: typeof options.template === 'string' ? options.template : 'linear', y };
  const x = isPlainObject(options.x) ? Object.values(options.x)[0] : options.x;
  if (x !== undefined && x !== null) definition.x = String(x);
  for (const key of ['title', 'x_label', 'y_label'] as const) if (typeof options[key] === 'string') definition[key] = options[key];
  return definition;
}
