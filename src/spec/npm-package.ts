import { existsSync } from 'node:fs';
import path from 'node:path';

/** `npm:<package>/<model>` (a scoped package keeps its scope: `npm:@vladmandic/face-api/face_recognition`). */
export interface NpmRef {
  package: string;
  model: string;
}

export function parseNpmRef(value: string): NpmRef | undefined {
  const match = /^npm:((?:@[^/]+\/)?[^/@]+)\/(.+)$/.exec(value);
  return match ? { package: match[1]!, model: match[2]! } : undefined;
}

/**
 * The installed package's folder, found as Node finds a bare import: `node_modules/<package>`
 * in `from` or the nearest folder above it (no `require.resolve`: a package's `exports` may hide
 * its package.json and its model files).
 */
export function installedPackage(from: string, name: string): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}
