import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { denseKernels, even } from './kernels.js';

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

export const enum Command {
  Margins = 1,
  Transposed = 2,
  WeightedGramProduct = 3,
  Stop = 4,
}

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

  /** The worker's (or this thread's) half of a command; `inputs` writes its operands into io. */
  private other(command: Command, vector: Float64Array | undefined, weights: Float64Array | undefined, out: Float64Array, length: number): () => void {
    const { stride, split, n } = this;
    const rest = n - split;
    if (this.second !== undefined) {
      const kernels = denseKernels();
      const [v, w, result] = kernels.scratch(stride + 1, rest, Math.max(rest, stride + 1));
      if (vector) v.set(vector);
      if (weights) w.set(weights.subarray(split, n));
      if (command === Command.Margins) kernels.exports.margins(this.second, v.byteOffset, rest, stride, result.byteOffset);
      else if (command === Command.Transposed) kernels.exports.transposed_product(this.second, w.byteOffset, rest, stride, result.byteOffset);
      else kernels.exports.weighted_gram_product(this.second, w.byteOffset, v.byteOffset, rest, stride, result.byteOffset);
      const copy = result.slice(0, length);
      return () => out.set(copy);
    }
    const io = this.io!;
    const control = this.control!;
    if (vector) io.set(vector);
    if (weights) io.set(weights.subarray(split, n), stride + 1);
    const done = Atomics.load(control, Control.Done);
    Atomics.store(control, Control.Command, command);
    Atomics.add(control, Control.Sequence, 1);
    Atomics.notify(control, Control.Sequence);
    return () => {
      if (Atomics.wait(control, Control.Done, done, WORKER_TIMEOUT_MS) === 'timed-out' && Atomics.load(control, Control.Done) === done) {
        throw new Error('the probe\'s product worker stopped answering');
      }
      out.set(io.subarray(stride + 1 + rest, stride + 1 + rest + length));
    };
  }

  /** out[i] = x_i . v[0..d) + v[d] for every row (v as the kernels read it: padded, then the intercept). */
  margins(vector: Float64Array, out: Float64Array): void {
    const { split, stride, n } = this;
    const rest = new Float64Array(n - split);
    const wait = this.other(Command.Margins, vector, undefined, rest, n - split);
    const kernels = denseKernels();
    const [v, result] = kernels.scratch(stride + 1, split);
    v.set(vector);
    kernels.exports.margins(this.first, v.byteOffset, split, stride, result.byteOffset);
    out.set(result);
    wait();
    out.set(rest, split);
  }

  /** X~^T a (padded length stride + 1: the intercept's sum last). */
  transposed(a: Float64Array, out: Float64Array): void {
    this.summed(Command.Transposed, undefined, a, out);
  }

  /** X~^T diag(c) X~ v (v padded as the kernels read it). */
  weightedGramProduct(c: Float64Array, vector: Float64Array, out: Float64Array): void {
    this.summed(Command.WeightedGramProduct, vector, c, out);
  }

  private summed(command: Command, vector: Float64Array | undefined, weights: Float64Array, out: Float64Array): void {
    const { split, stride } = this;
    const partial = new Float64Array(stride + 1);
    const wait = this.other(command, vector, weights, partial, stride + 1);
    const kernels = denseKernels();
    const [v, w, result] = kernels.scratch(stride + 1, split, stride + 1);
    if (vector) v.set(vector);
    w.set(weights.subarray(0, split));
    if (command === Command.Transposed) kernels.exports.transposed_product(this.first, w.byteOffset, split, stride, result.byteOffset);
    else kernels.exports.weighted_gram_product(this.first, w.byteOffset, v.byteOffset, split, stride, result.byteOffset);
    const mine = result.slice();
    wait();
    for (let j = 0; j <= stride; j++) out[j] = mine[j]! + partial[j]!;
  }

  private closed = false;

  close(): void {
    if (!this.worker || this.closed) return;
    this.closed = true;
    Atomics.store(this.control!, Control.Command, Command.Stop);
    Atomics.add(this.control!, Control.Sequence, 1);
    Atomics.notify(this.control!, Control.Sequence);
    void this.worker.terminate();
  }
}
