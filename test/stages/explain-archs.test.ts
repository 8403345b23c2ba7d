import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { tempDir } from '../helpers.js';
import { SCRATCH_ARCHS, TORCHVISION_ARCHS } from '../../stages/train/declaration.js';
import { buildModel } from '../../stages/train/models.js';
import { backboneOf } from '../../stages/train/backbones.js';
import { buildPretrainedNet } from '../../stages/train/pretrained-net.js';
import { initBackend } from '../../stages/train/backend.js';
import { saveLayersModel } from '../../stages/train/save-model.js';
import { IMAGENET } from '../../stages/train/data.js';
import { GradCam } from '../../stages/explain/gradcam.js';
import { openFoldModel } from '../../stages/explain/saved-model.js';

/**
 * Grad-CAM on every architecture `train` builds, saved as train saves it and read back as explain
 * reads it: the default layer is the feature map the final pooling reads, and the map is finite,
 * non-negative and not all zero for a binary, a multi-class and a regression head.
 */
const made: string[] = [];
after(() => made.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const DEFAULT_LAYER: Record<string, RegExp> = {
  simple_cnn: /^s2_conv$/,
  simple_cnn_dense: /^b2_pool$/,
  resnet: /^r2_0_out$/,
  mobilenet: /^m2_0_pw_relu$/,
  resnet18: /^layer4\.1/,
  resnet34: /^layer4\.2/,
  resnet50: /^layer4\.2/,
  mobilenet_v3_small: /^features\.12/,
  mobilenet_v3_large: /^features\.16/,
  efficientnet_b0: /^features\.8/,
  convnext_tiny: /^features\.7\.2/,
};

describe('Grad-CAM of every built-in architecture', () => {
  for (const arch of [...SCRATCH_ARCHS, ...TORCHVISION_ARCHS]) {
    it(arch, async () => {
      await initBackend('wasm', 1);
      const size = 32;
      const heads = [
        { units: 1, activation: 'sigmoid' as const },
        { units: 3, activation: 'softmax' as const },
        { units: 1, activation: 'linear' as const },
      ];
      for (const [h, head] of heads.entries()) {
        if (h > 0 && (TORCHVISION_ARCHS as readonly string[]).includes(arch) && arch !== 'resnet18') continue; // the heads differ only in the last layer: one torchvision net for all three
        const backbone = backboneOf(arch);
        const model = backbone
          ? (await buildPretrainedNet(backbone, { size, seed: 1, ...head, weightsStrict: true, freeze: 'none', bn: 'train' })).model
          : buildModel({ arch: arch as (typeof SCRATCH_ARCHS)[number], width: 8, depth: 1 }, size, 1, head);
        const dir = tempDir('pipeline-explain-arch-');
        made.push(dir);
        mkdirSync(dir, { recursive: true });
        await saveLayersModel(model, dir);
        model.dispose();
        const saved = await openFoldModel(dir, IMAGENET);
        assert.equal(saved.kind, 'layers');
        if (saved.kind !== 'layers') return;
        const cam = await GradCam.of(saved, undefined, arch);
        assert.match(cam.layer, DEFAULT_LAYER[arch]!, `${arch}: the default layer is the last feature map (${cam.layer})`);
        const images = Float32Array.from({ length: 2 * size * size * 3 }, (_, i) => ((i * 7919) % 256) / 255);
        const { cams, logits } = await cam.run(images, 2, [{ unit: head.units - 1, sign: 1 }, { unit: 0, sign: head.activation === 'sigmoid' ? -1 : 1 }]);
        const [rows, cols] = cam.mapShape;
        assert.equal(cams.length, 2);
        assert.equal(cams[0]!.length, rows * cols);
        assert.equal(logits[0]!.length, head.units);
        const probs = await saved.predict(images, 2);
        if (head.activation === 'sigmoid') assert.ok(Math.abs(1 / (1 + Math.exp(-logits[0]![0]!)) - probs[0]![0]!) < 1e-5, 'the rewired net computes the same function, before its activation');
        for (const map of cams) assert.ok(map.every((v) => Number.isFinite(v) && v >= 0), `${arch}: a finite, non-negative map`);
        cam.dispose();
        saved.dispose();
      }
    });
  }
});
