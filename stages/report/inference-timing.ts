import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
// The torchvision architectures' own layers, registered so their saved models load.
import '../train/archs/torch-layers.js';

/**
 * Inference milliseconds per image of a run folder's saved model (model.json + weights.bin), at
 * batch 1 and its own input size, on the backend in use: the median of `repeats` after a
 * warm-up. A measurement of this machine, not a result: only with the report's
 * `inference_ms: true`, and a rerun gives other numbers.
 */
export async function inferenceMs(runDir: string, repeats = 7): Promise<number | undefined> {
  const file = path.join(runDir, 'model.json');
  if (!existsSync(file)) return undefined;
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  const weights = readFileSync(path.join(runDir, 'weights.bin'));
  const model = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: saved.modelTopology, weightSpecs: saved.weightsManifest.flatMap((g) => g.weights), weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer }),
  );
  const [, h, w, c] = model.inputs[0]!.shape;
  const x = tf.zeros([1, h!, w!, c!]);
  const once = async () => {
    const started = performance.now();
    const y = model.predict(x) as tf.Tensor;
    await y.data();
    y.dispose();
    return performance.now() - started;
  };
  await once();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) times.push(await once());
  x.dispose();
  model.dispose();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
