import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { DEFAULT_PARSING, type ParsingConfig } from './unpack.js';

/** The `[parsing]` section of a DVC repository's `.dvc/config` (then `config.local`, which wins), as DVC reads it. */
export function parsingConfig(repoRoot: string): ParsingConfig {
  const parsing: ParsingConfig = { ...DEFAULT_PARSING };
  for (const name of ['config', 'config.local']) {
    const file = path.join(repoRoot, '.dvc', name);
    if (!existsSync(file)) continue;
    let section = '';
    readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .forEach((raw, index) => {
        const line = raw.replace(/[#;].*$/, '').trim();
        const header = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
        if (header) section = header[1].replace(/^'|'$/g, '').trim();
        const pair = /^([\w.-]+)\s*=\s*(.*)$/.exec(line);
        if (!pair || section !== 'parsing') return;
        const [, key, value] = pair;
        const where = { file: path.posix.join('.dvc', name), line: index + 1 };
        if (key === 'bool') {
          if (value !== 'store_true' && value !== 'boolean_optional') throw new UserError(`parsing.bool must be store_true or boolean_optional (got ${value})`, where);
          parsing.bool = value;
        } else if (key === 'list') {
          if (value !== 'nargs' && value !== 'append') throw new UserError(`parsing.list must be nargs or append (got ${value})`, where);
          parsing.list = value;
        }
      });
  }
  return parsing;
}
