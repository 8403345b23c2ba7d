import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { inspect, jpegQuality } from '../../stages/images/inspect.js';
import { cli, makeProject, read } from '../helpers.js';

const fixtures = fileURLToPath(new URL('../../../test/fixtures/images/', import.meta.url));

interface Expected {
  properties: { file: string; width: number; height: number; luminance: number; contrast: number; sharpness: number }[];
  jpeg_quality: { file: string; quality: number }[];
}
const expected = JSON.parse(readFileSync(path.join(fixtures, 'expected.json'), 'utf8')) as Expected;

const close = (actual: number, want: number, what: string) => assert.ok(Math.abs(actual - want) <= 2e-6 * Math.max(1, Math.abs(want)), `${what}: ${actual} vs ${want}`);

describe('image properties against numpy/scipy (test/fixtures/images/make_fixtures.py)', () => {
  for (const e of expected.properties) {
    it(`${e.file}: size, luminance, RMS contrast, variance of the Laplacian`, async () => {
      const result = await inspect(readFileSync(path.join(fixtures, e.file)));
      assert.ok(result.ok);
      assert.deepEqual([result.properties.width, result.properties.height], [e.width, e.height]);
      close(result.properties.luminance, e.luminance, 'luminance');
      close(result.properties.contrast, e.contrast, 'contrast');
      close(result.properties.sharpness, e.sharpness, 'sharpness');
      assert.equal(result.properties.jpeg_quality, null, 'PNG has no JPEG quality');
    });
  }

  it('JPEG quality: Pillow- and libvips-encoded files report the quality they were written with', async () => {
    for (const e of expected.jpeg_quality) assert.equal(jpegQuality(readFileSync(path.join(fixtures, e.file))), e.quality, e.file);
    const photo = await sharp(path.join(fixtures, 'noise.png')).toBuffer();
    for (const q of [10, 50, 90, 100]) assert.equal(jpegQuality(await sharp(photo).jpeg({ quality: q }).toBuffer()), q, `libvips q${q}`);
  });

  it('orientation: a rotated JPEG reports its displayed size', async () => {
    const bytes = await sharp(path.join(fixtures, 'gradient.png')).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const result = await inspect(bytes);
    assert.ok(result.ok);
    assert.deepEqual([result.properties.width, result.properties.height, result.properties.aspect], [60, 80, 0.75]);
  });
});

/** A folder study: two classes, two sources, one file of each kind that must be excluded, and a copy across classes. */
async function photoFolder(dir: string): Promise<void> {
  for (const cls of ['cat', 'dog']) {
    for (const source of ['flickr', 'phone']) {
      mkdirSync(path.join(dir, cls, source), { recursive: true });
      for (let i = 0; i < 4; i++) {
        const pixels = Buffer.alloc(40 * 30 * 3).map((_, k) => (k * (i + 2) + (cls === 'cat' ? 70 : 0) + (source === 'phone' ? 13 : 0)) % 256);
        await sharp(pixels, { raw: { width: 40, height: 30, channels: 3 } }).jpeg({ quality: 80 }).toFile(path.join(dir, cls, source, `s${i}_${source}.jpg`));
      }
    }
  }
  writeFileSync(path.join(dir, 'cat', 'flickr', 'empty.jpg'), '');
  const whole = readFileSync(path.join(dir, 'cat', 'flickr', 's0_flickr.jpg'));
  writeFileSync(path.join(dir, 'dog', 'phone', 'cut.jpg'), whole.subarray(0, whole.length / 2));
  writeFileSync(path.join(dir, 'dog', 'phone', 'text.png'), 'this is not a PNG');
  writeFileSync(path.join(dir, 'dog', 'notes.txt'), 'shot on a rainy day');
  writeFileSync(path.join(dir, 'dog', 'phone', 'copy.jpg'), readFileSync(path.join(dir, 'cat', 'phone', 's1_phone.jpg')));
}

const snapshot = (dir: string) =>
  (readdirSync(dir, { recursive: true }) as string[])
    .sort()
    .map((p) => {
      const s = statSync(path.join(dir, p));
      return `${p}:${s.size}:${s.mtimeMs}`;
    });

const imagesStage = (withOptions: string, input: string) =>
  ['stages:', '  images:', '    uses: images', `    with: ${withOptions}`, `    deps: { images: ${input} }`, '    outs: { dataset: data/dataset }'].join('\n');

