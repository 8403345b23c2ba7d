import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import path from 'node:path';
import { cli, makeProject, read, writeFiles } from '../helpers.js';

describe('facecrop', () => {
  it('detects faces with the shipped detector, records fallbacks, and crops only new images', async () => {
    const params = (n: number) => `seed: 3\ndata: { identities: ${n}, real_per_identity: 1, fake_per_identity: 1, size: 48, geometry_shortcut: true }\nfacecrop: { margin: 0.25, size: 40, min_score: 0.3, input_size: 160 }\n`;
    const dir = makeProject({
      'params.yaml': params(6),
      'pipeline.yaml': 'params: [params.yaml]\nstages:\n  data: { uses: synth-faces, params: [seed, data], outs: { dataset: data/raw } }\n  facecrop: { uses: facecrop, deps: { dataset: data/raw }, params: [facecrop], outs: { cropped: data/cropped } }\n',
    });
    assert.equal(cli(dir, ['run']).code, 0);
    const crops = JSON.parse(read(dir, 'data/cropped/crops.json')) as { detection_rate: number; images: { path: string; detected: boolean; fallback: string }[] };
    assert.equal(crops.images.length, 12);
    assert.ok(crops.detection_rate > 0.3, `detection rate ${crops.detection_rate}`);
    for (const image of crops.images) assert.equal(image.fallback, image.detected ? 'none' : 'center-square');
    const meta = await sharp(path.join(dir, 'data/cropped', crops.images[0].path)).metadata();
    assert.deepEqual([meta.width, meta.height], [40, 40]);
    assert.match(read(dir, 'cache/logs/facecrop.log'), /0 crops reused/);
    writeFiles(dir, { 'params.yaml': params(8) });
    assert.equal(cli(dir, ['run']).code, 0);
    assert.match(read(dir, 'cache/logs/facecrop.log'), /12 crops reused/, 'adding images crops only the new ones');
  });
});
