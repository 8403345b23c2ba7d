import { readFileSync } from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { PersistentId, PickleGlobal, readPickle, Reduce, UnsafePickleError } from './pickle.js';

/** One tensor of a state_dict, as float32 (what the backends train in), with its shape as PyTorch has it. */
export interface WeightTensor {
  shape: number[];
  values: Float32Array;
  /** The dtype in the file (`float32`, `float16`, `int64`, ...). */
  dtype: string;
}

/** Parameter and buffer names (torchvision's state_dict keys) -> tensors, in the file's order. */
export type StateDict = Map<string, WeightTensor>;

export class WeightsFileError extends Error {}

/** What torch.save writes for a state_dict, and nothing else (DESIGN.md, "Pretrained backbones"). */
const STORAGES: Record<string, string> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
};
const ALLOWED = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  ...Object.keys(STORAGES).map((name) => `torch.${name}`),
]);

/** Reads a `.pth`/`.pt` (torch.save's zip) or `.safetensors` state_dict; `shown` names the file in errors. */
export function readStateDict(file: string, shown = file): StateDict {
  const bytes = readFileSync(file);
  const ext = path.extname(file).toLowerCase();
  if (ext === '.safetensors') return readSafetensors(bytes, shown);
  if (ext === '.pth' || ext === '.pt' || ext === '.bin') return readTorchZip(bytes, shown);
  throw new WeightsFileError(`${shown}: weights must be a .pth/.pt (torch.save) or .safetensors file`);
}

