import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The probe's float64 SIMD kernels (kernels/dense.c). Operands live in one scratch region of the
 * module's memory: `scratch(...)` lays out views of the requested lengths (each rounded up to an
 * even count, so the kernels' two-lane loops need no tail) and they stay valid until the next
 * `scratch` call, which may grow the memory and so detach them.
 */
interface Exports {
  weighted_gram(columns: number, c: number, n: number, D: number, weighted: number, out: number): void;
  project(basis: number, rank: number, d: number, r: number, c: number): void;
  weighted_gram_product(x: number, c: number, v: number, n: number, d: number, out: number): void;
  margins(x: number, v: number, n: number, d: number, out: number): void;
  transposed_product(x: number, a: number, n: number, d: number, out: number): void;
}

export const even = (length: number) => length + (length & 1);

class DenseKernels {
  readonly memory = new WebAssembly.Memory({ initial: 1, maximum: 65536 });
  readonly exports: Exports;
  /** Bytes held by `hold` at the bottom of the memory; scratch starts above them. */
  private held = 0;

  constructor() {
    const file = fileURLToPath(new URL('../../../stages/baseline/kernels/dense.wasm', import.meta.url));
    const module = new WebAssembly.Module(readFileSync(file));
    this.exports = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as Exports;
  }

  private reserve(bytes: number): void {
    const pages = Math.ceil(bytes / 65536);
    const have = this.memory.buffer.byteLength / 65536;
    if (pages > have) this.memory.grow(pages - have);
  }

  /**
   * Copies `rows` rows of `length` entries into memory that stays put until `release`, each
   * row padded to an even length with zeros; returns its byte offset. Holds nest: `release(top)`
   * frees every hold made since `top` was read.
   */
  hold(values: Float64Array, rows: number, length: number): number {
    const stride = even(length);
    const offset = this.held;
    this.reserve(offset + rows * stride * 8);
    const target = new Float64Array(this.memory.buffer, offset, rows * stride);
    if (stride === length) target.set(values.subarray(0, rows * length));
    else for (let i = 0; i < rows; i++) target.set(values.subarray(i * length, (i + 1) * length), i * stride);
    this.held = offset + rows * stride * 8;
    return offset;
  }

  /** Where the held memory ends now: `release` it to free everything held since. */
  get top(): number {
    return this.held;
  }

  release(top: number): void {
    this.held = Math.min(this.held, top);
    for (const [at, close] of [...this.closers]) {
      if (at < top) continue;
      this.closers.delete(at);
      close();
    }
  }

  private readonly closers = new Map<number, () => void>();

  /** Runs `close` when the hold at `offset` is released (a worker that holds the other half). */
  onRelease(offset: number, close: () => void): void {
    this.closers.set(offset, close);
  }

  /** Zeroed views of these lengths, 16-byte aligned, one after the other, above the held memory. */
  scratch(...lengths: number[]): Float64Array[] {
    const bytes = lengths.reduce((total, length) => total + even(length) * 8, 0);
    this.reserve(this.held + bytes);
    const views: Float64Array[] = [];
    let offset = this.held;
    for (const length of lengths) {
      const view = new Float64Array(this.memory.buffer, offset, even(length));
      view.fill(0);
      views.push(view.subarray(0, length));
      offset += even(length) * 8;
    }
    return views;
  }
}

/** The products over held rows (`rowProduct`). */
export const enum RowProduct {
  /** x_i . v + v_intercept per row: `rows` entries. */
  Margins = 1,
  /** X~^T a: stride + 1 entries. */
  Transposed = 2,
  /** X~^T diag(c) X~ v: stride + 1 entries. */
  WeightedGramProduct = 3,
}

/**
 * One product over `rows` rows held at `held` (rows padded to `stride`): `vector` as the kernels
 * read it (stride + 1 entries, the intercept last), `weights` one per row. Returns a copy of
 * the result.
 */
export function rowProduct(product: RowProduct, held: number, rows: number, stride: number, vector: Float64Array | undefined, weights: Float64Array | undefined): Float64Array {
  const kernels = denseKernels();
  const [v, w, result] = kernels.scratch(stride + 1, rows, product === RowProduct.Margins ? rows : stride + 1);
  if (vector) v.set(vector);
  if (weights) w.set(weights);
  if (product === RowProduct.Margins) kernels.exports.margins(held, v.byteOffset, rows, stride, result.byteOffset);
  else if (product === RowProduct.Transposed) kernels.exports.transposed_product(held, w.byteOffset, rows, stride, result.byteOffset);
  else kernels.exports.weighted_gram_product(held, w.byteOffset, v.byteOffset, rows, stride, result.byteOffset);
  return result.slice();
}

let instance: DenseKernels | undefined;

/** The one instance (compiled on first use). */
export function denseKernels(): DenseKernels {
  instance ??= new DenseKernels();
  return instance;
}
