import { realpathSync } from 'node:fs';
import path from 'node:path';

/**
 * Normalises a user-written path to the project-relative posix form used everywhere
 * (lock, keys, graph), or says why it cannot be one. Keys never contain absolute paths,
 * so the same project in another directory hashes the same.
 */
export function normalizeProjectPath(raw: string): { path: string } | { error: string } {
  if (path.isAbsolute(raw) || /^[A-Za-z]:[\\/]/.test(raw)) {
    return { error: `"${raw}" is absolute; paths must be relative to the project directory` };
  }
  const normal = path.posix.normalize(raw.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) {
    return { error: `"${raw}" is outside the project directory` };
  }
  if (normal === '.' || normal === '') {
    return { error: `"${raw}" is the project directory itself; name a file or folder inside it` };
  }
  return { path: normal };
}

/** True when `inner` equals `outer` or lies inside it. */
export function isWithin(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(outer + '/');
}

/** Every ancestor directory of a project-relative path, nearest first (`a/b/c` -> `a/b`, `a`). */
export function ancestors(relPath: string): string[] {
  const out: string[] = [];
  let index = relPath.lastIndexOf('/');
  while (index > 0) {
    out.push(relPath.slice(0, index));
    index = relPath.lastIndexOf('/', index - 1);
  }
  return out;
}

/**
 * Follows symlinks along the existing part of `relPath` and reports whether it escapes the
 * project (an out written through such a link would land outside it).
 */
export function escapesProject(projectDir: string, relPath: string): boolean {
  const realProject = realpathSync(projectDir);
  let probe = relPath;
  for (;;) {
    try {
      const real = realpathSync(path.join(projectDir, probe));
      return !(real === realProject || real.startsWith(realProject + path.sep));
    } catch {
      const parent = path.posix.dirname(probe);
      if (parent === probe || parent === '.') return false;
      probe = parent;
    }
  }
}