function readTorchZip(bytes: Uint8Array, shown: string): StateDict {
  if (bytes[0] !== 0x50 || bytes[1] !== 0x4b) {
    throw new WeightsFileError(`${shown}: not a zip archive; torch.save has written zips since PyTorch 1.6 (re-save it with torch.save(model.state_dict(), path))`);
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (error) {
    throw new WeightsFileError(`${shown}: unreadable zip (${(error as Error).message})`);
  }
  const pickleName = Object.keys(entries).find((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (!pickleName) throw new WeightsFileError(`${shown}: no <name>/data.pkl inside: not a file torch.save wrote`);
  const prefix = pickleName.slice(0, -'data.pkl'.length);
  let root: unknown;
  try {
    root = readPickle(entries[pickleName], ALLOWED, shown);
  } catch (error) {
    if (error instanceof UnsafePickleError) throw new WeightsFileError(error.message);
    throw error;
  }
  const tensors = new Map<string, WeightTensor>();
  for (const [key, value] of stateDictEntries(root, shown)) {
    tensors.set(key, rebuildTensor(value, key, (storage) => entries[`${prefix}data/${storage}`], shown));
  }
  return tensors;
}

/** The dict of tensors: the pickle's root, or the `state_dict`/`model` entry of a training checkpoint. */
function stateDictEntries(root: unknown, shown: string): [string, unknown][] {
  const asMap = (value: unknown) => (value instanceof Map ? value : value instanceof Reduce && value.state instanceof Map ? value.state : undefined);
  let dict = asMap(root);
  if (!dict) throw new WeightsFileError(`${shown}: the pickle holds no dict of tensors`);
  for (const wrapper of ['state_dict', 'model', 'model_state_dict']) {
    const inner = asMap(dict.get(wrapper));
    if (inner && ![...dict.values()].every(isTensor)) {
      dict = inner;
      break;
    }
  }
  const entries = [...dict].filter(([, value]) => isTensor(value)) as [string, unknown][];
  // nn.DataParallel saves every key under `module.`.
  const strip = entries.length > 0 && entries.every(([key]) => String(key).startsWith('module.'));
  return entries.map(([key, value]) => [strip ? String(key).slice('module.'.length) : String(key), value]);
}

const isTensor = (value: unknown) =>
  value instanceof Reduce && (value.callable.qualified === 'torch._utils._rebuild_tensor_v2' || value.callable.qualified === 'torch._utils._rebuild_parameter');

function rebuildTensor(value: unknown, key: string, storageBytes: (name: string) => Uint8Array | undefined, shown: string): WeightTensor {
  let reduce = value as Reduce;
  if (reduce.callable.qualified === 'torch._utils._rebuild_parameter') reduce = reduce.args[0] as Reduce;
  if (!(reduce instanceof Reduce) || reduce.callable.qualified !== 'torch._utils._rebuild_tensor_v2') throw new WeightsFileError(`${shown}: ${key} is not a tensor`);
  const [persistent, offset, size, stride] = reduce.args as [unknown, number, number[], number[]];
  const id = persistent instanceof PersistentId ? persistent.id : undefined;
  if (!Array.isArray(id) || id[0] !== 'storage' || !(id[1] instanceof PickleGlobal)) throw new WeightsFileError(`${shown}: ${key} has no storage`);
  const dtype = STORAGES[id[1].name];
  const raw = storageBytes(String(id[2]));
  if (!raw) throw new WeightsFileError(`${shown}: ${key}'s storage data/${String(id[2])} is missing from the archive`);
  const shape = size.map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const all = decode(raw, dtype, shown, key);
  const values = new Float32Array(count);
  // Strided copy: a state_dict's tensors are usually contiguous, but a view saves its strides.
  const index = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < count; i++) {
    let at = offset;
    for (let d = 0; d < shape.length; d++) at += index[d] * stride[d];
    if (at >= all.length) throw new WeightsFileError(`${shown}: ${key} reads past its storage`);
    values[i] = all[at];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return { shape, values, dtype };
}

function decode(raw: Uint8Array, dtype: string, shown: string, key: string): ArrayLike<number> {
  const copy = new Uint8Array(raw);
  const buffer = copy.buffer;
  switch (dtype) {
    case 'float32':
      return new Float32Array(buffer, 0, copy.byteLength >> 2);
    case 'float64':
      return new Float64Array(buffer, 0, copy.byteLength >> 3);
    case 'int64':
      return Array.from(new BigInt64Array(buffer, 0, copy.byteLength >> 3), Number);
    case 'int32':
      return new Int32Array(buffer, 0, copy.byteLength >> 2);
    case 'int16':
      return new Int16Array(buffer, 0, copy.byteLength >> 1);
    case 'int8':
      return new Int8Array(buffer);
    case 'uint8':
    case 'bool':
      return new Uint8Array(buffer);
    case 'float16':
      return Array.from(new Uint16Array(buffer, 0, copy.byteLength >> 1), halfToFloat);
    case 'bfloat16':
      return Array.from(new Uint16Array(buffer, 0, copy.byteLength >> 1), (h) => new Float32Array(new Uint32Array([h << 16]).buffer)[0]);
    default:
      throw new WeightsFileError(`${shown}: ${key} has dtype ${dtype}, which pipeline does not read`);
  }
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

const SAFETENSORS_DTYPES: Record<string, string> = { F32: 'float32', F64: 'float64', F16: 'float16', BF16: 'bfloat16', I64: 'int64', I32: 'int32', I16: 'int16', I8: 'int8', U8: 'uint8', BOOL: 'bool' };

/** safetensors: an 8-byte little-endian header length, a JSON header, then the tensors' bytes. */
function readSafetensors(bytes: Uint8Array, shown: string): StateDict {
  if (bytes.length < 8) throw new WeightsFileError(`${shown}: too short for a safetensors file`);
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (headerLength > bytes.length - 8 || headerLength > 100_000_000) throw new WeightsFileError(`${shown}: safetensors header length ${headerLength} exceeds the file`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as typeof header;
  } catch {
    throw new WeightsFileError(`${shown}: the safetensors header is not JSON`);
  }
  const data = bytes.subarray(8 + headerLength);
  const tensors: StateDict = new Map();
  for (const [key, entry] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    const dtype = SAFETENSORS_DTYPES[entry.dtype];
    if (!dtype) throw new WeightsFileError(`${shown}: ${key} has dtype ${entry.dtype}, which pipeline does not read`);
    const [start, end] = entry.data_offsets;
    if (!(start >= 0 && end >= start && end <= data.length)) throw new WeightsFileError(`${shown}: ${key}'s data offsets [${start}, ${end}] are outside the file`);
    const values = Float32Array.from(decode(data.subarray(start, end), dtype, shown, key));
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (values.length !== count) throw new WeightsFileError(`${shown}: ${key} holds ${values.length} values for shape [${entry.shape.join(', ')}]`);
    tensors.set(key, { shape: entry.shape, values, dtype });
  }
  return tensors;
}
