import { UserError } from '../../errors.js';
import { stringify } from '../interpolate.js';
import { flattenParams, isPlainObject } from '../params.js';

/** `.dvc/config`'s `[parsing]` section: how booleans and lists unpack. */
export interface ParsingConfig {
  bool: 'store_true' | 'boolean_optional';
  list: 'nargs' | 'append';
}

export const DEFAULT_PARSING: ParsingConfig = { bool: 'store_true', list: 'nargs' };

/** Python's shlex.quote, which DVC quotes strings with. */
export function shlexQuote(value: string): string {
  if (value === '') return "''";
  if (!/[^\w@%+=:,./-]/.test(value)) return value;
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

/**
 * DVC's dictionary unpacking in `cmd:` (dvc.org, "Dictionary unpacking"): `${train}` with
 * `{epochs: 10, opt: {lr: 0.1}, aug: true, dropout: false, layers: [2, 4]}` becomes
 * `--epochs 10 --opt.lr 0.1 --aug --layers 2 4`, with DVC's defaults parsing.bool: store_true
 * (false is left out) and parsing.list: nargs. Any other value reads as DVC writes it, unquoted.
 */
export function dvcCommandText(value: unknown, parsing: ParsingConfig = DEFAULT_PARSING): string {
  if (!isPlainObject(value)) return stringify(value);
  const words: string[] = [];
  for (const [key, leaf] of Object.entries(flattenParams(value))) {
    if (isPlainObject(leaf)) continue; // an empty mapping: nothing to pass
    if (typeof leaf === 'boolean') {
      if (leaf) words.push(`--${key}`);
      else if (parsing.bool === 'boolean_optional') words.push(`--no-${key}`);
    } else if (Array.isArray(leaf)) {
      leaf.forEach((item, n) => {
        if (Array.isArray(item) || isPlainObject(item)) throw new UserError(`Cannot interpolate nested iterable in '${key}'`);
        words.push(...(parsing.list === 'append' || n === 0 ? [`--${key}`] : []), word(item));
      });
    } else {
      words.push(`--${key}`, word(leaf));
    }
  }
  return words.join(' ');
}

function word(value: unknown): string {
  if (value === null) return 'None';
  return typeof value === 'string' ? shlexQuote(value) : stringify(value);
}
