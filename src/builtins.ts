import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { UserError, type Where } from './errors.js';

/** A built-in stage as the engine sees it: a name, a version that enters the key, and an entry script. */
export interface BuiltinStage {
  name: string;
  version: string;
  /** Absolute path of the script run as `node <entry> <spec.json>`. */
  entry: string;
}

const stagesDir = fileURLToPath(new URL('../../stages/', import.meta.url));
const compiledStagesDir = fileURLToPath(new URL('../stages/', import.meta.url));

let registry: Map<string, BuiltinStage> | undefined;

/**
 * Reads `stages/registry.json` ({name: {version, entry}}). Metadata lives apart from the stage
 * code so that planning a run never loads a heavy stage module (tfjs) just to learn a version.
 */
function load(): Map<string, BuiltinStage> {
  if (registry) return registry;
  registry = new Map();
  const file = path.join(stagesDir, 'registry.json');
  if (!existsSync(file)) return registry;
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { version: string; entry: string }>;
  for (const [name, meta] of Object.entries(raw)) {
    registry.set(name, { name, version: meta.version, entry: path.join(compiledStagesDir, meta.entry) });
  }
  return registry;
}

export function resolveBuiltin(name: string, where: Where): BuiltinStage {
  const stage = load().get(name);
  if (!stage) {
    const known = [...load().keys()];
    throw new UserError(`unknown built-in stage "${name}" (available: ${known.length ? known.join(', ') : 'none installed'}); or use cmd: to run a command`, where);
  }
  return stage;
}
