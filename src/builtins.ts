import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { builtinDeclarations } from '../stages/registry.js';
import { UserError, type Where } from './errors.js';
import { declarationFor, type StageDeclaration } from './protocol/stage-protocol.js';

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

/** The built-in `uses: name` runs, as the instance's `with:` options select it (declarationFor). */
export function resolveBuiltin(name: string, where: Where, options?: Record<string, unknown>): ResolvedBuiltin {
  const registered = byName.get(name);
  if (!registered) {
    throw new UserError(`unknown built-in stage "${name}" (available: ${builtinNames().join(', ')}); or use cmd: to run a command`, where);
  }
  const declaration = declarationFor(registered, options);
  return { declaration, entry: path.join(compiledStagesDir, declaration.entry) };
}
