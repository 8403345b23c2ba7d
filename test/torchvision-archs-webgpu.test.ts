/** The torchvision architectures against torchvision's numbers on the WebGPU backend, as on wasm. */
process.env.PIPELINE_ARCHS_TEST_BACKEND = 'webgpu';
await import('./torchvision-archs.test.js');
