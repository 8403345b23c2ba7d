import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Sample } from '../../stages/runtime/manifest.js';
import { makeSplit, trainingSet, validationSet } from '../../stages/split/split.js';

/** 40 identities x (3 real + 3 fake), fakes cycling over three sources: the synth-faces shape. */
function dataset(identities = 40): Sample[] {
  const sources = ['text2img', 'inpainting', 'insight'];
  const out: Sample[] = [];
  for (let i = 0; i < identities; i++) {
    for (let k = 0; k < 3; k++) out.push({ path: `r${i}_${k}`, label: 0, source: 'wiki', group: `g${i}` });
    for (let k = 0; k < 3; k++) out.push({ path: `f${i}_${k}`, label: 1, source: sources[(i + k) % 3], group: `g${i}` });
  }
  return out;
}

describe('split', () => {
  const samples = dataset();
  const split = makeSplit(samples, 5, 42, 'label');

  it('never puts a group in two folds', () => {
    const foldsOfGroup = new Map<string, Set<number>>();
    for (const s of split.samples) foldsOfGroup.set(s.group, (foldsOfGroup.get(s.group) ?? new Set()).add(s.fold));
    for (const folds of foldsOfGroup.values()) assert.equal(folds.size, 1);
    for (let f = 0; f < 5; f++) {
      const trainGroups = new Set(trainingSet(split, f).map((s) => s.group));
      for (const s of validationSet(split, f)) assert.ok(!trainGroups.has(s.group));
    }
  });

  it('keeps per-fold class counts within 1 of each other', () => {
    for (const label of [0, 1]) {
      const counts = [0, 1, 2, 3, 4].map((f) => validationSet(split, f).filter((s) => s.label === label).length);
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `label ${label}: ${counts}`);
    }
    const uneven = makeSplit(dataset(23), 5, 7, 'label');
    const groupsPerFold = [0, 1, 2, 3, 4].map((f) => new Set(validationSet(uneven, f).map((s) => s.group)).size);
    assert.ok(Math.max(...groupsPerFold) - Math.min(...groupsPerFold) <= 1, `groups per fold ${groupsPerFold}`);
  });

  it('nests subsamples: 20% within 50% within 100%, with fold assignment unchanged', () => {
    for (let f = 0; f < 5; f++) {
      const ids = (p: number) => new Set(trainingSet(split, f, p).map((s) => s.path));
      const [a, b, c] = [ids(0.2), ids(0.5), ids(1)];
      for (const id of a) assert.ok(b.has(id));
      for (const id of b) assert.ok(c.has(id));
      assert.ok(a.size < b.size && b.size < c.size);
      assert.ok(Math.abs(a.size / c.size - 0.2) < 0.05, `20% is ${a.size}/${c.size}`);
    }
  });

  it('gives the same split for the same seed, and another for another seed', () => {
    assert.deepEqual(makeSplit(samples, 5, 42, 'label'), split);
    assert.notDeepEqual(makeSplit(samples, 5, 43, 'label').samples.map((s) => s.fold), split.samples.map((s) => s.fold));
  });

  it('holds a source out of training', () => {
    const train = trainingSet(split, 0, 1, 'insight');
    assert.ok(train.length > 0 && train.every((s) => s.source !== 'insight'));
    assert.ok(validationSet(split, 0).some((s) => s.source === 'insight'));
  });
});

describe('split: multi-class and regression', () => {
  it('stratifies four classes: every fold holds every class, counts within 1 of even', () => {
    const samples: Sample[] = Array.from({ length: 80 }, (_, i) => ({ path: `x${i}`, label: i % 4, source: `s${i % 4}`, group: `g${i}` }));
    const split = makeSplit(samples, 5, 1, 'label', 'multiclass');
    for (let c = 0; c < 4; c++) {
      const counts = [0, 1, 2, 3, 4].map((f) => split.samples.filter((s) => s.fold === f && s.label === c).length);
      assert.ok(Math.max(...counts) - Math.min(...counts) <= 1, `class ${c}: ${counts}`);
    }
  });
  it('stratifies a regression target on its quantile bins: each fold spans the range', () => {
    const samples: Sample[] = Array.from({ length: 100 }, (_, i) => ({ path: `x${i}`, label: 18 + ((i * 37) % 100) * 0.6, source: 'a', group: `g${i}` }));
    const split = makeSplit(samples, 5, 1, 'label', 'regression');
    const sorted = [...samples].map((s) => s.label).sort((a, b) => a - b);
    const bottom = sorted[19];
    const top = sorted[80];
    for (let f = 0; f < 5; f++) {
      const ages = split.samples.filter((s) => s.fold === f).map((s) => s.label);
      assert.equal(ages.filter((a) => a <= bottom).length, 4, `fold ${f} has its share of the youngest fifth`);
      assert.equal(ages.filter((a) => a >= top).length, 4, `fold ${f} has its share of the oldest fifth`);
    }
  });
});
