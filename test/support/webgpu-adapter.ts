import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Why WebGPU cannot start here (no Vulkan loader, or a loader with no usable adapter, as on
 * Debian 12 with bookworm's Mesa 22.3), or false when it can: asked of a child process, so the
 * test's own process keeps its backend.
 */
export function webgpuUnavailable(): string | false {
  const backend = fileURLToPath(new URL('../../stages/train/backend.js', import.meta.url));
  const probe = `import(${JSON.stringify(backend)}).then((m) => m.initBackend('webgpu')).then(() => process.exit(0), (e) => { process.stdout.write(e.message); process.exit(1); })`;
  const result = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', timeout: 60_000 });
  return result.status === 0 ? false : result.stdout.trim() || result.stderr.trim().split('\n').pop() || `exit ${result.status}`;
}
