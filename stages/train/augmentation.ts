/**
 * Training augmentation, drawn and applied separately: the draws come from the run's seeded
 * RNG in the training loop (so a run's random sequence does not depend on where batches are
 * assembled), and the batch worker applies them.
 */
export interface Augmentation {
  flip: boolean;
  dx: number;
  dy: number;
  brightness: number;
  contrast: number;
}

/** A horizontal flip, a shift of up to 1/8 of the side, brightness and contrast jitter. */
export function drawAugmentation(size: number, random: () => number): Augmentation {
  const flip = random() < 0.5;
  const maxShift = Math.max(1, Math.floor(size / 8));
  const dx = Math.floor(random() * (2 * maxShift + 1)) - maxShift;
  const dy = Math.floor(random() * (2 * maxShift + 1)) - maxShift;
  const brightness = (random() - 0.5) * 0.2;
  const contrast = 1 + (random() - 0.5) * 0.3;
  return { flip, dx, dy, brightness, contrast };
}

/** Applies `a` to one size x size RGB image in [0, 1], in place (the shift pads with zeros). */
export function applyAugmentation(img: Float32Array, size: number, a: Augmentation): void {
  const src = img.slice();
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sx = (a.flip ? size - 1 - x : x) + a.dx;
      const sy = y + a.dy;
      const o = (y * size + x) * 3;
      for (let c = 0; c < 3; c++) {
        const v = sx < 0 || sy < 0 || sx >= size || sy >= size ? 0 : src[(sy * size + sx) * 3 + c];
        img[o + c] = Math.min(1, Math.max(0, (v - 0.5) * a.contrast + 0.5 + a.brightness));
      }
    }
  }
}
