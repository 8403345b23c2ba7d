import FFT from 'fft.js';

/**
 * Image-quality measures on a grey image (0..255 levels, row-major `width` x `height`), each
 * checked against numpy/scipy on test/fixtures/quality (make_fixtures.py).
 */

/**
 * Immerkær's fast noise estimate (1996): the grey image filtered with the difference of two
 * Laplacians [[1,-2,1],[-2,4,-2],[1,-2,1]] (edges cancel, noise stays), sigma =
 * sqrt(pi/2) / (6 (W-2)(H-2)) x sum |filtered| over the interior. In grey levels.
 */
export function noiseSigma(grey: ArrayLike<number>, width: number, height: number): number | null {
  if (width < 3 || height < 3) return null;
  let sum = 0;
  for (let y = 1; y < height - 1; y++) {
    for (let x = 1; x < width - 1; x++) {
      const at = (dx: number, dy: number) => grey[(y + dy) * width + x + dx];
      const v = at(-1, -1) - 2 * at(0, -1) + at(1, -1) - 2 * at(-1, 0) + 4 * at(0, 0) - 2 * at(1, 0) + at(-1, 1) - 2 * at(0, 1) + at(1, 1);
      sum += Math.abs(v);
    }
  }
  return (Math.sqrt(Math.PI / 2) * sum) / (6 * (width - 2) * (height - 2));
}

/** The largest power of two that fits the image's shorter side, at most 256 (at least 8). */
export function fftSide(width: number, height: number): number | null {
  const side = Math.min(width, height, 256);
  if (side < 8) return null;
  return 2 ** Math.floor(Math.log2(side));
}

/**
 * Blur: the share of the spectrum's energy above a quarter cycle per pixel (radius of
 * numpy.fft.fftfreq's frequencies), the constant term left out, on the centred n x n crop
 * (n: fftSide). A sharp image keeps fine detail there; a blurred one has little. Null for a
 * flat image.
 */
export function highFrequencyRatio(grey: ArrayLike<number>, width: number, height: number, cutoff = 0.25): number | null {
  const n = fftSide(width, height);
  if (n === null) return null;
  const [left, top] = [Math.floor((width - n) / 2), Math.floor((height - n) / 2)];
  const fft = new FFT(n);
  // Rows, then columns: the 2-D transform, as interleaved re/im.
  const rows: number[][] = [];
  const line = fft.createComplexArray();
  for (let y = 0; y < n; y++) {
    const input = fft.createComplexArray();
    for (let x = 0; x < n; x++) input[2 * x] = grey[(top + y) * width + left + x];
    fft.transform(line, input);
    rows.push([...line]);
  }
  const freq = (k: number) => (k < n / 2 ? k / n : (k - n) / n);
  let high = 0;
  let total = 0;
  const column = fft.createComplexArray();
  const out = fft.createComplexArray();
  for (let x = 0; x < n; x++) {
    for (let y = 0; y < n; y++) {
      column[2 * y] = rows[y][2 * x];
      column[2 * y + 1] = rows[y][2 * x + 1];
    }
    fft.transform(out, column);
    for (let y = 0; y < n; y++) {
      if (x === 0 && y === 0) continue;
      const power = out[2 * y] ** 2 + out[2 * y + 1] ** 2;
      total += power;
      if (Math.hypot(freq(x), freq(y)) > cutoff) high += power;
    }
  }
  return total > 0 ? high / total : null;
}

/**
 * Blockiness (JPEG's 8 x 8 grid): the mean absolute step between neighbouring pixels across
 * block boundaries over the mean step inside blocks, horizontally and vertically, averaged.
 * About 1 for a natural image; above 1 where the blocks show. On the stored pixels (before any
 * resize or rotation, which would move the grid). Null when there is no boundary or no step.
 */
export function blockiness(grey: ArrayLike<number>, width: number, height: number): number | null {
  const ratio = (size: number, other: number, at: (i: number, j: number) => number): number | null => {
    let [boundary, nb, inner, ni] = [0, 0, 0, 0];
    for (let j = 0; j < other; j++) {
      for (let i = 1; i < size; i++) {
        const step = Math.abs(at(i, j) - at(i - 1, j));
        if (i % 8 === 0) [boundary, nb] = [boundary + step, nb + 1];
        else [inner, ni] = [inner + step, ni + 1];
      }
    }
    return nb === 0 || ni === 0 || inner === 0 ? null : boundary / nb / (inner / ni);
  };
  const h = ratio(width, height, (i, j) => grey[j * width + i]);
  const v = ratio(height, width, (i, j) => grey[i * width + j]);
  return h === null || v === null ? null : (h + v) / 2;
}
