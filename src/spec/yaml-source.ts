import { readFileSync } from 'node:fs';
import jsYaml from 'js-yaml';
import { createRequire } from 'node:module';
import type { Document, LineCounter, Node } from 'yaml';
import { UserError, type SourceLocation } from '../errors.js';

export type PathSegment = string | number;

/**
 * A parsed YAML file that can still say where each value came from, so schema and semantic
 * errors found long after parsing point at `file:line:col`.
 *
 * Values come from js-yaml (several times faster on a 10,000-stage spec); the position-keeping
 * parse of `yaml` runs only when an error has to be located, so a valid spec never pays for it.
 */
export class YamlSource {
  readonly data: unknown;
  private located: { doc: Document.Parsed; lines: LineCounter } | undefined;

  private constructor(
    readonly file: string,
    readonly text: string,
    data: unknown,
  ) {
    this.data = data;
  }

  /** `displayName` is what error messages show (a project-relative path, never an absolute one). */
  static read(absPath: string, displayName: string): YamlSource {
    let text: string;
    try {
      text = readFileSync(absPath, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UserError(code === 'ENOENT' ? 'file not found' : `cannot read file (${code})`, { file: displayName });
    }
    return YamlSource.parse(text, displayName);
  }

  /** A source whose values were parsed (and validated) before: positions are still computed on demand. */
  static fromParsed(text: string, displayName: string, data: unknown): YamlSource {
    return new YamlSource(displayName, text, data);
  }

  static parse(text: string, displayName: string): YamlSource {
    let data: unknown;
    try {
      // CORE_SCHEMA is YAML 1.2 without timestamps: values survive a JSON round trip unchanged.
      data = jsYaml.load(text, { filename: displayName, schema: jsYaml.CORE_SCHEMA });
    } catch {
      // Let the stricter parser produce the message and the position.
      YamlSource.positions(text, displayName);
      throw new UserError('invalid YAML', { file: displayName });
    }
    return new YamlSource(displayName, text, data);
  }

  private static positions(text: string, displayName: string): { doc: Document.Parsed; lines: LineCounter } {
    const { LineCounter, parseDocument } = yamlLibrary();
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const first = doc.errors[0];
    if (first) {
      const pos = lines.linePos(first.pos[0]);
      const message = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      throw new UserError(`invalid YAML: ${message}`, { file: displayName, line: pos.line, col: pos.col });
    }
    return { doc, lines };
  }

  /**
   * The location of the value at `path`, or of its key when `key` is set (an unknown key is
   * best shown at the key). Falls back to the nearest ancestor that exists.
   */
  locate(path: readonly PathSegment[], key = false): SourceLocation {
    this.located ??= YamlSource.positions(this.text, this.file);
    const { doc, lines } = this.located;
    const { isMap, isPair, isScalar, isSeq } = yamlLibrary();
    let node: unknown = doc.contents;
    let best: Node | null = isNode(node) ? node : null;
    for (let i = 0; i < path.length; i++) {
      const segment = path[i];
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment));
        if (!pair) break;
        if (last && key && isNode(pair.key)) {
          best = pair.key;
          break;
        }
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment];
      } else {
        break;
      }
      if (isNode(node)) best = node;
      else break;
    }
    const offset = best?.range?.[0];
    if (offset === undefined) return { file: this.file };
    const pos = lines.linePos(offset);
    return { file: this.file, line: pos.line, col: pos.col };
  }
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value;
}

/** The position-keeping parser loads only when an error needs a line and column. */
function yamlLibrary(): typeof import('yaml') {
  return createRequire(import.meta.url)('yaml') as typeof import('yaml');
}