describe('images: a folder of the user’s own photos', () => {
  it('excludes and lists what cannot be used, flags copies across classes, records groups and properties, and only reads the folder', async () => {
    const dir = makeProject({ 'pipeline.yaml': imagesStage("{ positive: dog, group_pattern: '^s(\\d+)_' }", 'photos') });
    await photoFolder(path.join(dir, 'photos'));
    const before = snapshot(path.join(dir, 'photos'));
    const r = cli(dir, ['run']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(snapshot(path.join(dir, 'photos')), before, 'the user’s folder is untouched');
    assert.equal(
      read(dir, 'data/dataset/excluded.csv'),
      [
        'path,reason',
        'cat/flickr/empty.jpg,empty file (0 bytes)',
        'dog/notes.txt,not an image file (.txt)',
        'dog/phone/cut.jpg,truncated (the jpeg file ends before its end marker)',
        'dog/phone/text.png,not an image (Input buffer contains unsupported image format)',
        '',
      ].join('\n'),
    );
    const summary = JSON.parse(read(dir, 'data/dataset/dataset.json')) as Record<string, unknown>;
    assert.equal(summary.task, 'binary');
    assert.deepEqual(summary.classes, [
      { name: 'cat', label: 0, count: 8 },
      { name: 'dog', label: 1, count: 9 },
    ]);
    assert.deepEqual(summary.groups, { from: 'group_pattern', count: 5 }, 's0..s3, and copy.jpg whose name does not match is its own group');
    assert.deepEqual(summary.warnings, ['identical images across classes: cat/phone/s1_phone.jpg, dog/phone/copy.jpg']);
    const rows = read(dir, 'data/dataset/manifest.csv').trim().split('\n');
    assert.equal(rows[0], 'path,label,source,group,class,sha256,width,height,aspect,luminance,contrast,sharpness,jpeg_quality,noise,high_frequency,blockiness,brisque');
    assert.equal(rows.length, 18);
    assert.match(rows.find((l) => l.includes('dog/phone/s2_phone.jpg'))!, /^\.\.\/\.\.\/photos\/dog\/phone\/s2_phone\.jpg,1,phone,2,dog,[0-9a-f]{64},40,30,1\.333333,0\.\d+,0\.\d+,\d+(\.\d+)?,80,\d+(\.\d+)?,0\.\d+,\d+(\.\d+)?,$/);
    const log = read(dir, 'cache/logs/images.log');
    assert.match(log, /images: 17 usable, 4 excluded, \d+ decoded this run/);
    assert.match(log, /excluded dog\/phone\/cut\.jpg: truncated/);
  });

  it('exclude: rules on the properties leave images out, listed with the rule and counted per rule, class and source', async () => {
    const dir = makeProject({ 'pipeline.yaml': imagesStage('{ positive: dog, exclude: { high_frequency: "< 0.2", jpeg_quality: "< 10" } }', 'photos') });
    await photoFolder(path.join(dir, 'photos'));
    assert.equal(cli(dir, ['run']).code, 0);
    const manifest = read(dir, 'data/dataset/manifest.csv').trim().split('\n');
    const at = manifest[0].split(',').indexOf('high_frequency');
    assert.ok(manifest.slice(1).every((l) => Number(l.split(',')[at]) >= 0.2), 'what stays passes the rules');
    const byRule = (JSON.parse(read(dir, 'data/dataset/dataset.json')) as { excluded_by_rule: Record<string, { images: number; by_class: Record<string, number>; by_source: Record<string, number> }> }).excluded_by_rule;
    const ruled = read(dir, 'data/dataset/excluded.csv').split('\n').filter((l) => l.includes(',rule high_frequency < 0.2 (high_frequency 0.'));
    assert.equal(ruled.length, 4, 'the four smoothest gradients (one per class and source) are blurry by this rule');
    assert.deepEqual(byRule['high_frequency < 0.2'], { images: 4, by_class: { cat: 2, dog: 2 }, by_source: { flickr: 2, phone: 2 } });
    assert.equal(byRule['jpeg_quality < 10'].images, 0);
    assert.equal(manifest.length - 1 + ruled.length, 17);

    for (const [rule, message] of [
      ['{ sharpnes: "< 20" }', /with\.exclude has no key `sharpnes`; did you mean `sharpness`\? \(valid: width, height, aspect, luminance, contrast, sharpness, jpeg_quality, noise, high_frequency, blockiness, brisque\)/],
      ['{ sharpness: "about 20" }', /exclude\.sharpness must match pattern/],
    ] as const) {
      writeFileSync(path.join(dir, 'pipeline.yaml'), imagesStage(`{ positive: dog, exclude: ${rule} }`, 'photos'));
      const bad = cli(dir, ['status']);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /pipeline\.yaml:4:\d+/);
      assert.match(bad.stderr, message);
    }
  });

  it('is incremental per image: adding one decodes one', async () => {
    const dir = makeProject({ 'pipeline.yaml': imagesStage('{ positive: dog }', 'photos') });
    await photoFolder(path.join(dir, 'photos'));
    assert.equal(cli(dir, ['run']).code, 0);
    await sharp({ create: { width: 20, height: 20, channels: 3, background: '#808080' } }).jpeg().toFile(path.join(dir, 'photos', 'dog', 'flickr', 'new.jpg'));
    assert.equal(cli(dir, ['run']).code, 0);
    assert.match(read(dir, 'cache/logs/images.log'), /images: 18 usable, 4 excluded, 1 decoded this run/);
    assert.match(read(dir, 'cache/logs/images.log'), /no groups \(no group column, no group_pattern\): every image is its own group/);
  });

  it('strict: makes unusable files an error that lists them', async () => {
    const dir = makeProject({ 'pipeline.yaml': imagesStage('{ positive: dog, strict: true }', 'photos') });
    await photoFolder(path.join(dir, 'photos'));
    const r = cli(dir, ['run']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /strict: 4 files cannot be used:[\s\S]*cat\/flickr\/empty\.jpg: empty file/);
  });

  it('a binary study with three class folders is an error listing them', async () => {
    const dir = makeProject({ 'pipeline.yaml': imagesStage('{ positive: dog }', 'photos') });
    await photoFolder(path.join(dir, 'photos'));
    mkdirSync(path.join(dir, 'photos', 'fox'));
    await sharp({ create: { width: 20, height: 20, channels: 3, background: '#a0522d' } }).png().toFile(path.join(dir, 'photos', 'fox', 'f.png'));
    const r = cli(dir, ['run']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /a binary study needs exactly two classes; found 3: cat \(8\), dog \(9\), fox \(1\)/);
  });
});

