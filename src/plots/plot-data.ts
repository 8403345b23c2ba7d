import { readFileSync } from 'node:fs';
import path from 'node:path';
import jsYaml from 'js-yaml';
import { read } from 'vega';
import { UserError } from '../errors.js';
import { isPlainObject } from '../spec/params.js';

export type Row = Record<string, unknown>;

/**
 * The rows of a plot data file as DVC reads them: CSV/TSV with a header, or JSON/YAML holding a
 * list of records (or a mapping with one such list, dvclive's shape).
 */
export function readPlotData(file: string, projectDir: string): Row[] {
  let text: string;
  try {
    text = readFileSync(path.join(projectDir, file), 'utf8');
  } catch {
    throw new UserError(`plot data ${file} does not exist yet: run the stage that writes it`);
  }
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv' || ext === '.tsv') return read(text, { type: ext.slice(1) as 'csv' | 'tsv', parse: 'auto' }) as Row[];
  let data: unknown;
  try {
    data = ext === '.json' ? JSON.parse(text) : jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA });
  } catch (error) {
    throw new UserError(`plot data ${file} is not valid ${ext === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`);
  }
  const list = Array.isArray(data) ? data : isPlainObject(data) ? Object.values(data).find(Array.isArray) : undefined;
  if (!list || !list.every(isPlainObject)) throw new UserError(`plot data ${file}: expected a list of records (CSV/TSV with a header, or a JSON/YAML list of mappings)`);
  return list as Row[];
}
