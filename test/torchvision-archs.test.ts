import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { buildTorchvisionModel } from '../stages/train/archs/build.js';
import { architecture, architectures } from '../stages/train/archs/registry.js';
import { loadStateDict, torchKeyedWeights } from '../stages/train/archs/torch-weights.js';
import { readStateDict } from '../stages/train/weights/state-dict.js';
import { initBackend } from '../stages/train/backend.js';
import { stopWebGpu } from '../stages/train/webgpu/backend.js';
import { modelCost } from '../stages/train/model-cost.js';
import { torchPython } from './support/torch-python.js';
import { tempDir } from './support/temp-dirs.js';

/**
 * Our torchvision architectures against torchvision itself: Debian's python3-torchvision builds
 * each with seeded random weights (test/fixtures/torchvision/make_fixtures.py, no download) and
 * saves its state_dict, an input batch, its eval-mode outputs and gradients; ours loads the
 * file and must give the same numbers.
 */
const SIZE = 32;
/** test/torchvision-archs-{cpu,webgpu}.test.ts run this file again on those backends. */
const BACKEND = process.env.PIPELINE_ARCHS_TEST_BACKEND ?? 'wasm';
// WebGPU on whatever Vulkan device is here (Mesa's lavapipe, a CPU implementation, in CI).
const noWebGpu = BACKEND === 'webgpu' ? await initBackend('webgpu').then(() => false, (error: Error) => error.message) : false;
const required = process.env.PIPELINE_REQUIRE_SERVICES === '1';
const script = fileURLToPath(new URL('../../test/fixtures/torchvision/make_fixtures.py', import.meta.url));
const python = torchPython();
const names = Object.keys(architectures);
let dir = '';

interface Fixture {
  input_shape: number[];
  output_shape: number[];
  grad_keys: string[];
  grad_shapes: number[][];
  tensors: Record<string, { shape: number[]; dtype: string; sum: number; first: number[] }>;
  parameters: number;
  flops: number;
}

const fixture = (name: string) => JSON.parse(readFileSync(path.join(dir, `${name}.json`), 'utf8')) as Fixture;

function references(name: string, meta: Fixture): { input: Float32Array; output: Float32Array; r: Float32Array; grads: Float32Array[] } {
  const all = new Float32Array(readFileSync(path.join(dir, `${name}.ref.bin`)).buffer.slice(0));
  const sizes = [meta.input_shape, meta.output_shape, meta.output_shape, ...meta.grad_shapes].map((shape) => shape.reduce((a, b) => a * b, 1));
  let at = 0;
  const parts = sizes.map((n) => all.subarray(at, (at += n)));
  return { input: parts[0], output: parts[1], r: parts[2], grads: parts.slice(3) };
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tolerance = 1e-4): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 1e-6;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]));
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  }
  assert.ok(worst <= tolerance * scale, `${what}: max error ${worst} at scale ${scale}`);
}

const skip = !python ? 'no python3 with torch and torchvision (apt-get install python3-torchvision)' : noWebGpu && !required ? `no WebGPU adapter: ${noWebGpu}` : false;

