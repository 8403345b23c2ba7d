/**
 * Runs one kernel call on several threads over a shared wasm memory. Thread t calls the kernel
 * with (part = t, parts = threads) and computes only its share of the outputs; the calling
 * thread is part 0 and blocks until the others are done (a kernel is a synchronous tfjs kernel
 * function). Workers sleep in Atomics.wait between calls: waking one costs microseconds, against
 * milliseconds of work per call.
 */
import { Worker } from 'node:worker_threads';

/** Control words in a shared Int32Array. */
const GENERATION = 0; // bumped by the caller to start a call; -1 tells workers to exit
const DONE = 1; // workers that finished the current call
const FAILED = 2; // set when a worker's call threw
const READY = 3; // workers that have instantiated the module
const KERNEL = 4; // index of the kernel in the worker's name list
const ARG_COUNT = 5;
const CONTROL_WORDS = 8;
const MAX_ARGS = 32;
const STARTUP_TIMEOUT_MS = 30_000;

const workerSource = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, args, part, parts, names } = workerData;
const instance = new WebAssembly.Instance(module, { env: { memory } });
const ctl = new Int32Array(control);
const argv = new Float64Array(args);
Atomics.add(ctl, ${READY}, 1);
Atomics.notify(ctl, ${READY});
let seen = 0;
for (;;) {
  Atomics.wait(ctl, ${GENERATION}, seen);
  seen = Atomics.load(ctl, ${GENERATION});
  if (seen < 0) break;
  try {
    const fn = instance.exports[names[ctl[${KERNEL}]]];
    fn(...Array.from(argv.subarray(0, ctl[${ARG_COUNT}])), part, parts);
  } catch (error) {
    Atomics.store(ctl, ${FAILED}, 1);
    console.error(error);
  }
  Atomics.add(ctl, ${DONE}, 1);
  Atomics.notify(ctl, ${DONE});
}
`;

export class KernelPool {
  readonly threads: number;
  private readonly instance: WebAssembly.Instance;
  private readonly names: string[];
  private readonly control = new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4));
  private readonly args = new Float64Array(new SharedArrayBuffer(MAX_ARGS * 8));
  private readonly workers: Worker[] = [];
  private started = false;

  constructor(
    private readonly module: WebAssembly.Module,
    private readonly memory: WebAssembly.Memory,
    threads: number,
  ) {
    this.threads = Math.max(1, threads);
    this.instance = new WebAssembly.Instance(module, { env: { memory } });
    this.names = WebAssembly.Module.exports(module)
      .filter((e) => e.kind === 'function')
      .map((e) => e.name);
  }

  run(name: string, args: readonly number[]): void {
    const fn = this.instance.exports[name] as ((...a: number[]) => void) | undefined;
    if (!fn) throw new Error(`the kernel module has no ${name}`);
    if (this.threads === 1) {
      fn(...args, 0, 1);
      return;
    }
    this.start();
    const ctl = this.control;
    this.args.set(args);
    Atomics.store(ctl, KERNEL, this.names.indexOf(name));
    Atomics.store(ctl, ARG_COUNT, args.length);
    Atomics.store(ctl, DONE, 0);
    Atomics.add(ctl, GENERATION, 1);
    Atomics.notify(ctl, GENERATION);
    fn(...args, 0, this.threads);
    const others = this.threads - 1;
    for (let done = Atomics.load(ctl, DONE); done < others; done = Atomics.load(ctl, DONE)) Atomics.wait(ctl, DONE, done);
    if (Atomics.exchange(ctl, FAILED, 0)) throw new Error(`kernel ${name} failed on a worker thread`);
  }

  /** Starts the workers on first use and waits until each has its instance. */
  private start(): void {
    if (this.started) return;
    this.started = true;
    for (let part = 1; part < this.threads; part++) {
      const worker = new Worker(workerSource, {
        eval: true,
        workerData: { module: this.module, memory: this.memory, control: this.control.buffer, args: this.args.buffer, part, parts: this.threads, names: this.names },
      });
      // Idle workers must not keep the process alive.
      worker.unref();
      this.workers.push(worker);
    }
    const ctl = this.control;
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    for (let ready = Atomics.load(ctl, READY); ready < this.threads - 1; ready = Atomics.load(ctl, READY)) {
      if (Date.now() > deadline) throw new Error(`kernel worker threads: ${ready} of ${this.threads - 1} started within ${STARTUP_TIMEOUT_MS / 1000} s`);
      Atomics.wait(ctl, READY, ready, 1000);
    }
  }
}
