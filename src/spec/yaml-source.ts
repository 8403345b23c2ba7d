import { readFileSync } from 'node:fs';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { UserError, type SourceLocation } from '../errors.js';

export type PathSegment = string | number;

/**
 * A parsed YAML file that remembers where each value came from, so that schema and
 * semantic errors found long after parsing can still point at `file:line:col`.
 */
export class YamlSource {
  readonly data: unknown;
  private readonly doc: Document.Parsed;
  private readonly lines: LineCounter;

  private constructor(readonly file: string, doc: Document.Parsed, lines: LineCounter) {
    this.doc = doc;
    this.lines = lines;
    this.data = doc.toJS({ maxAliasCount: 1000 });
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

  static parse(text: string, displayName: string): YamlSource {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    const first = doc.errors[0];
    if (first) {
      const pos = lines.linePos(first.pos[0]);
      const message = first.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      throw new UserError(`invalid YAML: ${message}`, { file: displayName, line: pos.line, col: pos.col });
    }
    return new YamlSource(displayName, doc, lines);
  }

  /**
   * The location of the value at `path`, or of its key when `key` is set (an unknown key is
   * best shown at the key). Falls back to the nearest ancestor that exists.
   */
  locate(path: readonly PathSegment[], key = false): SourceLocation {
    let node: unknown = this.doc.contents;
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
    const pos = this.lines.linePos(offset);
    return { file: this.file, line: pos.line, col: pos.col };
  }
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && 'range' in value;
}
