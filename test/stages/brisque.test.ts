import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { brisqueFeatures, brisqueScore, loadBrisqueModel, opencvGrey } from '../../stages/images/brisque.js';
import { cli, makeProject, read } from '../helpers.js';

/** Written by test/fixtures/brisque/make_fixtures.py with python3-opencv's cv2.quality.QualityBRISQUE (images, model, range). */
const fixtures = fileURLToPath(new URL('../../../test/fixtures/brisque/', import.meta.url));
const expected = JSON.parse(readFileSync(path.join(fixtures, 'expected.json'), 'utf8')) as { features: Record<string, number[]>; scores: Record<string, number> };
const model = () => loadBrisqueModel(path.join(fixtures, 'model.yml'), path.join(fixtures, 'range.yml'));

describe("BRISQUE as OpenCV's quality module computes it", () => {
  for (const name of Object.keys(expected.scores)) {
    // OpenCV computes in float32 (emulated here step by step, but not its SIMD sums' order), and the shape parameters come
    // from a 0.001 grid where that rounding can move the pick by a step or two: features to 1.5%, scores to 0.05 of 100.
    it(`${name}: the 36 features and the score equal cv2.quality.QualityBRISQUE's`, async () => {
      const { data, info } = await sharp(path.join(fixtures, name)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      const features = brisqueFeatures(opencvGrey(data, info.width, info.height, info.channels));
      features.forEach((f, i) => assert.ok(Math.abs(f - expected.features[name][i]) <= 0.015 * Math.max(1e-3, Math.abs(expected.features[name][i])) + 1e-6, `feature ${i}: ${f} vs ${expected.features[name][i]}`));
      const score = brisqueScore(features, model());
      assert.ok(Math.abs(score - expected.scores[name]) < 0.05, `${score} vs ${expected.scores[name]}`);
    });
  }

  it('the images stage adds brisque with OpenCV\'s model files, and a rule can exclude by it', () => {
    const dir = makeProject({
      'pipeline.yaml': ['stages:', '  images:', '    uses: images', '    with: { positive: b, brisque_model: quality/model.yml, brisque_range: quality/range.yml, exclude: { brisque: "> 60" } }', '    deps: { images: photos }', '    outs: { dataset: data/dataset }', ''].join('\n'),
    });
    mkdirSync(path.join(dir, 'quality'));
    for (const f of ['model.yml', 'range.yml']) copyFileSync(path.join(fixtures, f), path.join(dir, 'quality', f));
    for (const [cls, name] of [['a', 'clean.png'], ['a', 'noisy.png'], ['b', 'blurred.png'], ['b', 'clean.png']]) {
      mkdirSync(path.join(dir, 'photos', cls), { recursive: true });
      copyFileSync(path.join(fixtures, name), path.join(dir, 'photos', cls, name));
    }
    const r = cli(dir, ['run']);
    assert.equal(r.code, 0, r.stderr);
    const [head, ...rows] = read(dir, 'data/dataset/manifest.csv').trim().split('\n').map((l) => l.split(','));
    const at = head.indexOf('brisque');
    for (const row of rows) assert.ok(Math.abs(Number(row[at]) - expected.scores[path.basename(row[0])]) < 0.05, row.join(','));
    assert.match(read(dir, 'data/dataset/excluded.csv'), /a\/noisy\.png,rule brisque > 60 \(brisque 64\.7/);
    const lock = read(dir, 'pipeline.lock');
    assert.match(lock, /quality\/model\.yml/, 'the model file is a dep: another model, another key');
  });
});
