import { shellQuote, stringify } from '../interpolate.js';
import { flattenParams, isPlainObject } from '../params.js';

/**
 * DVC's dictionary unpacking in `cmd:` (dvc.org, "Dictionary unpacking"): `${train}` with
 * `{epochs: 10, opt: {lr: 0.1}, aug: true, dropout: false, layers: [2, 4]}` becomes
 * `--epochs 10 --opt.lr 0.1 --aug --layers 2 4`, with DVC's defaults parsing.bool: store_true
 * (false is left out) and parsing.list: nargs. Any other value reads as DVC writes it, unquoted.
 */
export function dvcCommandText(value: unknown): string {
  if (!isPlainObject(value)) return stringify(value);
  const words: string[] = [];
  for (const [key, leaf] of Object.entries(flattenParams(value))) {
    if (isPlainObject(leaf)) continue; // an empty mapping: nothing to pass
    if (typeof leaf === 'boolean') {
      if (leaf) words.push(`--${key}`);
    } else if (Array.isArray(leaf)) {
      if (leaf.length) words.push(`--${key}`, ...leaf.map(word));
    } else {
      words.push(`--${key}`, word(leaf));
    }
  }
  return words.join(' ');
}

function word(value: unknown): string {
  if (value === null) return 'None';
  return typeof value === 'string' ? shellQuote(value) : stringify(value);
}
