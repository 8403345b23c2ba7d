/**
 * The one contract between the engine and a built-in stage. The engine reads a stage's
 * declaration to check `uses:` stages at load time (named inputs and outputs, `with:` options)
 * and writes a StageSpec for each instance it runs; the stage runtime (stages/runtime) reads
 * that spec back. Both sides import these types, so they cannot drift apart.
 */

/** Bump when StageSpec's shape changes; the runtime refuses a spec of another version. */
export const PROTOCOL_VERSION = 1;

/** A JSON schema (draft 7, as ajv takes it). */
export type JsonSchema = Record<string, unknown>;

/** One named input or output of a built-in stage. */
export interface Port {
  /** A single file, a directory, or either (`path`: a folder of images or a CSV listing them). */
  kind: 'file' | 'dir' | 'path';
  /** Required unless false. */
  required?: boolean;
  /** What it holds, for errors and docs. */
  description: string;
}

/** What a built-in stage declares about itself; light enough to load while planning a run. */
export interface StageDeclaration {
  name: string;
  /** Enters every key of this stage: bump it when outputs would change for the same inputs. */
  version: string;
  /** One line for `pipeline stages` and errors. */
  description: string;
  inputs: Record<string, Port>;
  outputs: Record<string, Port>;
  /** Metrics files it writes inside its outputs (`exp show`, `metrics diff` read them): an output, and a file within it. */
  metrics?: { output: string; file?: string }[];
  /** Schema of `with:` (checked at load time, with file:line errors). */
  options: JsonSchema;
  /** Schema of the params the stage reads (checked at load and by the runtime before it starts). */
  params: JsonSchema;
  /**
   * Params whose value names a file of the project (`model.weights`): the file is a dep of the
   * instance, so its content enters the key. Dotted key -> what the file is. A value starting
   * with `npm:` names a package's file instead and is not a dep.
   */
  paramPaths?: Record<string, string>;
  /** Options whose value names a file of the project (train's `with: { script }`): a dep of the instance, like paramPaths. */
  optionPaths?: Record<string, string>;
  /** The script run as `node <entry> <spec.json>`, relative to the compiled stages/ folder. */
  entry: string;
  /**
   * Another way to run the same stage, chosen by an option of `with:` (train's `runner:` runs the
   * researcher's own script): its version, params and entry replace the declaration's; the
   * name, inputs, outputs, options and metrics stay.
   */
  variants?: Record<string, StageVariant>;
}

export type StageVariant = Pick<StageDeclaration, 'version' | 'description' | 'params' | 'entry' | 'paramPaths' | 'optionPaths'>;

/** The declaration an instance with these `with:` options runs under (its variant when an option selects one). */
export function declarationFor(declaration: StageDeclaration, options: Record<string, unknown> | undefined): StageDeclaration {
  const selected = Object.entries(declaration.variants ?? {}).find(([option]) => options?.[option] !== undefined);
  if (!selected) return declaration;
  const { paramPaths, optionPaths, ...variant } = selected[1];
  return { ...declaration, paramPaths, optionPaths, ...variant, variants: undefined };
}

/** What the engine hands a built-in instance: written as JSON, its path the process's one argument. */
export interface StageSpec {
  protocol: typeof PROTOCOL_VERSION;
  /** The instance id (`train@exp=a,fold=0`). */
  id: string;
  /** The built-in's name and the version that entered the key. */
  stage: string;
  version: string;
  /** The param values this instance names (dotted keys). */
  params: Record<string, unknown>;
  /** `with:` after interpolation (checked against the declaration at load time). */
  options: Record<string, unknown>;
  /** Declared input name -> path; optional inputs the pipeline does not map are absent. */
  inputs: Record<string, string>;
  /** Declared output name -> project-relative path. */
  outputs: Record<string, string>;
  metrics: string[];
  plots: string[];
  /** A directory this stage may keep across runs (per-item results, so adding 100 images processes 100); not an out. */
  stageCache: string;
}

/** How a stage (or a trainer script it runs) reports progress: a stdout line `::progress {json}`. */
export const PROGRESS_PREFIX = '::progress ';

export function progressLine(data: Record<string, unknown>): string {
  return `${PROGRESS_PREFIX}${JSON.stringify(data)}\n`;
}

/** A progress line's data; undefined for any other line (or one whose JSON does not parse: an ordinary log line). */
export function parseProgressLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith(PROGRESS_PREFIX)) return undefined;
  try {
    return JSON.parse(line.slice(PROGRESS_PREFIX.length)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Parses a spec file's text, refusing one written for another protocol version. */
export function parseStageSpec(text: string, file: string): StageSpec {
  const spec = JSON.parse(text) as Partial<StageSpec>;
  if (spec.protocol !== PROTOCOL_VERSION) {
    throw new Error(`${file}: stage spec protocol ${String(spec.protocol)}, this runtime reads ${PROTOCOL_VERSION}; the engine and the stages come from different versions of pipeline`);
  }
  return spec as StageSpec;
}
