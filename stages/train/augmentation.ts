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

/** What `train.augment` draws from: `true` is these defaults; an object overrides some of them. */
export interface AugmentSettings {
  /** Mirror half the images left to right (not for digits, text or anything whose side matters). */
  flip: boolean;
  /** The largest shift, as a fraction of the side (at least a pixel unless 0). */
  shift: number;
  /** The width of the uniform brightness offset. */
  brightness: number;
  /** The width of the uniform contrast factor around 1. */
  contrast: number;
}

export const defaultAugment: AugmentSettings = { flip: true, shift: 0.125, brightness: 0.2, contrast: 0.3 };

/** `train.augment` as settings, or undefined when it is off. */
export function augmentSettings(augment: boolean | Partial<AugmentSettings>): AugmentSettings | undefined {
  if (augment === false) return undefined;
  return augment === true ? defaultAugment : { ...defaultAugment, ...augment };
}

/**
 * A horizontal flip, a shift of up to 1/8 of the side, brightness and contrast jitter (or what
 * `settings` says). Every draw takes the same five numbers from `random`, whatever is switched
 * off, so the rest of a run's sequence does not depend on the settings.
 */
export function drawAugmentation(size: number, random: () => number, settings: AugmentSettings = defaultAugment): Augmentation {
  const flip = random() < 0.5 && settings.flip;
  const maxShift = settings.shift === 0 ? 0 : Math.max(1, Math.floor(size * settings.shift));
  const dx = Math.floor(random() * (2 * maxShift + 1)) - maxShift;
  const dy = Math.floor(random() * (2 * maxShift + 1)) - maxShift;
  const brightness = (random() - 0.5) * settings.brightness;
  const contrast = 1 + (random() - 0.5) * settings.contrast;
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