describe('images: a CSV of the user’s own photos', () => {
  async function csvProject(csv: string, options = '{ positive: dog }') {
    const dir = makeProject({ 'pipeline.yaml': imagesStage(options, 'labels/list.csv'), 'labels/list.csv': csv });
    await photoFolder(path.join(dir, 'labels', 'img'));
    return dir;
  }

  it('reads path,label,source,group with paths relative to the CSV, groups from the column', async () => {
    const dir = await csvProject('path,label,source,group\nimg/cat/flickr/s0_flickr.jpg,cat,web,anna\nimg/cat/phone/s0_phone.jpg,cat,phone,anna\nimg/dog/flickr/s1_flickr.jpg,dog,web,ben\n');
    assert.equal(cli(dir, ['run']).code, 0);
    const summary = JSON.parse(read(dir, 'data/dataset/dataset.json')) as { groups: unknown; images: number };
    assert.deepEqual(summary.groups, { from: 'column', count: 2 });
    assert.match(read(dir, 'data/dataset/manifest.csv'), /^\.\.\/\.\.\/labels\/img\/cat\/flickr\/s0_flickr\.jpg,0,web,anna,cat,/m);
  });

  it('with files: mapped, an edited image (the CSV unchanged) reruns the stage; without it the log says how to track them', async () => {
    const csv = 'path,label\nimg/cat/flickr/s0_flickr.jpg,cat\nimg/dog/flickr/s1_flickr.jpg,dog\n';
    const untracked = await csvProject(csv);
    assert.equal(cli(untracked, ['run']).code, 0);
    assert.match(read(untracked, 'cache/logs/images.log'), /note: the images a CSV lists are not deps of this stage: .*deps: \{ files: <folder> \}/);
    const dir = makeProject({ 'pipeline.yaml': imagesStage('{ positive: dog }', 'labels/list.csv, files: labels/img'), 'labels/list.csv': csv });
    await photoFolder(path.join(dir, 'labels', 'img'));
    assert.equal(cli(dir, ['run']).code, 0);
    const before = read(dir, 'data/dataset/manifest.csv');
    await sharp({ create: { width: 12, height: 12, channels: 3, background: '#123456' } }).jpeg().toFile(path.join(dir, 'labels/img/dog/flickr/s1_flickr.jpg'));
    const r = cli(dir, ['run', '--json']);
    assert.match(r.stdout, /"event":"finished","stage":"images"/);
    assert.notEqual(read(dir, 'data/dataset/manifest.csv'), before, 'the new content is in the manifest (sha256, size)');
  });

  it('numeric labels are a regression target', async () => {
    const dir = await csvProject('path,label\nimg/cat/flickr/s0_flickr.jpg,31.5\nimg/cat/phone/s0_phone.jpg,40\nimg/dog/flickr/s1_flickr.jpg,22\n', '{}');
    assert.equal(cli(dir, ['run']).code, 0);
    assert.equal((JSON.parse(read(dir, 'data/dataset/dataset.json')) as { task: string }).task, 'regression');
  });

  for (const [name, csv, options, message] of [
    ['a missing column', 'path,class\nimg/cat/flickr/s0_flickr.jpg,cat\n', '{ positive: dog }', /labels\/list\.csv:1: missing column "label" \(a CSV of images has path,label and may add source,group; found: path,class\)/],
    ['an unknown label', 'path,label\nimg/cat/flickr/s0_flickr.jpg,cat\nimg/dog/flickr/s0_flickr.jpg,dgo\n', '{ positive: dog, classes: [cat, dog] }', /labels\/list\.csv:3: unknown label "dgo" \(classes: cat, dog\)/],
    ['a path that escapes its folder', 'path,label\n../../etc/passwd,cat\n', '{ positive: dog }', /labels\/list\.csv:2: path "\.\.\/\.\.\/etc\/passwd" leaves the CSV's folder/],
  ] as const) {
    it(`${name} is an error naming file:line and what would be valid`, async () => {
      const dir = await csvProject(csv, options);
      const r = cli(dir, ['run']);
      assert.equal(r.code, 1);
      assert.match(r.stderr, message);
    });
  }
});
