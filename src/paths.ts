import { lstatSync, realpathSync } from 'node:fs';
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

/**
 * A dep may live outside the project (a lab's dataset folder, read in place): `../data/faces`
 * stays relative (the project and its data move together), an absolute path stays absolute.
 * Outs never may: pipeline only writes inside the project.
 */
export function normalizeDepPath(raw: string): { path: string } | { error: string } {
  if (path.isAbsolute(raw)) return { path: path.posix.normalize(raw.replace(/\\/g, '/')).replace(/\/+$/, '') || '/' };
  const normal = path.posix.normalize(raw.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) return { path: normal };
  return normalizeProjectPath(raw);
}

/** A dep that lives on a server (http, https, s3): the stage reads it there; pipeline checks it with a HEAD. */
export const isUrlDep = (dep: string): boolean => /^(https?|s3):\/\//i.test(dep);

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
 * Returns a checker that follows symlinks along the existing part of a project-relative path
 * and reports whether it escapes the project (an out written through such a link would land
 * outside it). Answers are memoised per directory, since outs share parents.
 */
export function symlinkEscapeChecker(projectDir: string): (relPath: string) => boolean {
  const realProject = realpathSync(projectDir);
  const memo = new Map<string, boolean>();
  const escapes = (relPath: string): boolean => {
    const known = memo.get(relPath);
    if (known !== undefined) return known;
    const parent = path.posix.dirname(relPath);
    const viaParent = () => (parent === '.' || parent === relPath ? false : escapes(parent));
    const stats = lstatSync(path.join(projectDir, relPath), { throwIfNoEntry: false });
    let answer: boolean;
    if (stats?.isSymbolicLink()) {
      // Only a link needs the costly realpath; anything else is as safe as its parent.
      let real: string | undefined;
      try {
        real = realpathSync(path.join(projectDir, relPath));
      } catch {
        real = undefined;
      }
      answer = real === undefined ? viaParent() : !(real === realProject || real.startsWith(realProject + path.sep));
    } else {
      answer = viaParent();
    }
    memo.set(relPath, answer);
    return answer;
  };
  return escapes;
}

/** A file name for an instance id (logs, spec files, job scripts). */
export function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9_.=,@-]/g, '_');
}
