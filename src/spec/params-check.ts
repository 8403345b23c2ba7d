import { createRequire } from 'node:module';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { formatLocation, UserError, type SourceLocation } from '../errors.js';
import type { JsonSchema, StageDeclaration } from '../protocol/stage-protocol.js';
import { CheckedOptions } from './checked-options.js';
import { isPlainObject, type ParamsLoader, type ParamTree } from './params.js';
import { closest, pointerToPath, valueAt } from './schema.js';

/** Keys of params mappings are names: the pointer's segments as strings. */
const pointerPath = (pointer: string): string[] => pointerToPath(pointer).map(String);

/**
 * A built-in declares the params it reads, so a key none of them reads is a typo, not a note:
 * `train.learnig_rate` would otherwise train silently with the default lr. This checks every
 * `uses:` instance's resolved params against its built-in's params schema at load time, with
 * the file:line:col of the key in the file of the `extends:` chain that set it.
 */

/** One `uses:` instance's params, as its built-in will read them, and where they came from. */
export interface ParamsUse {
  id: string;
  declaration: StageDeclaration;
  /** Nested, as the built-in reads them. */
  params: ParamTree;
  /** The files the params were merged from, in merge order (a later file wins). */
  files: readonly string[];
  /** false (`with: { strict_params: false }` or the top-level setting): an unknown key is a warning. */
  strict: boolean;
  /** The stage's `params:` field, for a problem no file wrote (a missing required key). */
  where: () => SourceLocation;
}

export interface ParamsCheckContext {
  loader: ParamsLoader;
  /** `-S key=value`, applied over every file. */
  overrides: readonly (readonly [string, unknown])[];
  /** The spec has `cmd:` stages: a `-S` key no built-in reads may be one of theirs. */
  commandStages: boolean;
  checked?: CheckedOptions;
}

/** Throws every problem at once (a matrix over configs: each bad file is named); returns the warnings. */
export function checkBuiltinParams(uses: readonly ParamsUse[], context: ParamsCheckContext): string[] {
  const errors = new Map<string, UserError>();
  const warnings = new Map<string, string>();
  const readers = readersByOrigin(uses, context);
  const seen = new Set<string>();
  for (const use of uses) {
    const signature = `${use.declaration.name}\0${use.files.join('\0')}\0${use.strict}\0${JSON.stringify(use.params)}`;
    if (seen.has(signature)) continue;
    seen.add(signature);
    for (const leaf of leavesOf(use.params)) {
      const origin = originOf(use, leaf, context);
      if (origin.id.startsWith('-S ') && context.commandStages) continue;
      const unknownAt = firstUnknownSegment(leaf, readers.get(origin.id) ?? [use.declaration]);
      if (unknownAt === undefined) continue;
      const key = leaf.slice(0, unknownAt + 1);
      const message = unknownKeyMessage(key, readers.get(origin.id) ?? [use.declaration]);
      const location = origin.locate(key);
      const text = `${formatLocation(location)}: ${message}`;
      if (use.strict) errors.set(text, new UserError(`${message}; with: { strict_params: false } makes this a warning`, location));
      else warnings.set(text, `${text}; ignored (strict_params: false)`);
    }
    for (const error of valueErrors(use, context)) errors.set(error.format(), error);
  }
  if (errors.size > 0) throw combined([...errors.values()]);
  return [...warnings.values()];
}

type Origin = { id: string; locate: (key: readonly string[]) => SourceLocation };

/** The last `-S` that set the value at `dotted`, if one did (it wins over every file). */
function overrideOf(overrides: ParamsCheckContext['overrides'], dotted: string): readonly [string, unknown] | undefined {
  return [...overrides].reverse().find(([key]) => dotted === key || dotted.startsWith(key + '.'));
}

function originOf(use: ParamsUse, leaf: readonly string[], { loader, overrides }: ParamsCheckContext): Origin {
  const override = overrideOf(overrides, leaf.join('.'));
  if (override) return { id: `-S ${override[0]}`, locate: () => ({ file: `-S ${override[0]}=${JSON.stringify(override[1])}` }) };
  const located = loader.locateKey(use.files, leaf);
  if (located) return { id: located.file, locate: (key) => loader.locateKey(use.files, key) ?? located };
  return { id: `\0${use.id}`, locate: () => use.where() };
}

/**
 * Which built-ins each origin (a file, or one `-S`) feeds: a config shared by train and baseline
 * may hold keys for either, so a key is unknown only if none of the stages it reaches reads it.
 */
function readersByOrigin(uses: readonly ParamsUse[], context: ParamsCheckContext): Map<string, StageDeclaration[]> {
  const readers = new Map<string, Set<StageDeclaration>>();
  const add = (id: string, declaration: StageDeclaration) => {
    let set = readers.get(id);
    if (!set) readers.set(id, (set = new Set()));
    set.add(declaration);
  };
  for (const use of uses) {
    for (const file of use.files) add(file, use.declaration);
    for (const [key] of context.overrides) add(`-S ${key}`, use.declaration);
    add(`\0${use.id}`, use.declaration);
  }
  return new Map([...readers].map(([id, set]) => [id, [...set]]));
}

