import { existsSync } from 'node:fs';
import path from 'node:path';

/**
 * The project root of a dvc.yaml: DVC's repository root (the nearest folder above holding `.dvc/`,
 * else `.git`), so a dvc.yaml in a subfolder may name `../` paths anywhere in the repository.
 * Without either, the spec's own folder.
 */
export function dvcRepositoryRoot(specDir: string): string {
  for (const marker of ['.dvc', '.git']) {
    for (let dir = specDir; ; dir = path.dirname(dir)) {
      if (existsSync(path.join(dir, marker))) return dir;
      if (path.dirname(dir) === dir) break;
    }
  }
  return specDir;
}
