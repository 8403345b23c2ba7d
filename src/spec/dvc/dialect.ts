import { ENTRY_AT, stringify } from '../interpolate.js';
import type { Dialect } from '../dialect.js';
import { isPlainObject } from '../params.js';
import { DEFAULT_PARSING, dvcCommandText, type ParsingConfig } from './unpack.js';

const composite = (value: unknown) => Array.isArray(value) || isPlainObject(value);

/**
 * dvc.yaml as DVC reads it: values enter commands as written (a dict unpacks into flags), instance
 * ids are DVC's (`build@us`, `train@0` for a list of mappings, `train@cnn-feature1` for a matrix,
 * `train@params0-...` for a composite matrix value), matrix values are `${item.<key>}`, and
 * the params a stage reads through `${...}` are its params.
 */
export const dvcDialect = (parsing: ParsingConfig = DEFAULT_PARSING): Dialect => ({
  name: 'dvc.yaml',
  commandText: (value) => dvcCommandText(value, parsing),
  listEntries: (items) =>
    items.some(composite)
      ? items.map((item, index) => ({ suffix: String(index), vars: { item, [ENTRY_AT]: index } }))
      : items.map((item, index) => ({ suffix: stringify(item), vars: { item, [ENTRY_AT]: index } })),
  matrixEntry: (combo) => {
    const suffix = combo.map(([key, value, index]) => (composite(value) ? `${key}${index}` : stringify(value))).join('-');
    // `${key}`: the entry's generated name, as foreach over a mapping has its key.
    return { suffix, vars: { item: Object.fromEntries(combo.map(([key, value]) => [key, value])), key: suffix } };
  },
  tracksInterpolatedParams: true,
});
