import { spawnSync } from 'node:child_process';

/**
 * A python3 that imports torch and torchvision (Debian's python3-torchvision, in /usr/bin when a
 * pyenv shim comes first on PATH): PIPELINE_TORCH_PYTHON, else the first that works. Undefined
 * when none does; CI (PIPELINE_REQUIRE_SERVICES=1) installs it and must not skip.
 */
export function torchPython(): string | undefined {
  return pythonImporting(['torch', 'torchvision'], 'python3-torchvision');
}

/** A python3 that imports every module (PIPELINE_TORCH_PYTHON, python3, /usr/bin/python3); undefined when none does, an error on CI. */
export function pythonImporting(modules: readonly string[], debianPackage: string): string | undefined {
  const candidates = [process.env.PIPELINE_TORCH_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c));
  const found = candidates.find((python) => spawnSync(python, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' }).status === 0);
  if (!found && process.env.PIPELINE_REQUIRE_SERVICES === '1') throw new Error(`PIPELINE_REQUIRE_SERVICES=1 but no python3 imports ${modules.join(' and ')} (apt-get install ${debianPackage})`);
  return found;
}
