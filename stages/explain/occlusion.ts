import type { FoldModel } from './saved-model.js';

/** The score an image's explanation is of, from one row of the model's outputs. */
export type Score = (outputs: readonly number[]) => number;

/**
 * Occlusion sensitivity (Zeiler & Fergus 2014): a square patch of a fill colour (the dataset's
 * mean) slides over the image in steps of its own size; each position records how much the
 * explained score drops. Model-agnostic: only predictions are asked for, so the baseline probe
 * and any trainer's saved model are explained the same way. Returns the grid of drops (g x g,
 * row-major, g = ceil(size / patch)); every pixel's value is its patch's drop.
 */
export async function occlusionGrid(model: FoldModel, image: Float32Array, fill: readonly number[], patch: number, score: Score, batch = 64): Promise<{ grid: Float32Array; cells: number; base: number }> {
  const size = model.size;
  const cells = Math.ceil(size / patch);
  const base = score((await model.predict(image, 1))[0]!);
  const grid = new Float32Array(cells * cells);
  const positions = Array.from({ length: cells * cells }, (_, k) => k);
  for (let start = 0; start < positions.length; start += batch) {
    const chunk = positions.slice(start, start + batch);
    const images = new Float32Array(chunk.length * size * size * 3);
    chunk.forEach((k, i) => {
      const copy = images.subarray(i * size * size * 3, (i + 1) * size * size * 3);
      copy.set(image);
      const top = Math.floor(k / cells) * patch;
      const left = (k % cells) * patch;
      for (let y = top; y < Math.min(size, top + patch); y++) for (let x = left; x < Math.min(size, left + patch); x++) for (let c = 0; c < 3; c++) copy[(y * size + x) * 3 + c] = fill[c]!;
    });
    const outputs = await model.predict(images, chunk.length);
    chunk.forEach((k, i) => (grid[k] = base - score(outputs[i]!)));
  }
  return { grid, cells, base };
}

/** The grid as a size x size map: each pixel takes its patch's drop. */
export function gridToMap(grid: Float32Array, cells: number, patch: number, size: number): Float32Array {
  const map = new Float32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) map[y * size + x] = grid[Math.floor(y / patch) * cells + Math.floor(x / patch)]!;
  return map;
}
