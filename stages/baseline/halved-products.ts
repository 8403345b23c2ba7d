import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { denseKernels, even, RowProduct, rowProduct } from './kernels.js';

/**
 * A large matrix's row products computed in two halves, the first on this thread and the second
 * on a worker's core: the passes over 50k x 768 samples are memory-bound, and two cores read
 * twice as fast. The halves' partial sums are always added in the same order, and a machine
 * with one core computes both halves here, so the bits do not depend on the machine. Whether a
 * matrix is halved depends only on its size (`halves`).
 */
export const enum Control {
  Sequence = 0,
  Command = 1,
  Done = 2,
}

/** The command word's value that stops the worker (the others are RowProduct's). */
export const STOP = 4;

/** Below this many entries one pass is too short to share. */
const HALVE_FROM = 4_000_000;

export const halves = (n: number, d: number) => n * d >= HALVE_FROM && n >= 8;

/** A wait longer than this means the worker died: fail instead of hanging. */
const WORKER_TIMEOUT_MS = 120_000;

export class HalvedProducts {
  private readonly split: number;
  private readonly stride: number;
  private readonly first: number;
  /** The second half's copy when it is computed here too (one core). */
  private readonly second?: number;
  private readonly worker?: Worker;
  private readonly control?: Int32Array;
  private readonly io?: Float64Array;

  /** Halves `data` (n x d, row-major): holds the first half, and the second in a worker (more than one core) or here. */
  constructor(data: Float64Array, private readonly n: number, d: number, useWorker = availableParallelism() > 1) {
    this.split = Math.floor(n / 2);
    this.stride = even(d);
    const kernels = denseKernels();
    this.first = kernels.hold(data.subarray(0, this.split * d), this.split, d);
    kernels.onRelease(this.first, () => this.close());
    const rest = n - this.split;
    if (!useWorker) {
      this.second = kernels.hold(data.subarray(this.split * d), rest, d);
      return;
    }
    const control = new SharedArrayBuffer(3 * 4);
    const io = new SharedArrayBuffer((this.stride + 1 + rest + Math.max(rest, this.stride + 1)) * 8);
    this.control = new Int32Array(control);
    this.io = new Float64Array(io);
    const rows = data.slice(this.split * d);
    this.worker = new Worker(new URL('./product-worker.js', import.meta.url), { workerData: { control, io, rows, n: rest, d }, transferList: [rows.buffer] });
    // It starts on its own thread while this one computes (or blocks in Atomics.wait for it).
    this.worker.unref();
  }

  /** The second half's result of a product, from this thread or (waiting for it) the worker. */
  private other(kind: RowProduct, vector: Float64Array | undefined, weights: Float64Array | undefined): () => Float64Array {
    const { stride, split, n } = this;
    const rest = n - split;
    if (this.second !== undefined) {
      const result = rowProduct(kind, this.second, rest, stride, vector, weights?.subarray(split, n));
      return () => result;
    }
    const io = this.io!;
    const control = this.control!;
    if (vector) io.set(vector);
    if (weights) io.set(weights.subarray(split, n), stride + 1);
    const done = Atomics.load(control, Control.Done);
    Atomics.store(control, Control.Command, kind);
    Atomics.add(control, Control.Sequence, 1);
    Atomics.notify(control, Control.Sequence);
    return () => {
      if (Atomics.wait(control, Control.Done, done, WORKER_TIMEOUT_MS) === 'timed-out' && Atomics.load(control, Control.Done) === done) {
        throw new Error('the probe\'s product worker stopped answering');
      }
      const length = kind === RowProduct.Margins ? rest : stride + 1;
      return io.slice(stride + 1 + rest, stride + 1 + rest + length);
    };
  }

  /**
   * A product as `rowProduct` gives it for all n rows: margins are the halves' one after the
   * other, sums the first half's plus the second's.
   */
  product(kind: RowProduct, vector: Float64Array | undefined, weights: Float64Array | undefined): Float64Array {
    const { split, stride } = this;
    const wait = this.other(kind, vector, weights);
    const mine = rowProduct(kind, this.first, split, stride, vector, weights?.subarray(0, split));
    const theirs = wait();
    if (kind === RowProduct.Margins) {
      const out = new Float64Array(this.n);
      out.set(mine);
      out.set(theirs, split);
      return out;
    }
    for (let j = 0; j <= stride; j++) mine[j] = mine[j]! + theirs[j]!;
    return mine;
  }

  private closed = false;

  close(): void {
    if (!this.worker || this.closed) return;
    this.closed = true;
    Atomics.store(this.control!, Control.Command, STOP);
    Atomics.add(this.control!, Control.Sequence, 1);
    Atomics.notify(this.control!, Control.Sequence);
    void this.worker.terminate();
  }
}
