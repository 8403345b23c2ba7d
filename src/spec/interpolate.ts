import { UserError, type Where } from '../errors.js';
import { isPlainObject } from './params.js';

/** A matrix entry that came from a glob of config files: `${exp.name}`, `${exp.path}`, `${exp.<key>}`. */
export class ConfigRef {
  constructor(
    readonly name: string,
    readonly path: string,
    readonly config: Record<string, unknown>,
    /** The file and every file in its `extends:` chain. */
    readonly files: string[],
  ) {}

  toString(): string {
    return this.path;
  }
}

export type Scope = Record<string, unknown>;

/** A foreach entry's index in its list, kept in its scope under a name no `${...}` can spell (DVC tracks `models.0.lr`). */
export const ENTRY_AT = '\0at';

const expression = /\\?\$\{\s*([^}]*?)\s*\}/g;

/** `a[b][0]` as `a.b.0`: DVC reads a mapping's key and a list's index in brackets too. */
export function dottedExpression(expr: string): string {
  return expr.replace(/\[\s*(?:'([^']*)'|"([^"]*)"|([A-Za-z0-9_-]+))\s*\]/g, (_, single: string | undefined, double: string | undefined, bare: string | undefined) => `.${single ?? double ?? bare}`);
}

/** Resolves one `${a.b.c}` (or `${a[b]}`, `${list.0}`) against the scopes, first match wins. */
export function lookup(expr: string, scopes: readonly Scope[], where: Where): unknown {
  const parts = dottedExpression(expr).split('.');
  for (const scope of scopes) {
    if (!(parts[0] in scope)) continue;
    let node: unknown = scope[parts[0]];
    for (const part of parts.slice(1)) {
      if (node instanceof ConfigRef) {
        node = part === 'name' ? node.name : part === 'path' ? node.path : node.config[part];
      } else if (isPlainObject(node) && part in node) {
        node = node[part];
      } else if (Array.isArray(node) && /^\d+$/.test(part) && Number(part) < node.length) {
        node = node[Number(part)];
      } else {
        node = undefined;
      }
      if (node === undefined) break;
    }
    if (node !== undefined) return node;
  }
  const known = [...new Set(scopes.flatMap((scope) => Object.keys(scope)))].filter((name) => name !== ENTRY_AT).sort();
  throw new UserError(
    `cannot resolve \${${expr}}: no such param or matrix value (known names: ${known.join(', ') || 'none'})`,
    where,
  );
}

/** The dotted names that `${...}` expressions in `text` read (escaped ones left out). */
export function expressionsIn(text: string): string[] {
  return [...text.matchAll(expression)].filter((m) => !m[0].startsWith('\\')).map((m) => dottedExpression(m[1]));
}

function isValidExpression(expr: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_-]*(\.[A-Za-z0-9_-]+)*$/.test(dottedExpression(expr));
}

/**
 * Replaces `${...}` in a string. A string that is exactly one expression keeps the value's
 * type (so `params: ${exp}` yields the config); `\${` stays literal.
 */
export function interpolate(text: string, scopes: readonly Scope[], where: Where, render?: (value: unknown) => string): unknown {
  const single = /^\$\{\s*([^}]*?)\s*\}$/.exec(text);
  if (single && !render) {
    checkExpression(single[1], where);
    return lookup(single[1], scopes, where);
  }
  return text.replace(expression, (match: string, expr: string) => {
    if (match.startsWith('\\')) return match.slice(1);
    checkExpression(expr, where);
    const value = lookup(expr, scopes, where);
    if (!render) return stringify(value);
    try {
      return render(value);
    } catch (error) {
      // What the value cannot become (a nested list to unpack) is said where it was written.
      if (error instanceof UserError && !error.location) throw new UserError(error.message, where);
      throw error;
    }
  });
}

function checkExpression(expr: string, where: Where): void {
  if (!isValidExpression(expr)) {
    throw new UserError(`invalid interpolation \${${expr}}: expected a dotted name such as \${train.lr} or \${exp.name}`, where);
  }
}

export function interpolateString(text: string, scopes: readonly Scope[], where: Where): string {
  return stringify(interpolate(text, scopes, where));
}

export function stringify(value: unknown): string {
  if (value instanceof ConfigRef) return value.path;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value);
}

/** POSIX shell quoting that leaves plainly safe words readable. */
export function shellQuote(value: string): string {
  if (value !== '' && /^[A-Za-z0-9_\-.,:/@%+=]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
