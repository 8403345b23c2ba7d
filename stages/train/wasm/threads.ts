/**
 * Starts tfjs-backend-wasm's threaded (pthreads + SIMD) build in Node, which tfjs 4.22 refuses
 * to do: its WASM_HAS_MULTITHREAD_SUPPORT flag is false under Node (tfjs issue 3830) and the
 * Emscripten glue creates its workers from blob: URLs, which node:worker_threads rejects. We
 * write the two scripts it would put in blobs to files and hand Node their paths. XNNPACK then
 * splits each convolution and GEMM over the threads: 1.7-1.9x on the 2 cores here.
 *
 * Call before `tf.setBackend('wasm')`, once per process. The pool's workers keep the process
 * alive, so a program that uses this ends with `process.exit` (every stage does).
 */
import { mkdirSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import * as wasm from '@tensorflow/tfjs-backend-wasm';

const require = createRequire(import.meta.url);

interface LoadMessage {
  cmd?: string;
  urlOrBlob?: unknown;
}

/** Writes `text` to `file` unless it is there: same-named files hold the same text (versioned dir). */
function writeOnce(file: string, text: string): void {
  if (existsSync(file)) return;
  const partial = `${file}.${process.pid}.partial`;
  writeFileSync(partial, text);
  renameSync(partial, file);
}

function scripts(): { worker: string; main: string } {
  const root = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const dir = path.join(os.tmpdir(), `pipeline-tfjs-wasm-${wasm.version_wasm}`);
  mkdirSync(dir, { recursive: true });
  const worker = path.join(dir, 'threaded-simd.worker.js');
  const main = path.join(dir, 'threaded-simd.main.js');
  const workerModule = require(path.join(root, 'wasm-out/tfjs-backend-wasm-threaded-simd.worker.js')) as { wasmWorkerContents: string };
  // The same escaping tfjs applies before it makes the blob.
  writeOnce(worker, workerModule.wasmWorkerContents.replace(/\n/g, '\\n'));
  const factory = require(path.join(root, 'wasm-out/tfjs-backend-wasm-threaded-simd.js')) as { default?: unknown } | (() => unknown);
  const fn = (typeof factory === 'function' ? factory : factory.default) as () => unknown;
  writeOnce(main, `var WasmBackendModuleThreadedSimd = ${fn.toString()}`);
  return { worker, main };
}

let patched = false;
let restoreCpus: (() => void) | undefined;

/** Makes the next `tf.setBackend('wasm')` start the threaded build with `threads` threads. */
export function useWasmThreads(threads: number): void {
  const files = scripts();
  if (!patched) {
    patched = true;
    // The worker script is the only application/javascript blob the glue turns into a URL.
    const createObjectURL = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (blob: Blob) => (blob?.type === 'application/javascript' ? files.worker : createObjectURL(blob));
    // The main script travels to each worker as a blob in its 'load' message: send the path.
    const postMessage = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (this: Worker, message: LoadMessage, transfer?: readonly Transferable[]) {
      if (message?.cmd === 'load' && message.urlOrBlob && typeof message.urlOrBlob !== 'string') message.urlOrBlob = files.main;
      return postMessage.call(this, message, transfer as never);
    } as typeof Worker.prototype.postMessage;
  }
  // XNNPACK caps its pool at half the logical cores Emscripten reports (1 of 2 here); report
  // enough for `threads` until the module has started.
  const cpus = os.cpus;
  os.cpus = () => {
    const list = cpus();
    while (list.length > 0 && list.length < 2 * threads) list.push(list[0]!);
    return list;
  };
  restoreCpus = () => {
    os.cpus = cpus;
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
}

/** Undoes the core-count patch once the backend is up. */
export function wasmThreadsStarted(): void {
  restoreCpus?.();
  restoreCpus = undefined;
}