function leavesOf(tree: ParamTree, prefix: string[] = [], out: string[][] = []): string[][] {
  for (const [key, value] of Object.entries(tree)) {
    if (isPlainObject(value) && Object.keys(value).length > 0) leavesOf(value, [...prefix, key], out);
    else out.push([...prefix, key]);
  }
  return out;
}

/** The schemas a node stands for: itself and the branches of its oneOf/anyOf/allOf. */
function branches(schema: JsonSchema): JsonSchema[] {
  const out: JsonSchema[] = [schema];
  for (const keyword of ['oneOf', 'anyOf', 'allOf']) {
    const list = schema[keyword];
    if (Array.isArray(list)) for (const branch of list as JsonSchema[]) out.push(...branches(branch));
  }
  return out;
}

/** The schemas reached by `path`, or 'any' where a schema leaves the keys below it free. */
function schemasAt(schema: JsonSchema, path: readonly string[]): JsonSchema[] | 'any' {
  let nodes = [schema];
  for (const segment of path) {
    const next: JsonSchema[] = [];
    for (const node of nodes.flatMap(branches)) {
      const properties = node.properties as Record<string, JsonSchema> | undefined;
      if (properties && segment in properties) next.push(properties[segment]);
      else if (freeBelow(node)) return 'any';
    }
    if (next.length === 0) return [];
    nodes = next;
  }
  return nodes;
}

/**
 * Whether any key below a schema that declares none is read: yes for a free-form mapping
 * (additionalProperties) and for a leaf (a mapping where a number belongs is ajv's type error);
 * no for an object that lists no keys (`params: { type: object }`: the built-in reads none).
 */
function freeBelow(node: JsonSchema): boolean {
  if (node.patternProperties) return true;
  if (node.additionalProperties !== undefined) return node.additionalProperties !== false;
  if (node.properties || ['oneOf', 'anyOf', 'allOf'].some((keyword) => keyword in node)) return false;
  // A leaf: a value, not a mapping. A schema of only if/then (a conditional rule) declares nothing.
  return (node.type !== undefined && node.type !== 'object') || 'enum' in node || 'const' in node;
}

/** The index of the first segment of `leaf` that no reader's schema has; undefined when one reads it all. */
function firstUnknownSegment(leaf: readonly string[], readers: readonly StageDeclaration[]): number | undefined {
  let known = 0;
  for (const { params } of readers) {
    for (let depth = 1; depth <= leaf.length; depth++) {
      const reached = schemasAt(params, leaf.slice(0, depth));
      if (reached === 'any') return undefined;
      if (reached.length === 0) {
        known = Math.max(known, depth - 1);
        break;
      }
      if (depth === leaf.length) return undefined;
    }
  }
  return known;
}

function keysAt(schema: JsonSchema, path: readonly string[]): string[] {
  const reached = schemasAt(schema, path);
  if (reached === 'any') return [];
  return [...new Set(reached.flatMap(branches).flatMap((node) => Object.keys((node.properties as Record<string, unknown> | undefined) ?? {})))];
}

function unknownKeyMessage(key: readonly string[], readers: readonly StageDeclaration[]): string {
  const parent = key.slice(0, -1);
  const prefix = parent.length ? parent.join('.') + '.' : '';
  const lists = readers
    .map((declaration) => ({ name: declaration.name, keys: keysAt(declaration.params, parent) }))
    .filter(({ keys }) => keys.length > 0);
  const candidates = [...new Set(lists.flatMap(({ keys }) => keys))];
  const suggestion = closest(key[key.length - 1], candidates) ?? abbreviated(key[key.length - 1], candidates);
  const reads = lists.map(({ name, keys }) => `${name} reads ${keys.length === 1 ? prefix + keys[0] : `${prefix.replace(/\.$/, '')}${prefix ? '.' : ''}{${keys.join(', ')}}`}`);
  const names = [...new Set(readers.map((d) => d.name))].join(', ');
  return (
    `${key.join('.')}: unknown key${suggestion ? `; did you mean ${prefix}${suggestion}?` : ''} ` +
    `(${reads.length ? reads.join('; ') : `${names} read${readers.length === 1 ? 's' : ''} nothing under ${parent.join('.')}`})`
  );
}

/** `learning_rate` (even misspelt) for `lr`: a candidate spelt by the initials of the key's words. */
function abbreviated(word: string, candidates: readonly string[]): string | undefined {
  const words = word.split(/[_\-\s]+|(?=[A-Z])/).filter(Boolean);
  if (words.length < 2) return undefined;
  const initials = words.map((w) => w[0].toLowerCase()).join('');
  return candidates.find((candidate) => candidate.toLowerCase() === initials);
}

