import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { inspect } from '../images/inspect.js';
import { formatManifest, MANIFEST, type Properties, type Sample } from '../runtime/manifest.js';
import { rng } from '../runtime/rng.js';
import type { BuiltinStage } from '../runtime/stage.js';
import { declaration } from './declaration.js';
import { addNoise, drawFace, inpaintingArtifact, insightArtifact, makeIdentity, text2imgArtifact, toUint8 } from './draw.js';

export interface SynthParams {
  seed: number;
  data: {
    identities: number;
    real_per_identity: number;
    fake_per_identity: number;
    /** Width of every image; real images are 1.25x taller (the planted geometry shortcut). */
    size: number;
    /** Set false to remove the geometry shortcut (real images square too). */
    geometry_shortcut: boolean;
  };
}

export const FAKE_SOURCES = ['text2img', 'inpainting', 'insight'] as const;

/**
 * The bundled dataset, generated from a seed: face-like images of several identities. Real
 * images (`wiki`) carry sensor noise and are rectangular; each fake source has its own artifact
 * and is square. Every identity appears as real and as fakes, so it is the group key.
 */
export const synthFaces: BuiltinStage<SynthParams> = {
  declaration,
  async run(ctx) {
    const out = ctx.outputs.dataset;
    const { seed, data } = ctx.params;
    rmSync(out, { recursive: true, force: true });
    const samples: Sample[] = [];
    const properties: Properties[] = [];
    const lighting: number[] = [];
    const total = data.identities * (data.real_per_identity + data.fake_per_identity);
    for (let i = 0; i < data.identities; i++) {
      if (ctx.signal.aborted) return;
      const group = `id${String(i).padStart(3, '0')}`;
      const identity = makeIdentity(rng(seed * 7919 + i));
      const random = rng(seed * 104729 + i * 31);
      const jobs: { source: string; label: number; k: number }[] = [];
      for (let k = 0; k < data.real_per_identity; k++) jobs.push({ source: 'wiki', label: 0, k });
      for (let k = 0; k < data.fake_per_identity; k++) jobs.push({ source: FAKE_SOURCES[(i + k) % FAKE_SOURCES.length], label: 1, k });
      for (const job of jobs) {
        const width = data.size;
        const height = job.label === 0 && data.geometry_shortcut ? Math.round(data.size * 1.25) : data.size;
        const img = drawFace(identity, width, height, random);
        if (job.source === 'wiki') addNoise(img, 0.035, random);
        else {
          if (job.source === 'text2img') text2imgArtifact(img);
          if (job.source === 'inpainting') inpaintingArtifact(img, random);
          if (job.source === 'insight') insightArtifact(img);
          addNoise(img, 0.01, random);
        }
        const rel = `images/${job.source}/${group}_${job.label ? 'fake' : 'real'}${job.k}.png`;
        mkdirSync(path.dirname(path.join(out, rel)), { recursive: true });
        const png = await sharp(toUint8(img), { raw: { width, height, channels: 3 } }).png({ compressionLevel: 6 }).toBuffer();
        writeFileSync(path.join(out, rel), png);
        // The same measurements `images` records for a researcher's photos, so errors break down by them here too.
        const inspected = await inspect(png);
        if (!inspected.ok) throw new Error(`synth-faces: ${rel} did not decode (${inspected.reason})`);
        samples.push({ path: rel, label: job.label, source: job.source, group });
        properties.push(inspected.properties);
        lighting.push(Number(img.pose.light.toFixed(4)));
      }
      ctx.progress({ images: `${samples.length}/${total}` });
    }
    writeFileSync(path.join(out, MANIFEST), formatManifest(samples, properties, { light: lighting }));
    ctx.log(`synth-faces: ${samples.length} images of ${data.identities} identities in ${out}`);
  },
};
