/**
 * The second half of a matrix's rows and its products (see halved-products.ts): waits on the
 * shared control words, computes the command on its rows with the same kernels, signals done.
 */
import { workerData } from 'node:worker_threads';
import { denseKernels, even, rowProduct, type RowProduct } from './kernels.js';
import { Control, STOP } from './halved-products.js';

interface Setup {
  control: SharedArrayBuffer;
  io: SharedArrayBuffer;
  rows: Float64Array;
  n: number;
  d: number;
}

const { control: controlBuffer, io: ioBuffer, rows, n, d } = workerData as Setup;
const control = new Int32Array(controlBuffer);
const io = new Float64Array(ioBuffer);
const kernels = denseKernels();
const held = kernels.hold(rows, n, d);
const stride = even(d);
let seen = 0;
for (;;) {
  Atomics.wait(control, Control.Sequence, seen);
  seen = Atomics.load(control, Control.Sequence);
  const command = Atomics.load(control, Control.Command);
  if (command === STOP) break;
  // io: [vector (stride + 1) | weights (n) | result (max(n, stride + 1))]
  const result = rowProduct(command as RowProduct, held, n, stride, io.subarray(0, stride + 1), io.subarray(stride + 1, stride + 1 + n));
  io.set(result, stride + 1 + n);
  Atomics.add(control, Control.Done, 1);
  Atomics.notify(control, Control.Done);
}
