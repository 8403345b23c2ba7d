import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface DagShape {
  stages: number;
  files: number;
  layers: number;
}

/**
 * A layered DAG of `cmd` stages, identical for pipeline and make: layer 0 hashes a group of
 * input files each, every later stage hashes two outs of the layer below.
 */
export function writeDag(dir: string, shape: DagShape): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const perLayer = Math.floor(shape.stages / shape.layers);
  const perGroup = Math.floor(shape.files / perLayer);
  for (let g = 0; g < perLayer; g++) {
    const groupDir = path.join(dir, 'in', `g${g}`);
    mkdirSync(groupDir, { recursive: true });
    for (let f = 0; f < perGroup; f++) writeFileSync(path.join(groupDir, `f${f}.txt`), `input ${g}/${f}\n`);
  }
  mkdirSync(path.join(dir, 'o'), { recursive: true });
  const yaml: string[] = ['version: 1', 'stages:'];
  const make: string[] = ['.PHONY: all', ''];
  const finals: string[] = [];
  for (let layer = 0; layer < shape.layers; layer++) {
    for (let i = 0; i < perLayer; i++) {
      const name = `s${layer}_${i}`;
      const out = `o/${name}`;
      let deps: string[];
      let makeDeps: string[];
      if (layer === 0) {
        deps = [`in/g${i}`];
        makeDeps = Array.from({ length: perGroup }, (_, f) => `in/g${i}/f${f}.txt`);
      } else {
        deps = [`o/s${layer - 1}_${i}`, `o/s${layer - 1}_${(i + 1) % perLayer}`];
        makeDeps = deps;
      }
      const cmd = `cat ${layer === 0 ? `in/g${i}/*` : deps.join(' ')} | sha256sum > ${out}`;
      yaml.push(`  ${name}:`, `    cmd: ${cmd}`, `    deps: [${deps.join(', ')}]`, `    outs: [${out}]`);
      make.push(`${out}: ${makeDeps.join(' ')}`, `\t${cmd}`, '');
      if (layer === shape.layers - 1) finals.push(out);
    }
  }
  make[0] = `.PHONY: all\nall: ${finals.join(' ')}`;
  writeFileSync(path.join(dir, 'pipeline.yaml'), yaml.join('\n') + '\n');
  writeFileSync(path.join(dir, 'Makefile'), make.join('\n') + '\n');
}
