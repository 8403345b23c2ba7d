import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { ErrorObject, ValidateFunction } from 'ajv';
import leven from 'leven';
import { builtinNames } from '../builtins.js';
import { searchMethods } from './search/methods/registry.js';
import { executorKinds, executorNames } from '../executors/registry.js';
import { UserError } from '../errors.js';
import { dvcSchema } from './dvc/schema.js';
import type { PathSegment, YamlSource } from './yaml-source.js';

/** Which file's syntax: pipeline.yaml, or DVC's dvc.yaml (which adds vars, wdir, top-level metrics/plots/artifacts). */
export type SpecKind = 'pipeline.yaml' | 'dvc.yaml';

const require = createRequire(import.meta.url);

export const schemaPath = fileURLToPath(new URL('../../../schema/pipeline.schema.json', import.meta.url));

type JsonSchema = { properties?: Record<string, unknown>; [key: string]: unknown };

const compiled = new Map<SpecKind, { validate: ValidateFunction; schema: JsonSchema }>();

/**
 * The spec schema with the executor registry filled in: `executor:` names every registered
 * executor and each one's options block (`slurm:`) is a stage key. The shipped
 * schema/pipeline.schema.json is this, written out for editors (`pipeline schema`; a test keeps them equal).
 */
export function specSchema(): JsonSchema {
  const schema = JSON.parse(readFileSync(schemaPath, 'utf8')) as JsonSchema & { definitions: { stage: JsonSchema } };
  const names = executorNames();
  const stage = schema.definitions.stage.properties as Record<string, JsonSchema>;
  (schema.properties!.executor as JsonSchema).enum = names;
  stage.executor.enum = names;
  for (const kind of executorKinds) if (kind.options) stage[kind.name] = kind.options;
  ((stage.search.properties as Record<string, JsonSchema>).method as JsonSchema).enum = [...searchMethods.keys()];
  stage.uses.description = `A built-in stage instead of a command: ${builtinNames().join(', ')} (\`pipeline stages\` lists their inputs, outputs and options).`;
  return schema;
}

function validator(kind: SpecKind): { validate: ValidateFunction; schema: JsonSchema } {
  let entry = compiled.get(kind);
  if (!entry) {
    const schema = kind === 'dvc.yaml' ? dvcSchema(specSchema()) : specSchema();
    // Loaded on demand: compiling the schema is a sizeable share of a no-op run's start-up.
    const Ajv = require('ajv') as typeof import('ajv').default;
    const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
    entry = { validate: ajv.compile(schema), schema };
    compiled.set(kind, entry);
  }
  return entry;
}

/** Validates a parsed spec against its schema; throws the most useful error. */
export function validateSpecSchema(source: YamlSource, kind: SpecKind = 'pipeline.yaml'): void {
  const { validate, schema } = validator(kind);
  if (validate(source.data)) return;
  const errors = validate.errors ?? [];
  const best = pickMostSpecific(errors);
  throw toUserError(best, source, schema);
}

export function schemaText(kind: SpecKind = 'pipeline.yaml'): string {
  return JSON.stringify(kind === 'dvc.yaml' ? dvcSchema(specSchema()) : specSchema());
}

/**
 * `oneOf` failures produce one error per branch plus a summary; the deepest error is the one
 * a user can act on, and an unknown key beats a type mismatch at the same depth.
 */
function pickMostSpecific(errors: ErrorObject[]): ErrorObject {
  const rank = (e: ErrorObject) =>
    e.instancePath.split('/').length * 10 + (e.keyword === 'additionalProperties' ? 5 : 0) - (e.keyword === 'oneOf' ? 3 : 0);
  return [...errors].sort((a, b) => rank(b) - rank(a))[0];
}

function toUserError(error: ErrorObject, source: YamlSource, schema: JsonSchema): UserError {
  const path = pointerToPath(error.instancePath);
  const where = path.length ? path.join('.') : 'top level';
  if (error.keyword === 'additionalProperties') {
    const unknown = String((error.params as { additionalProperty: string }).additionalProperty);
    const allowed = Object.keys((error.parentSchema as JsonSchema | undefined)?.properties ?? {});
    const suggestion = closest(unknown, allowed);
    const hint = suggestion ? `; did you mean "${suggestion}"?` : '';
    return new UserError(
      `unknown key "${unknown}" in ${where}${hint} (valid keys: ${allowed.join(', ')})`,
      source.locate([...path, unknown], true),
    );
  }
  const value = valueAt(source.data, path);
  const got = value === null ? 'null' : Array.isArray(value) ? 'a list' : typeof value;
  let message: string;
  switch (error.keyword) {
    case 'type':
      message = `${where} must be ${(error.params as { type: string | string[] }).type} (got ${got})`;
      break;
    case 'const':
      message = `${where} must be ${JSON.stringify((error.params as { allowedValue: unknown }).allowedValue)}`;
      break;
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const suggestion = typeof value === 'string' ? closest(value, allowed) : undefined;
      message = `${where} must be one of: ${allowed.join(', ')} (got ${JSON.stringify(value)})${suggestion ? `; did you mean "${suggestion}"?` : ''}`;
      break;
    }
    case 'required':
      message = `missing required key "${(error.params as { missingProperty: string }).missingProperty}" in ${where}`;
      break;
    case 'pattern':
    case 'propertyNames':
      message = `invalid name in ${where}: ${error.message ?? ''} (names are letters, digits, _ . -)`;
      break;
    case 'oneOf':
      message = `${where} has the wrong shape (got ${got}); ${describeOneOf(error, schema)}`;
      break;
    default:
      message = `${where} ${error.message ?? 'is invalid'}`;
  }
  return new UserError(message, source.locate(path));
}

function describeOneOf(error: ErrorObject, schema: JsonSchema): string {
  const node = (error.parentSchema as JsonSchema | undefined) ?? resolveSchemaPath(schema, error.schemaPath.replace(/\/oneOf$/, ''));
  const description = typeof node?.description === 'string' ? node.description : '';
  return description ? `expected: ${description}` : 'see schema/pipeline.schema.json';
}

function resolveSchemaPath(schema: JsonSchema, schemaPath: string): JsonSchema | undefined {
  let node: unknown = schema;
  for (const raw of schemaPath.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  return node as JsonSchema | undefined;
}

/** An ajv instancePath (a JSON pointer) as path segments (indices as numbers). */
export function pointerToPath(pointer: string): PathSegment[] {
  return pointer
    .split('/')
    .slice(1)
    .map((raw) => raw.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment));
}

export function valueAt(data: unknown, path: readonly PathSegment[]): unknown {
  let node = data;
  for (const segment of path) node = (node as Record<string, unknown> | undefined)?.[segment as string];
  return node;
}

/** The closest candidate within an edit distance that still reads as a typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = leven(word, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

