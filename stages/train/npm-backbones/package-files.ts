import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import * as tf from '@tensorflow/tfjs';
import { installedPackage } from '../../../src/spec/npm-package.js';
import { StageError } from '../../runtime/stage.js';

/** An installed package's folder and version, or a StageError saying how to install it. */
export function packageDir(name: string, weights: string): { dir: string; version: string } {
  const dir = installedPackage(process.cwd(), name);
  if (!dir) throw new StageError(`model.weights ${weights}: the package ${name} is not installed (npm install ${name})`);
  const { version } = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  return { dir, version };
}

/**
 * The value a UMD module exports (how nsfwjs ships its model JSON and base64 weights), run in
 * an empty context: no require, no process, no file system; data comes out as plain JSON.
 */
export function umdExport(file: string): unknown {
  const sandbox = { module: { exports: {} as unknown }, exports: {} };
  vm.runInNewContext(readFileSync(file, 'utf8'), sandbox, { filename: file, timeout: 10_000 });
  return JSON.parse(JSON.stringify(sandbox.module.exports));
}

/** tfjs-format weights (quantised or not) by name. */
export function decodeWeights(data: Uint8Array, specs: tf.io.WeightsManifestEntry[]): tf.NamedTensorMap {
  return tf.io.decodeWeights(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer, specs);
}

/**
 * Sets each backbone weight from `named` by its tfjs name (`<layer>/kernel`); with `strict`,
 * a weight the package lacks or a shape that differs is an error naming it. Tensors of `named`
 * are disposed.
 */
export function setNamedWeights(backbone: tf.LayersModel, named: Map<string, tf.Tensor>, shown: string, strict: boolean): { loaded: number; missing: string[] } {
  const missing: string[] = [];
  let loaded = 0;
  for (const layer of backbone.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((variable) => {
      const key = variable.originalName;
      const value = named.get(key);
      if (!value) missing.push(key);
      else if (value.shape.join() !== variable.shape.join()) throw new StageError(`model.weights ${shown}: ${key} is [${value.shape.join(', ')}] in the package, [${variable.shape.join(', ')}] in the model`);
      return value;
    });
    if (values.every((v) => v)) {
      layer.setWeights(values as tf.Tensor[]);
      loaded += values.length;
    }
  }
  named.forEach((t) => t.dispose());
  if (strict && missing.length) throw new StageError(`model.weights ${shown}: the package has no ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? `, ... (${missing.length} in all)` : ''}`);
  return { loaded, missing };
}