describe(`torchvision architectures (${BACKEND})`, { skip }, () => {
  before(async () => {
    if (BACKEND !== 'webgpu') await initBackend(BACKEND, 1);
    assert.equal(tf.getBackend(), BACKEND);
    dir = tempDir('pipeline-torchvision-');
    const made = spawnSync(python!, [script, dir, String(SIZE), ...names], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
  });
  after(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (BACKEND === 'webgpu') stopWebGpu();
  });

  for (const name of names) {
    it(`${name}: the .pth and .safetensors readers give torch's tensors`, () => {
      const meta = fixture(name);
      for (const file of [`${name}.pth`, `${name}.safetensors`]) {
        const state = readStateDict(path.join(dir, file), file);
        assert.deepEqual([...state.keys()], Object.keys(meta.tensors), `${file}: the keys, in order`);
        for (const [key, expected] of Object.entries(meta.tensors)) {
          const tensor = state.get(key)!;
          assert.deepEqual(tensor.shape, expected.shape, `${file} ${key}: shape`);
          const sum = tensor.values.reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(sum - expected.sum) <= 1e-4 * Math.max(1, Math.abs(expected.sum)) + 1e-3, `${file} ${key}: sum ${sum} vs ${expected.sum}`);
          assertClose(tensor.values.subarray(0, expected.first.length), expected.first, `${file} ${key}: first values`, 1e-6);
        }
      }
    });

    it(`${name}: same outputs (eval mode) and gradients as torchvision, loaded key for key`, async () => {
      const meta = fixture(name);
      const refs = references(name, meta);
      const model = buildTorchvisionModel(architecture(name)!, SIZE, meta.output_shape[1]);
      const report = loadStateDict(model, readStateDict(path.join(dir, `${name}.pth`)), { strict: true, shown: `${name}.pth` });
      assert.deepEqual(report.missing, []);
      assert.deepEqual(report.unexpected, []);
      const trainable = model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
      assert.equal(trainable, meta.parameters, "trainable parameters = torch's parameters()");
      assert.equal(modelCost(model).flops, meta.flops, 'multiply-adds per image, as counted on torch\'s modules');
      const [n, c, h, w] = meta.input_shape;
      const x = tf.transpose(tf.tensor(refs.input, [n, c, h, w]), [0, 2, 3, 1]);
      const out = model.predict(x) as tf.Tensor;
      // Read back asynchronously: WebGPU cannot read synchronously.
      assertClose(await out.data(), refs.output, `${name} outputs`);
      // One training step's gradients, of sum(outputs * R), in eval mode (batch norm on its running statistics, so they are deterministic).
      const keyed = new Map(torchKeyedWeights(model).map((k) => [k.key, k]));
      const r = tf.tensor(refs.r, meta.output_shape);
      const variables = meta.grad_keys.map((key) => keyed.get(key)!);
      const { grads } = tf.variableGrads(() => tf.sum(tf.mul(model.apply(x, { training: false }) as tf.Tensor, r)) as tf.Scalar, variables.map((v) => v.variable.read() as tf.Variable));
      for (const [i, key] of meta.grad_keys.entries()) {
        const v = variables[i];
        const grad = grads[(v.variable.read() as tf.Variable).name]!;
        const inTorch = v.permutation ? tf.transpose(grad, v.permutation.map((_, j) => v.permutation!.indexOf(j))) : grad;
        assertClose(await inTorch.data(), refs.grads[i], `${name} gradient of ${key}`);
      }
      tf.dispose([x, out, r, ...Object.values(grads)]);
      model.dispose();
    });
  }

  it('a .pth whose pickle would run code is refused naming the global, and nothing runs', () => {
    assert.throws(() => readStateDict(path.join(dir, 'evil.pth'), 'weights/evil.pth'), /weights\/evil\.pth: refused: the pickle names the global posix\.system/);
    assert.equal(existsSync(path.join(dir, 'pwned')), false);
  });

  it('a file for another architecture: missing and unexpected keys, and shapes, named', () => {
    const r34 = buildTorchvisionModel(architecture('resnet34')!, SIZE, 10);
    assert.throws(
      () => loadStateDict(r34, readStateDict(path.join(dir, 'resnet18.pth')), { strict: true, shown: 'weights/r18.pth' }),
      /weights\/r18\.pth does not fit the model: missing from the file: layer1\.2\.conv1\.weight/,
    );
    const r18 = buildTorchvisionModel(architecture('resnet18')!, SIZE, 10);
    assert.throws(
      () => loadStateDict(r18, readStateDict(path.join(dir, 'resnet50.pth')), { strict: true, shown: 'weights/r50.pth' }),
      /shapes differ: layer1\.0\.conv1\.weight is \[64, 64, 1, 1\] in the file, \[64, 64, 3, 3\] in the model/,
    );
    const loose = loadStateDict(r34, readStateDict(path.join(dir, 'resnet18.pth')), { strict: false, shown: 'weights/r18.pth' });
    assert.ok(loose.loaded > 0 && loose.missing.includes('layer4.2.bn2.running_var'), 'weights_strict: false loads what matches and lists the rest');
    r34.dispose();
    r18.dispose();
  });
});