const validators = new Map<string, ValidateFunction>();

function validatorOf(declaration: StageDeclaration): ValidateFunction {
  const id = `${declaration.name}@${declaration.version}`;
  let validate = validators.get(id);
  if (!validate) {
    const Ajv = createRequire(import.meta.url)('ajv') as typeof import('ajv').default;
    validate = new Ajv({ allErrors: true, strict: false, verbose: true }).compile(declaration.params);
    validators.set(id, validate);
  }
  return validate;
}

/** Types, ranges and enums, as the built-in's runtime would check them, but before anything runs and with a position. */
function valueErrors(use: ParamsUse, context: ParamsCheckContext): UserError[] {
  const { declaration } = use;
  const memo = context.checked && `params:${CheckedOptions.keyOf(declaration.name, declaration.version, use.params)}`;
  if (memo && context.checked!.has(memo)) return [];
  const validate = validatorOf(declaration);
  if (validate(use.params)) {
    if (memo) context.checked!.add(memo);
    return [];
  }
  const problems = (validate.errors ?? []).filter((e) => !['additionalProperties', 'oneOf', 'anyOf', 'if'].includes(e.keyword));
  const list = problems.length ? problems : (validate.errors ?? []).filter((e) => e.keyword !== 'additionalProperties');
  const missing = new Map<string, { keys: string[]; why: string }>();
  for (const error of list) {
    if (error.keyword !== 'required') continue;
    const entry = missing.get(error.instancePath) ?? { keys: [], why: '' };
    entry.keys.push((error.params as { missingProperty: string }).missingProperty);
    const description = (error.parentSchema as { description?: unknown } | undefined)?.description;
    if (error.schemaPath.includes('/then/') && typeof description === 'string') entry.why = description;
    missing.set(error.instancePath, entry);
  }
  return [
    ...[...missing].map(([pointer, { keys, why }]) => missingError(pointerPath(pointer), keys, why, use, context)),
    ...list.filter((error) => error.keyword !== 'required').map((error) => valueError(error, use, context)),
  ];
}

function missingError(path: string[], keys: string[], why: string, use: ParamsUse, { loader }: ParamsCheckContext): UserError {
  const names = keys.map((key) => [...path, key].join('.')).join(', ');
  const from = use.files.length ? `set by none of ${use.files.join(' -> ')}` : 'and the stage names no params (params: ${exp} for a matrix of configs, or params: [key, ...] from the global params)';
  const lastFile = use.files[use.files.length - 1];
  return new UserError(why ? `${names} is needed: ${why}` : `${use.declaration.name} needs ${names}, ${from}`, (path.length && loader.locateKey(use.files, path)) || (lastFile ? { file: lastFile } : use.where()));
}

function valueError(error: ErrorObject, use: ParamsUse, { loader, overrides }: ParamsCheckContext): UserError {
  const path = pointerPath(error.instancePath);
  const dotted = path.join('.');
  const value = valueAt(use.params, path);
  const override = overrideOf(overrides, dotted);
  const locate = (at: string[], key: boolean): SourceLocation =>
    override ? { file: `-S ${override[0]}=${JSON.stringify(override[1])}` } : (loader.locateKey(use.files, at, key) ?? use.where());
  const name = use.declaration.name;
  // A conditional rule (if/then) says why in its description.
  const why = typeof (error.parentSchema as { description?: unknown } | undefined)?.description === 'string' && error.schemaPath.includes('/then/') ? `: ${(error.parentSchema as { description: string }).description}` : '';
  switch (error.keyword) {
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const suggestion = typeof value === 'string' ? closest(value, allowed) : undefined;
      return new UserError(`${dotted} must be one of: ${allowed.join(', ')} (got ${JSON.stringify(value)})${suggestion ? `; did you mean ${suggestion}?` : ''}${why}`, locate(path, false));
    }
    case 'const':
      return new UserError(`${dotted} must be ${String((error.params as { allowedValue: unknown }).allowedValue)} (got ${JSON.stringify(value)})${why}`, locate(path, false));
    case 'type':
      return new UserError(`${dotted} must be ${String((error.params as { type: string | string[] }).type)} (got ${JSON.stringify(value)})`, locate(path, false));
    default:
      return new UserError(`${dotted} ${error.message ?? 'is invalid'} (got ${JSON.stringify(value)}; ${name} reads it)${why}`, locate(path, false));
  }
}

function combined(errors: UserError[]): UserError {
  if (errors.length === 1) return errors[0];
  const [first, ...rest] = errors;
  return new UserError(`${first.message}\n${rest.map((error) => error.format()).join('\n')}\n${errors.length} problems in the params of built-in stages; nothing ran`, first.location);
}
