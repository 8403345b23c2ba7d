import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { builtinDeclarations } from '../stages/registry.js';
import { UserError, type Where } from './errors.js';
import type { StageDeclaration } from './protocol/stage-protocol.js';

/** A built-in stage as the engine runs it: its declaration and the script run as `node <entry> <spec.json>`. */
export interface ResolvedBuiltin {
  declaration: StageDeclaration;
  /** Absolute path of the compiled entry script. */
  entry: string;
}

const compiledStagesDir = fileURLToPath(new URL('../stages/', import.meta.url));
const byName = new Map(builtinDeclarations.map((d) => [d.name, d]));

export function builtinNames(): string[] {
  return [...byName.keys()];
}

export function resolveBuiltin(name: string, where: Where): ResolvedBuiltin {
  const declaration = byName.get(name);
  if (!declaration) {
    throw new UserError(`unknown built-in stage "${name}" (available: ${builtinNames().join(', ')}); or use cmd: to run a command`, where);
  }
  return { declaration, entry: path.join(compiledStagesDir, declaration.entry) };
}
