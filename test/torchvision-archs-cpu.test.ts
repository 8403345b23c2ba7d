/** The torchvision architectures against torchvision's numbers on tfjs's cpu backend (pure JavaScript), as on wasm. */
process.env.PIPELINE_ARCHS_TEST_BACKEND = 'cpu';
await import('./torchvision-archs.test.js');
