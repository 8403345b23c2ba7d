import { readFileSync } from 'node:fs';
import path from 'node:path';
import picomatch from 'picomatch';
import type { Workspace } from '../run/workspace.js';
import { flatScalars, metricsFilesOf, parseMetrics, type Scalar } from './metrics-files.js';

/** One stage instance that has metrics: what it used and what it got. */
export interface ExpRow {
  id: string;
  stage: string;
  params: Record<string, Scalar>;
  metrics: Record<string, Scalar>;
}

export interface ExpShowOptions {
  /** `KEY` (descending) or `KEY:asc`; a metric key, else a param key. */
  sort?: string;
  onlyChanged?: boolean;
  /** Globs over param / metric keys (`train.*`, `val.*`). */
  params?: string[];
  metrics?: string[];
}

/** Rows for the selected instances that have metrics files in the workspace. */
export function expRows(ws: Workspace, selected: Set<string>): ExpRow[] {
  const rows: ExpRow[] = [];
  for (const instance of ws.project.instances) {
    if (!selected.has(instance.id)) continue;
    const files = metricsFilesOf(instance);
    if (files.length === 0) continue;
    const metrics: Record<string, Scalar> = {};
    for (const file of files) {
      let text: string;
      try {
        text = readFileSync(path.resolve(ws.project.dir, file), 'utf8');
      } catch {
        continue; // not built yet: the row shows its params and no metrics
      }
      const prefix = files.length > 1 ? `${path.posix.basename(file)}:` : '';
      for (const [key, value] of Object.entries(parseMetrics(text, file))) metrics[prefix + key] = value;
    }
    rows.push({ id: instance.id, stage: instance.stage, params: flatScalars(instance.params), metrics });
  }
  return rows;
}

/** The columns to show, after the user's globs and --only-changed; then the rows sorted. */
export function shape(rows: ExpRow[], options: ExpShowOptions): { rows: ExpRow[]; params: string[]; metrics: string[] } {
  const keys = (pick: (r: ExpRow) => Record<string, Scalar>, globs: string[] | undefined) => {
    let all = [...new Set(rows.flatMap((r) => Object.keys(pick(r))))].sort();
    if (globs?.length) {
      const match = picomatch(globs);
      all = all.filter((k) => match(k));
    }
    if (options.onlyChanged) all = all.filter((k) => new Set(rows.map((r) => JSON.stringify(pick(r)[k] ?? null))).size > 1);
    return all;
  };
  const params = keys((r) => r.params, options.params);
  const metrics = keys((r) => r.metrics, options.metrics);
  let sorted = rows;
  if (options.sort) {
    const [key, order] = options.sort.split(':');
    const value = (r: ExpRow) => (key in r.metrics ? r.metrics[key] : r.params[key]);
    const sign = order === 'asc' ? 1 : -1;
    sorted = [...rows].sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      if (va === undefined || va === null) return 1;
      if (vb === undefined || vb === null) return -1;
      return (va < vb ? -1 : va > vb ? 1 : 0) * sign;
    });
  }
  return { rows: sorted, params, metrics };
}

export function cell(value: Scalar | undefined): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  return String(value);
}
