// The same checks on the single-threaded wasm build, whose memory is not shared: our kernel
// module is then the variant that imports an unshared memory and runs without workers.
process.env.KERNEL_TEST_THREADS = '1';
await import('./kernels.test.js');
