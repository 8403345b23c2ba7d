import { UserError, type Where } from '../errors.js';
import type { OutOptions } from './model.js';
import { isPlainObject } from './params.js';

/** An `outs:`/`metrics:`/`plots:` entry: a path, or `{ path: { cache, persist, push, ... } }`. */
export type RawOutEntry = string | Record<string, Record<string, unknown> | null>;

/** The entry's path as written and the options pipeline acts on (the rest, DVC's desc/x/y/..., is kept by the spec only). */
export function splitOutEntry(entry: RawOutEntry, where: Where): { raw: string; options: Partial<OutOptions> } {
  if (typeof entry === 'string') return { raw: entry, options: {} };
  const [raw, given] = Object.entries(entry)[0] ?? [];
  if (raw === undefined || (given !== null && !isPlainObject(given))) throw new UserError('an entry is a path, or { path: { cache: false, ... } }', where);
  const options: Partial<OutOptions> = {};
  if (given?.cache === false) options.cache = false;
  // DVC 2's checkpoint outs were kept between runs; DVC 3 dropped them, persist is what remains.
  if (given?.persist === true || given?.checkpoint === true) options.persist = true;
  if (given?.push === false) options.push = false;
  return { raw, options };
}
