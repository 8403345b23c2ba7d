/**
 * Which Vulkan device a WebGPU training process may use. The GPU pool and Slurm assign GPUs
 * through CUDA_VISIBLE_DEVICES, which CUDA honours and Vulkan does not: every GPU of the node
 * stays visible to Dawn. We map the first assigned entry (an index or a GPU-UUID, as nvidia-smi
 * numbers them) to its PCI address and ask Mesa's device-select layer (installed with
 * mesa-vulkan-drivers; it sits in front of every Vulkan driver, NVIDIA's too) to expose that
 * device alone: DRI_PRIME=pci-DDDD_BB_DD_F with MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE=1.
 * The adapter Dawn then returns is checked against the assigned GPU's name.
 */
import { spawnSync } from 'node:child_process';

export interface NvidiaGpu {
  index: number;
  uuid: string;
  name: string;
  /** As nvidia-smi prints it: 00000000:17:00.0 */
  pciBusId: string;
}

export interface GpuAssignment {
  /** The CUDA_VISIBLE_DEVICES entry it came from. */
  entry: string;
  gpu: NvidiaGpu;
  /** Environment for the Vulkan loader's layers, set before Dawn creates its instance. */
  env: Record<string, string>;
}

export const NVIDIA_SMI_QUERY = ['--query-gpu=index,uuid,name,pci.bus_id', '--format=csv,noheader'];

export function parseNvidiaSmi(csv: string): NvidiaGpu[] {
  return csv
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [index, uuid, name, pciBusId] = line.split(',').map((f) => f.trim());
      if (!index || !uuid || !name || !pciBusId || !/^\d+$/.test(index)) throw new Error(`unexpected nvidia-smi line: ${line}`);
      return { index: Number(index), uuid, name, pciBusId };
    });
}

/** 00000000:17:00.0 -> pci-0000_17_00_0, the form Mesa's device-select layer matches. */
export function driPrimeTag(pciBusId: string): string {
  const m = /^([0-9a-f]+):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7])$/i.exec(pciBusId.trim());
  if (!m) throw new Error(`unexpected PCI bus id ${pciBusId}`);
  const domain = m[1]!.slice(-4).padStart(4, '0');
  return `pci-${domain}_${m[2]}_${m[3]}_${m[4]}`.toLowerCase();
}

/**
 * The GPU that CUDA_VISIBLE_DEVICES assigns (its first entry: one training process uses one
 * device), or undefined when the variable is unset (no scheduler chose: Dawn's default adapter).
 */
export function assignedGpu(visible: string | undefined, gpus: () => NvidiaGpu[]): GpuAssignment | undefined {
  if (visible === undefined) return undefined;
  const entry = visible.split(',')[0]!.trim();
  if (entry === '' || entry === '-1' || entry === 'NoDevFiles') throw new Error(`CUDA_VISIBLE_DEVICES=${JSON.stringify(visible)} assigns no GPU: unset it, or run on the cpu/wasm backend`);
  if (entry.startsWith('MIG-')) throw new Error(`CUDA_VISIBLE_DEVICES=${visible} assigns a MIG slice, which Vulkan cannot open: assign a whole GPU to WebGPU training`);
  const all = gpus();
  const gpu = /^\d+$/.test(entry) ? all.find((g) => g.index === Number(entry)) : all.find((g) => g.uuid === entry || g.uuid.startsWith(entry));
  if (!gpu) throw new Error(`CUDA_VISIBLE_DEVICES=${visible} assigns GPU ${entry}, which nvidia-smi does not list (it lists ${all.map((g) => `${g.index} ${g.uuid}`).join(', ') || 'none'})`);
  return { entry, gpu, env: { DRI_PRIME: driPrimeTag(gpu.pciBusId), MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: '1' } };
}

export function nvidiaSmiGpus(): NvidiaGpu[] {
  const run = spawnSync('nvidia-smi', NVIDIA_SMI_QUERY, { encoding: 'utf8' });
  if (run.error || run.status !== 0) throw new Error(`CUDA_VISIBLE_DEVICES assigns a GPU, but nvidia-smi ${run.error ? 'is not on PATH' : `failed: ${run.stderr.trim()}`}, so it cannot be mapped to a Vulkan device`);
  return parseNvidiaSmi(run.stdout);
}

const words = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

/** Whether the adapter Dawn returned is the assigned GPU (Dawn reports names, not PCI addresses). */
export function adapterMatches(gpu: NvidiaGpu, adapter: { vendor: string; device: string; description: string }): boolean {
  const name = words(gpu.name).replace(/^nvidia /, '');
  return adapter.vendor.toLowerCase().includes('nvidia') && (words(adapter.device).includes(name) || words(adapter.description).includes(name));
}
