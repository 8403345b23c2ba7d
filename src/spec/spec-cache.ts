import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../fs-atomic.js';
import { ProjectLayout } from '../store/layout.js';
import { sha256Text } from '../hash/sha256.js';
import { UserError } from '../errors.js';
import { schemaText, validateSpecSchema, type SpecKind } from './schema.js';
import { refuseUnsupportedDvc } from './dvc/unsupported.js';
import { YamlSource } from './yaml-source.js';

/**
 * Reads and schema-checks pipeline.yaml, remembering the result in `.pipeline/spec.json` keyed
 * by the hash of the spec text and the schema. A 10,000-stage spec parses in about a second;
 * a no-op run should not pay that for a file that has not changed since it last passed.
 */
export function readValidatedSpec(specAbs: string, displayName: string, stateDir: string, kind: SpecKind): YamlSource {
  let text: string;
  try {
    text = readFileSync(specAbs, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(code === 'ENOENT' ? `file not found (run pipeline in the directory holding ${displayName}, or pass -f PATH)` : `cannot read file (${code})`, { file: displayName });
  }
  const cacheFile = new ProjectLayout(stateDir).state('spec.json');
  const fingerprint = sha256Text(schemaText(kind) + '\0' + text);
  try {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as { fingerprint: string; data: unknown };
    if (cached.fingerprint === fingerprint) return YamlSource.fromParsed(text, displayName, cached.data);
  } catch {
    // No usable cache: parse below.
  }
  const source = YamlSource.parse(text, displayName);
  if (kind === 'dvc.yaml') refuseUnsupportedDvc(source);
  validateSpecSchema(source, kind);
  try {
    writeFileAtomic(cacheFile, JSON.stringify({ fingerprint, data: source.data }));
  } catch {
    // A read-only checkout still works, just without the shortcut.
  }
  return source;
}
