import { spawnSync } from 'node:child_process';

/**
 * A python3 that imports torch and torchvision (Debian's python3-torchvision, in /usr/bin when a
 * pyenv shim comes first on PATH): PIPELINE_TORCH_PYTHON, else the first that works. Undefined
 * when none does; CI (PIPELINE_REQUIRE_SERVICES=1) installs it and must not skip.
 */
export function torchPython(): string | undefined {
  const candidates = [process.env.PIPELINE_TORCH_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c));
  const found = candidates.find((python) => spawnSync(python, ['-c', 'import torch, torchvision'], { stdio: 'ignore' }).status === 0);
  if (!found && process.env.PIPELINE_REQUIRE_SERVICES === '1') throw new Error('PIPELINE_REQUIRE_SERVICES=1 but no python3 imports torch and torchvision (apt-get install python3-torchvision)');
  return found;
}
