import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { UserError, type SourceLocation } from '../errors.js';
import type { Port, StageDeclaration } from '../protocol/stage-protocol.js';
import { CheckedOptions } from './checked-options.js';
import { closest } from './schema.js';
import type { PathSegment } from './yaml-source.js';

/**
 * A `uses:` stage names its paths: `deps:` maps the built-in's declared inputs and `outs:` its
 * outputs. This checks the mapping and the `with:` options against the declaration, so a typo
 * is a file:line error at load time instead of a stage that fails (or reads the wrong file).
 */

export interface BoundPorts {
  /** Input name -> path, in declaration order. */
  inputs: Record<string, string>;
  outputs: Record<string, string>;
}

export interface PortBinding {
  declaration: StageDeclaration;
  deps: unknown;
  outs: unknown;
  /** `with:` after interpolation. */
  options: Record<string, unknown> | undefined;
  /** Interpolates and normalises one path of `deps`/`outs`. */
  path: (raw: string, field: 'deps' | 'outs', key: string) => string;
  locate: (field: PathSegment[], key?: boolean) => SourceLocation;
  /** Option sets known to be valid (skips compiling the validator). */
  checked?: CheckedOptions;
}

const portList = (ports: Record<string, Port>) =>
  Object.entries(ports)
    .map(([name, port]) => `${name} (${port.kind}${port.required === false ? ', optional' : ''})`)
    .join(', ') || 'none';

export function bindPorts(binding: PortBinding): BoundPorts {
  checkOptions(binding);
  return {
    inputs: bindField(binding, 'deps', binding.declaration.inputs, 'input'),
    outputs: bindField(binding, 'outs', binding.declaration.outputs, 'output'),
  };
}

function bindField(binding: PortBinding, field: 'deps' | 'outs', ports: Record<string, Port>, noun: 'input' | 'output'): Record<string, string> {
  const { declaration, locate } = binding;
  const raw = binding[field] ?? {};
  const name = declaration.name;
  const valid = `${noun}s of ${name}: ${portList(ports)}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const example = Object.keys(ports).slice(0, 2).map((p) => `${p}: …`).join(', ');
    throw new UserError(`${name} names its ${noun}s: write ${field}: as a mapping, e.g. ${field}: { ${example} } (${valid})`, () => locate([field]));
  }
  const mapped = raw as Record<string, unknown>;
  for (const [key, value] of Object.entries(mapped)) {
    if (!(key in ports)) {
      const suggestion = closest(key, Object.keys(ports));
      throw new UserError(`${name} has no ${noun} \`${key}\`${suggestion ? `; did you mean \`${suggestion}\`?` : ''} (${valid})`, () => locate([field, key], true));
    }
    if (typeof value !== 'string' || value === '') throw new UserError(`${field}.${key} must be a path (a non-empty string)`, () => locate([field, key]));
  }
  const bound: Record<string, string> = {};
  for (const [port, spec] of Object.entries(ports)) {
    const value = mapped[port];
    if (value === undefined) {
      if (spec.required !== false) throw new UserError(`${name} needs ${noun} \`${port}\` (${spec.description}); ${valid}`, () => locate(Object.keys(mapped).length ? [field] : [], !Object.keys(mapped).length));
      continue;
    }
    bound[port] = binding.path(value as string, field, port);
  }
  return bound;
}

const validators = new Map<string, ValidateFunction>();

function checkOptions({ declaration, options, locate, checked }: PortBinding): void {
  const memoKey = CheckedOptions.keyOf(declaration.name, declaration.version, options);
  if (checked?.has(memoKey)) return;
  let validate = validators.get(declaration.name);
  if (!validate) {
    const Ajv = createRequire(import.meta.url)('ajv') as typeof import('ajv').default;
    validate = new Ajv({ allErrors: true, strict: false }).compile(declaration.options);
    validators.set(declaration.name, validate);
  }
  if (validate(options ?? {})) {
    checked?.add(memoKey);
    return;
  }
  const error = validate.errors![0];
  const known = Object.keys((declaration.options.properties as Record<string, unknown> | undefined) ?? {});
  const valid = `options of ${declaration.name}: ${known.length ? known.join(', ') : 'none'}`;
  const inside = error.instancePath.split('/').filter(Boolean);
  if (error.keyword === 'additionalProperties' && inside.length) {
    // An unknown key inside an option (`exclude: { sharpnes: ... }`): the keys valid there.
    type Node = { properties?: Record<string, Node> };
    const node = inside.reduce<Node | undefined>((n, k) => n?.properties?.[k], declaration.options as Node);
    const here = Object.keys(node?.properties ?? {});
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    const suggestion = closest(key, here);
    throw new UserError(`with.${inside.join('.')} has no key \`${key}\`${suggestion ? `; did you mean \`${suggestion}\`?` : ''} (valid: ${here.join(', ') || 'none'})`, () => locate(['with', ...inside, key], true));
  }
  if (error.keyword === 'additionalProperties') {
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    const suggestion = closest(key, known);
    throw new UserError(`${declaration.name} has no option \`${key}\`${suggestion ? `; did you mean \`${suggestion}\`?` : ''} (${valid})`, () => locate(['with', key], true));
  }
  if (error.keyword === 'required') {
    const key = String((error.params as { missingProperty: string }).missingProperty);
    throw new UserError(`${declaration.name} needs the option \`${key}\` in with: (${valid})`, () => locate(options ? ['with'] : [], !options));
  }
  const key = error.instancePath.split('/').filter(Boolean);
  const problem = error.message ?? 'is invalid';
  throw new UserError(`with.${key.join('.')} ${problem} (got ${JSON.stringify(key.reduce<unknown>((v, k) => (v as Record<string, unknown>)[k], options))}); see ${valid}`, () => locate(['with', ...key]));
}
