import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { augmentSettings, drawAugmentation } from '../../stages/train/augmentation.js';
import { rng } from '../../stages/runtime/rng.js';

describe('train.augment: true, false or settings', () => {
  it('true draws what it always drew: a coin flip, shifts of up to 1/8 of the side, brightness 0.2 and contrast 0.3 wide', () => {
    const random = rng(11);
    const same = rng(11);
    for (let k = 0; k < 50; k++) {
      const got = drawAugmentation(32, random, augmentSettings(true));
      const [u, x, y, b, c] = [same(), same(), same(), same(), same()];
      assert.deepEqual(got, { flip: u < 0.5, dx: Math.floor(x * 9) - 4, dy: Math.floor(y * 9) - 4, brightness: (b - 0.5) * 0.2, contrast: 1 + (c - 0.5) * 0.3 });
    }
    assert.equal(augmentSettings(false), undefined);
  });

  it('{ flip: false } never mirrors and takes the same numbers from the run\'s stream, so the rest of the run is unchanged', () => {
    const a = rng(5);
    const b = rng(5);
    for (let k = 0; k < 50; k++) {
      const off = drawAugmentation(24, a, augmentSettings({ flip: false }));
      const on = drawAugmentation(24, b, augmentSettings(true));
      assert.deepEqual(off, { ...on, flip: false });
    }
    assert.equal(a(), b());
  });

  it('shift 0 does not move the image; other widths scale the jitter', () => {
    const random = rng(2);
    for (let k = 0; k < 20; k++) {
      const d = drawAugmentation(32, random, augmentSettings({ shift: 0, brightness: 0, contrast: 0.5 }));
      assert.equal(d.dx, 0);
      assert.equal(d.dy, 0);
      assert.ok(d.brightness === 0, 'no brightness offset');
      assert.ok(d.contrast >= 0.75 && d.contrast <= 1.25);
    }
  });
});
