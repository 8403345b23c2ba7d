import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import jsYaml from 'js-yaml';
import { UserError, type Where } from '../errors.js';
import { sha256Text } from '../hash/sha256.js';
import { getParam, isPlainObject } from './params.js';
import type { DynamicSource } from './model.js';

/** A `matrix:` value written as `{ from: <file>, at?: <dotted key> }`. */
export interface FromAxis {
  from: string;
  at?: string;
}

export function isFromAxis(value: unknown): value is FromAxis {
  return isPlainObject(value) && typeof value.from === 'string';
}

/**
 * A list an upstream stage wrote (JSON, or YAML by extension), as matrix values; undefined
 * while the file does not exist. What was read is kept (`source.read`) so that a run which
 * rewrites the file knows the instances listed from it are out of date.
 */
export function readDynamicList(projectDir: string, file: string, at: string | undefined, where: Where): { values: unknown[]; source: DynamicSource } | undefined {
  const abs = path.join(projectDir, file);
  if (!existsSync(abs)) return undefined;
  const text = readFileSync(abs);
  let data: unknown;
  try {
    data = /\.ya?ml$/i.test(file) ? jsYaml.load(text.toString('utf8'), { schema: jsYaml.CORE_SCHEMA }) : JSON.parse(text.toString('utf8'));
  } catch (error) {
    throw new UserError(`matrix from ${file}: not valid ${/\.ya?ml$/i.test(file) ? 'YAML' : 'JSON'} (${(error as Error).message.split('\n')[0]})`, where);
  }
  let list = data;
  if (at !== undefined) {
    const hit = isPlainObject(data) ? getParam(data, at) : { found: false, value: undefined };
    if (!hit.found) throw new UserError(`matrix from ${file}: it has no key ${at}`, where);
    list = hit.value;
  }
  if (!Array.isArray(list)) throw new UserError(`matrix from ${file}${at ? ` at ${at}` : ''}: expected a list of values (got ${list === null ? 'null' : typeof list})`, where);
  return { values: list, source: { file, read: sha256Text(text) } };
}

/**
 * The folders the instances of an out template will write, as far as they are known before
 * the values are (`outputs/runs/tune/1/${trial.name}/fold${fold}` -> `outputs/runs/tune/1`):
 * what a stand-in instance holds back its dependents by.
 */
export function knownPrefix(template: string): string {
  const cut = template.indexOf('${');
  const head = cut < 0 ? template : template.slice(0, cut);
  const folder = head.endsWith('/') || cut < 0 ? head.replace(/\/+$/, '') : path.posix.dirname(head);
  return folder === '.' ? '' : folder;
}
