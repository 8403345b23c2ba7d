import { globSync } from 'tinyglobby';

/**
 * The files a matrix glob matches, sorted: what the spec expands to, and what the no-op
 * summary and the daemon compare with to tell whether the matrix still expands the same.
 */
export function matrixGlobMatches(pattern: string, cwd: string): string[] {
  return globSync(pattern, { cwd, onlyFiles: true, expandDirectories: false }).sort();
}
