import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { cli, jsonEvents, linkNodeModules, makeProject, read } from './helpers.js';
import { lfwFolder } from './support/real-photos.js';
import { tempDir } from './support/temp-dirs.js';
import { pipelineYaml, studyConfigs, studySize, type StudyTemplate } from '../src/init/templates.js';

describe('pipeline init', () => {
  it('sizes the study from the data set: 5 folds of 6 epochs up to 1,000 images, then 3 folds, and fewer epochs above 2,000', () => {
    assert.deepEqual(studySize(200), { folds: 5, epochs: 6 });
    assert.deepEqual(studySize(1000), { folds: 5, epochs: 6 });
    assert.deepEqual(studySize(1797), { folds: 3, epochs: 6 });
    assert.deepEqual(studySize(4000), { folds: 3, epochs: 3 });
    assert.deepEqual(studySize(50_000), { folds: 3, epochs: 2 });
    const digits: StudyTemplate = { images: 'digits', task: 'multiclass', classes: Array.from({ length: 10 }, (_, k) => ({ name: String(k), count: k < 7 ? 180 : 179 })), facecrop: false, trainer: 'tfjs' };
    assert.equal((pipelineYaml(digits).match(/fold: \[0, 1, 2\]/g) ?? []).length, 2, 'the networks and the probe on the same 3 folds');
    const configs = studyConfigs(digits);
    assert.match(configs['configs/dataset.yaml'], /folds: 3 +# 1797 images/);
    assert.match(configs['configs/shared.yaml'], /epochs: 6\n/);
    assert.match(studyConfigs({ ...digits, classes: [{ name: 'a', count: 2000 }, { name: 'b', count: 2000 }] })['configs/shared.yaml'], /epochs: 3 +# 4000 images/);
  });

  it('without --images scaffolds the bundled demo study; never overwrites without --force', () => {
    const dir = makeProject({ '.gitignore': 'node_modules/\n*.log\n' });
    linkNodeModules(dir);
    const r = cli(dir, ['init']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote pipeline\.yaml, .*configs\/dataset\.yaml, .*configs\/phase1\/p1_cnn\.yaml/);
    assert.match(r.stdout, /npx pipeline run report/);
    assert.match(read(dir, 'pipeline.yaml'), /\$schema=node_modules\/pipeline\/schema\/pipeline\.schema\.json/);
    assert.equal(read(dir, '.gitignore'), 'node_modules/\n*.log\ncache/\n.pipeline/\noutputs/\ndata/dataset/\ndata/cropped/\n', 'missing lines appended, nothing lost');
    assert.match(cli(dir, ['validate']).stdout, /is valid: 16 stages, 259 stage instances/);

    writeFiles(dir, 'pipeline.yaml', '# mine\n');
    const again = cli(dir, ['init']);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /error: pipeline\.yaml, .*configs\/dataset\.yaml, .* already exist; nothing was written \(pass --force to overwrite\)/);
    assert.equal(read(dir, 'pipeline.yaml'), '# mine\n');
    assert.equal(cli(dir, ['init', '--force']).code, 0);
    assert.notEqual(read(dir, 'pipeline.yaml'), '# mine\n');
  });

  it('--images: two classes make a binary study (which is positive?), more a multi-class one, numbers a regression', async () => {
    const dir = makeProject({});
    linkNodeModules(dir);
    for (const cls of ['cat', 'dog', 'fox']) {
      mkdirSync(path.join(dir, 'photos', cls), { recursive: true });
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#777' } }).png().toFile(path.join(dir, 'photos', cls, 'a.png'));
    }
    const three = cli(dir, ['init', '--images', 'photos']);
    assert.equal(three.code, 0, three.stderr);
    assert.match(three.stdout, /found 3 classes in photos: cat \(1\), dog \(1\), fox \(1\): a multi-class study/);
    assert.match(read(dir, 'pipeline.yaml'), /# A 3-class study on photos[\s\S]*with: \{ task: multiclass \}/);
    assert.match(read(dir, 'pipeline.yaml'), /uses: baseline/, 'the probe (one-vs-rest here) is in every study');
    assert.match(cli(dir, ['validate']).stdout, /is valid: 7 stages/);
    const positive = cli(dir, ['init', '--images', 'photos', '--positive', 'cat', '--force']);
    assert.equal(positive.code, 2);
    assert.match(positive.stderr, /--positive makes a binary study, and photos has 3 classes: cat \(1\), dog \(1\), fox \(1\); leave --positive out/);
    for (const digit of ['3', '7', '9']) {
      mkdirSync(path.join(dir, 'scans', digit), { recursive: true });
      await sharp({ create: { width: 8, height: 8, channels: 3, background: '#777' } }).png().toFile(path.join(dir, 'scans', digit, 'a.png'));
    }
    const digits = cli(dir, ['init', '--images', 'scans', '--force']);
    assert.match(digits.stdout, /found 3 classes in scans: 3 \(1\), 7 \(1\), 9 \(1\): a multi-class study/, 'folders named by numbers are classes');
    writeFiles(dir, 'ages.csv', 'path,label\nphotos/cat/a.png,31\nphotos/dog/a.png,45.5\nphotos/fox/a.png,62\n');
    const ages = cli(dir, ['init', '--images', 'ages.csv', '--force']);
    assert.equal(ages.code, 0, ages.stderr);
    assert.match(ages.stdout, /found a numeric target in ages\.csv: 3 images, from 31 to 62: a regression study/);
    assert.match(read(dir, 'pipeline.yaml'), /with: \{ task: regression \}/);
    writeFiles(dir, 'one.csv', 'path,label\nphotos/cat/a.png,cat\n');
    assert.match(cli(dir, ['init', '--images', 'one.csv', '--force']).stderr, /found 1 labels: cat \(1\); a study needs two or more classes/);
    writeFiles(dir, 'labels.csv', 'path,label\nphotos/cat/a.png,cat\nphotos/dog/a.png,dog\n');
    const which = cli(dir, ['init', '--images', 'labels.csv', '--force']);
    assert.equal(which.code, 2);
    assert.match(which.stderr, /two classes, cat \(1\), dog \(1\); say which one to detect: --positive dog/);
    const wrong = cli(dir, ['init', '--images', 'labels.csv', '--positive', 'dgo', '--force']);
    assert.match(wrong.stderr, /--positive dgo: not one of the classes in labels\.csv \(cat \(1\), dog \(1\)\)/);
    const ok = cli(dir, ['init', '--images', 'labels.csv', '--positive', 'dog', '--facecrop', '--force']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(read(dir, 'pipeline.yaml'), /deps: \{ images: labels\.csv, files: photos \}[\s\S]*uses: facecrop[\s\S]*cropped: data\/cropped/, 'the folder the CSV points into is a dep too');
    assert.match(cli(dir, ['validate']).stdout, /is valid: 8 stages/);
  });
});

const realPhotos = await lfwFolder(path.join(tempDir('pipeline-lfw-'), 'photos'));
const required = process.env.PIPELINE_REQUIRE_SERVICES === '1';

describe('your own study on real photos (scikit-image’s Labeled Faces in the Wild subset)', { skip: !realPhotos && !required ? 'python3-skimage could not be downloaded from the Debian mirror' : false }, () => {
  it('init -> run -> report, with the truncated and empty files excluded and listed; a rerun does nothing', () => {
    const dir = makeProject({});
    const init = cli(dir, ['init', '--images', realPhotos!, '--positive', 'face']);
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /found 2 classes in .*photos: face \(102, positive\), non_face \(100\)/);
    // A researcher's project has the package installed; the pretrained experiment's backbone ships in it.
    linkNodeModules(dir);
    const run = cli(dir, ['run', 'report', '-S', 'train.epochs=3']);
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(read(dir, 'data/dataset/dataset.json')) as { images: number; excluded: { path: string; reason: string }[]; classes: unknown };
    assert.equal(summary.images, 200);
    assert.deepEqual(
      summary.excluded.map((e) => `${e.path}: ${e.reason.split(' (')[0]}`),
      ['face/lfw/empty.jpg: empty file', 'face/lfw/truncated.jpg: truncated'],
    );
    const report = read(dir, 'outputs/report/report.md');
    assert.match(report, /^# face vs non_face: study report/);
    const auc = Number(/\| cnn \| architecture \| simple_cnn_dense \| (\d\.\d+)/.exec(report)?.[1]);
    assert.ok(auc > 0.7, `faces vs non-faces is learnable from 200 real photos: AUC ${auc}`);
    const pretrained = Number(/\| pretrained \| pretraining \| [^|]+ \| (\d\.\d+)/.exec(report)?.[1]);
    assert.ok(pretrained > 0.9, `ImageNet features tell faces from non-faces: AUC ${pretrained}`);
    assert.match(report, /Pretraining (helps|does not measurably help|hurts)/);
    const again = cli(dir, ['run', 'report', '-S', 'train.epochs=3', '--json']);
    assert.deepEqual(jsonEvents(again.stdout).at(-1), { ...jsonEvents(again.stdout).at(-1), event: 'done', ok: true, ran: 0, restored: 0 });
  });
});

function writeFiles(dir: string, rel: string, content: string): void {
  writeFileSync(path.join(dir, rel), content);
  assert.equal(readFileSync(path.join(dir, rel), 'utf8'), content);
}
