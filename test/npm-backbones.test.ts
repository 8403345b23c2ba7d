import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../stages/train/backend.js';
import { npmBackbones } from '../stages/train/npm-backbones/registry.js';
import { buildPretrainedNet, GroupedStep, lossFunction } from '../stages/train/pretrained-net.js';
import { parseNpmRef } from '../src/spec/npm-package.js';
import { tempDir } from './support/temp-dirs.js';

/**
 * The backbones that ship in npm packages, against the packages' own code: face-api's
 * FaceRecognitionNet computes the descriptor our tf.layers rebuild must give, and nsfwjs's own
 * loader gives the MobileNetV2 whose pooled features ours must equal.
 */
const require = createRequire(import.meta.url);
const face = npmBackbones['@vladmandic/face-api/face_recognition'];
const mobilenet = npmBackbones['nsfwjs/mobilenet_v2'];
const options = { seed: 1, units: 1, activation: 'sigmoid' as const, weightsStrict: true, freeze: 'none' as const, bn: 'train' as const };

function maxRelative(ours: Float32Array, theirs: Float32Array): number {
  assert.equal(ours.length, theirs.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < ours.length; i++) {
    diff = Math.max(diff, Math.abs(ours[i]! - theirs[i]!));
    scale = Math.max(scale, Math.abs(theirs[i]!));
  }
  return diff / scale;
}

describe('backbones from npm packages', () => {
  const cwd = process.cwd();
  before(async () => {
    await initBackend('wasm', 1);
    // Packages are found as Node finds them, from the project root (the stage's working directory).
    process.chdir(path.dirname(require.resolve('../../package.json')));
  });
  after(() => process.chdir(cwd));

  it('dlib_face_resnet gives the descriptor face-api computes', async () => {
    const net = await buildPretrainedNet(face, { ...options, size: 150, weights: 'npm:@vladmandic/face-api/face_recognition' });
    assert.match(net.loaded, /59 tensors from npm:@vladmandic\/face-api\/face_recognition \(face-api 1\.7\.\d+/);
    const pixels = tf.randomUniform([3, 150, 150, 3], 0, 255, 'float32', 3).round();
    const ours = net.backbone.predict(pixels.div(255).sub(face.recipe.mean).div(face.recipe.std)) as tf.Tensor;
    const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as {
      nets: { faceRecognitionNet: { loadFromDisk(dir: string): Promise<void>; forwardInput(input: unknown): tf.Tensor } };
      toNetInput(input: tf.Tensor3D[]): Promise<unknown>;
    };
    await faceapi.nets.faceRecognitionNet.loadFromDisk(path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model'));
    const theirs = faceapi.nets.faceRecognitionNet.forwardInput(await faceapi.toNetInput(tf.unstack(pixels) as tf.Tensor3D[]));
    assert.deepEqual(ours.shape, [3, 128]);
    assert.ok(maxRelative((await ours.data()) as Float32Array, (await theirs.data()) as Float32Array) < 1e-4);
    tf.dispose([pixels, ours, theirs]);
  });

  it("mobilenet_v2's features are nsfwjs's own network's, pooled; other sizes pool to the same 1280", async () => {
    const net = await buildPretrainedNet(mobilenet, { ...options, size: 224, weights: 'npm:nsfwjs/mobilenet_v2' });
    assert.match(net.loaded, /260 tensors from npm:nsfwjs\/mobilenet_v2 \(nsfwjs 4\.4\.0/);
    const images = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 4);
    const ours = net.backbone.predict(images) as tf.Tensor;
    const nsfwjs = (await import('nsfwjs')) as unknown as { load(name: string): Promise<{ model: tf.LayersModel }> };
    const original = (await nsfwjs.load('MobileNetV2')).model;
    const cut = tf.model({ inputs: original.inputs, outputs: original.getLayer('out_relu').output as tf.SymbolicTensor });
    const theirs = tf.tidy(() => (cut.predict(images) as tf.Tensor).mean([1, 2]));
    assert.deepEqual(ours.shape, [2, 1280]);
    assert.ok(maxRelative((await ours.data()) as Float32Array, (await theirs.data()) as Float32Array) < 1e-5);
    const small = await buildPretrainedNet(mobilenet, { ...options, size: 64, weights: 'npm:nsfwjs/mobilenet_v2' });
    assert.deepEqual(small.backbone.outputs[0]!.shape, [null, 1280]);
    tf.dispose([images, ours, theirs]);
  });

  it('fine-tunes: one step moves backbone and head, with finite gradients', async () => {
    const net = await buildPretrainedNet(face, { ...options, size: 150, weights: 'npm:@vladmandic/face-api/face_recognition', bn: 'frozen' });
    const before = net.groups.backbone[0]!.read().dataSync().slice();
    const headBefore = net.groups.head[0]!.read().dataSync().slice();
    const step = new GroupedStep(net.model, net.groups, lossFunction('binaryCrossentropy'));
    const x = tf.randomUniform([2, 150, 150, 3], -0.5, 0.5, 'float32', 5);
    step.run(x, tf.tensor2d([[0], [1]]), 0.01, 0.001);
    const after = net.groups.backbone[0]!.read().dataSync();
    assert.ok(after.every(Number.isFinite));
    assert.ok(after.some((v, i) => v !== before[i]), 'the backbone trained');
    assert.ok(net.groups.head[0]!.read().dataSync().some((v, i) => v !== headBefore[i]), 'the head trained');
    x.dispose();
  });

  it('a package that is not installed is named, with how to install it', async () => {
    const empty = tempDir('pipeline-npm-');
    process.chdir(empty);
    try {
      await assert.rejects(buildPretrainedNet(mobilenet, { ...options, size: 64, weights: 'npm:nsfwjs/mobilenet_v2' }), /model\.weights npm:nsfwjs\/mobilenet_v2: the package nsfwjs is not installed \(npm install nsfwjs\)/);
    } finally {
      process.chdir(path.dirname(require.resolve('../../package.json')));
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('npm: names parse with and without a scope', () => {
    assert.deepEqual(parseNpmRef('npm:nsfwjs/mobilenet_v2'), { package: 'nsfwjs', model: 'mobilenet_v2' });
    assert.deepEqual(parseNpmRef('npm:@vladmandic/face-api/face_recognition'), { package: '@vladmandic/face-api', model: 'face_recognition' });
    assert.equal(parseNpmRef('npm:nsfwjs'), undefined);
  });
});
