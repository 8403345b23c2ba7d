import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adapterMatches, assignedGpu, driPrimeTag, parseNvidiaSmi, type NvidiaGpu } from '../../stages/train/webgpu/device.js';

// `nvidia-smi --query-gpu=index,uuid,name,pci.bus_id --format=csv,noheader` on a two-GPU node.
const SMI = `0, GPU-5b3f1a7e-2c44-9d1b-0e6a-7f8e9a0b1c2d, NVIDIA H200, 00000000:17:00.0
1, GPU-9c2d4e6f-8a0b-1c3d-5e7f-9a1b3c5d7e9f, NVIDIA H200, 00000000:2A:00.0
`;
const gpus = (): NvidiaGpu[] => parseNvidiaSmi(SMI);

describe('WebGPU: the GPU CUDA_VISIBLE_DEVICES assigns, mapped to its Vulkan device', () => {
  it('reads nvidia-smi and turns PCI bus ids into the device-select layer\'s tag', () => {
    assert.deepEqual(gpus()[1], { index: 1, uuid: 'GPU-9c2d4e6f-8a0b-1c3d-5e7f-9a1b3c5d7e9f', name: 'NVIDIA H200', pciBusId: '00000000:2A:00.0' });
    assert.equal(driPrimeTag('00000000:2A:00.0'), 'pci-0000_2a_00_0');
    assert.equal(driPrimeTag('0001:c1:00.3'), 'pci-0001_c1_00_3');
    assert.throws(() => driPrimeTag('2A:00'), /unexpected PCI bus id/);
    assert.throws(() => parseNvidiaSmi('No devices were found'), /unexpected nvidia-smi line/);
  });

  it('an index or a UUID (or its prefix) selects the GPU; only the first entry counts', () => {
    const byIndex = assignedGpu('1,0', gpus)!;
    assert.equal(byIndex.gpu.index, 1);
    assert.deepEqual(byIndex.env, { DRI_PRIME: 'pci-0000_2a_00_0', MESA_VK_DEVICE_SELECT_FORCE_DEFAULT_DEVICE: '1' });
    assert.equal(assignedGpu('GPU-5b3f1a7e', gpus)!.gpu.index, 0);
    assert.equal(assignedGpu(undefined, () => assert.fail('nvidia-smi is not asked when nothing is assigned')), undefined);
  });

  it('no GPU, a MIG slice or an unknown GPU is a clear error', () => {
    assert.throws(() => assignedGpu('', gpus), /CUDA_VISIBLE_DEVICES="" assigns no GPU/);
    assert.throws(() => assignedGpu('-1', gpus), /assigns no GPU/);
    assert.throws(() => assignedGpu('MIG-1234', gpus), /MIG slice, which Vulkan cannot open/);
    assert.throws(() => assignedGpu('3', gpus), /assigns GPU 3, which nvidia-smi does not list \(it lists 0 GPU-5b3f/);
  });

  it('accepts only the assigned model from Dawn, by its name', () => {
    const gpu = gpus()[0]!;
    assert.ok(adapterMatches(gpu, { vendor: 'nvidia', device: 'NVIDIA H200', description: 'NVIDIA H200 (driver 580.65)' }));
    assert.ok(adapterMatches(gpu, { vendor: 'nvidia', device: 'nvidia-h200', description: '' }));
    assert.ok(!adapterMatches(gpu, { vendor: 'nvidia', device: 'NVIDIA H100 80GB HBM3', description: '' }));
    assert.ok(!adapterMatches(gpu, { vendor: 'mesa', device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: 'llvmpipe: Mesa 25.0.7' }));
  });
});
