import { StageError } from '../runtime/stage.js';
import type { ImageProperties } from './inspect.js';

/** `with: { exclude: { sharpness: "< 20", noise: "> 12" } }`: a property, a comparison, a number. */
export interface ExclusionRule {
  property: keyof ImageProperties;
  /** As written, for the report and excluded.csv (`sharpness < 20`). */
  text: string;
  test(value: number): boolean;
}

const COMPARISONS: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
};

export function parseRules(rules: Record<string, string> | undefined): ExclusionRule[] {
  return Object.entries(rules ?? {}).map(([property, written]) => {
    const match = /^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/i.exec(written);
    if (!match) throw new StageError(`exclude.${property}: "${written}" is not a comparison with a number (e.g. "< 20"; ${Object.keys(COMPARISONS).join(' ')})`);
    const [, op, number] = match;
    const bound = Number(number);
    return { property: property as keyof ImageProperties, text: `${property} ${op} ${bound}`, test: (v) => COMPARISONS[op](v, bound) };
  });
}

/** The first rule an image breaks, or undefined. A property an image has no value for (jpeg_quality of a PNG) breaks no rule. */
export function brokenRule(properties: ImageProperties, rules: readonly ExclusionRule[]): { rule: ExclusionRule; value: number } | undefined {
  for (const rule of rules) {
    const value = properties[rule.property];
    if (typeof value === 'number' && rule.test(value)) return { rule, value };
  }
  return undefined;
}
