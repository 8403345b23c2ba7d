/**
 * Starts tfjs's WebGPU backend on Dawn (the `webgpu` package, an optional dependency: its
 * binary ships inside the npm package, nothing is downloaded) over Vulkan, on the GPU the
 * scheduler assigned (device.ts), with our training kernels.
 */
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { adapterMatches, assignedGpu, nvidiaSmiGpus } from './device.js';
import { registerWebGpuTrainingKernels } from './index.js';

export interface WebGpuStart {
  detail: string;
}

/** A cheap test before loading Dawn: a GPU's device node exists (NVIDIA's, or a DRM render node). */
export function gpuDevicePresent(): boolean {
  if (existsSync('/dev/nvidiactl')) return true;
  try {
    return readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  } catch {
    return false;
  }
}

interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter?: boolean;
}

/**
 * Returns undefined (with the reason) when no usable adapter exists; `allowSoftware` accepts
 * a CPU implementation of Vulkan such as Mesa's lavapipe (for tests: slower than wasm).
 */
export async function startWebGpu(allowSoftware: boolean, env: NodeJS.ProcessEnv = process.env): Promise<WebGpuStart | { unavailable: string }> {
  let dawn: typeof import('webgpu');
  try {
    dawn = await import('webgpu');
  } catch (error) {
    return { unavailable: `the optional dependency 'webgpu' does not load (${(error as Error).message.split('\n')[0]}); npm install webgpu` };
  }
  const assignment = assignedGpu(env.CUDA_VISIBLE_DEVICES, nvidiaSmiGpus);
  // Read by the Vulkan loader's layers when Dawn creates its instance, so before create().
  if (assignment) Object.assign(process.env, assignment.env);
  Object.assign(globalThis, dawn.globals);
  const gpu = dawn.create([]);
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  const assigned = assignment && `GPU ${assignment.entry} (${assignment.gpu.name}, PCI ${assignment.gpu.pciBusId})`;
  if (!adapter) return { unavailable: assigned ? `CUDA_VISIBLE_DEVICES assigns ${assigned}, which has no Vulkan adapter: install the NVIDIA Vulkan driver (nvidia_icd.json) and libvulkan1` : 'no Vulkan adapter (install libvulkan1 and a Vulkan driver)' };
  const info = adapter.info as unknown as AdapterInfo;
  const name = info.description || info.device;
  if (assignment && !adapterMatches(assignment.gpu, info)) throw new Error(`CUDA_VISIBLE_DEVICES assigns ${assigned}, but Vulkan offers ${name} (${info.vendor}) for it: install mesa-vulkan-drivers (its device-select layer maps the assignment) and the NVIDIA Vulkan driver`);
  if (info.isFallbackAdapter && !allowSoftware) return { unavailable: `the only adapter is ${name}, a software renderer (slower than wasm)` };
  // tfjs-backend-webgpu registers itself on import only where navigator.gpu exists, and asks it
  // for an adapter: hand it the one chosen here. navigator.gpu also holds Dawn's instance,
  // which must outlive every device made from it (collected early, it takes the process down).
  gpu.requestAdapter = async () => adapter;
  // tfjs 4.22 asks for ['bgra8unorm-storage'] nested in its feature list; some Dawn builds reject that.
  const requestDevice = adapter.requestDevice.bind(adapter);
  adapter.requestDevice = (descriptor?: GPUDeviceDescriptor) => requestDevice(descriptor && { ...descriptor, requiredFeatures: descriptor.requiredFeatures && [...descriptor.requiredFeatures].flat() });
  Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error(`tfjs-backend-webgpu failed to start on ${name}`);
  // PIPELINE_WEBGPU_STOCK_KERNELS=1 keeps tfjs's own kernels: the benchmark's baseline.
  if (env.PIPELINE_WEBGPU_STOCK_KERNELS !== '1') registerWebGpuTrainingKernels();
  return { detail: `${env.PIPELINE_WEBGPU_STOCK_KERNELS === '1' ? "tfjs's own kernels, " : ''}tfjs-backend-webgpu ${(createRequire(import.meta.url)('@tensorflow/tfjs-backend-webgpu/package.json') as { version: string }).version} on ${name} (${[info.vendor, info.architecture].filter(Boolean).join(' ')})` };
}

/**
 * Lets a process that used WebGPU exit by itself (Dawn's instance keeps Node's event loop
 * alive while referenced). Stage processes exit explicitly; tests call this.
 */
export function stopWebGpu(): void {
  if (tf.findBackend('webgpu')) tf.removeBackend('webgpu');
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav) delete nav.gpu;
}
