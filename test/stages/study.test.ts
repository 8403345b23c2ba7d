import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { webgpuUnavailable } from '../support/webgpu-adapter.js';
import { cli, cliPath, git, makeProject, read } from '../helpers.js';

/** A tiny study with the real built-in stages: 1 epoch, 16 px, two folds of five. */
function tinyStudy(): string {
  return makeProject({
    'configs/dataset.yaml': 'seed: 7\ndata: { identities: 10, real_per_identity: 2, fake_per_identity: 2, size: 24, geometry_shortcut: true }\ncv: { folds: 5, stratify: label }\n',
    'configs/shared.yaml': 'seed: 7\nmodel: { arch: simple_cnn, width: 4, depth: 1 }\ndata: { input: raw, size: 16, fraction: 1, eval_geometry: same }\ntrain: { epochs: 1, batch_size: 16, lr: 0.01, weight_decay: 0.0001, patience: 1, augment: false, normalization: imagenet }\n',
    'configs/phase1/a_cnn.yaml': 'extends: ../shared.yaml\n',
    'configs/phase1/b_mobile.yaml': 'extends: ../shared.yaml\nmodel: { arch: mobilenet, width: 4, depth: 1 }\n',
    'configs/phase2/never_trained.yaml': 'extends: ../shared.yaml\ntrain: { augment: true }\n',
    'configs/phase3/w4_half.yaml': 'extends: ../shared.yaml\ndata: { fraction: 0.5 }\n',
    'configs/phase3/w4_full.yaml': 'extends: ../shared.yaml\n',
    'configs/phase5/src.yaml': 'extends: ../shared.yaml\ndata: { target: source }\n',
    'configs/phase5/light.yaml': 'extends: ../shared.yaml\ndata: { target: light }\n',
    'configs/phase5/light_huber.yaml': 'extends: ../shared.yaml\ndata: { target: light }\ntrain: { loss: huber }\n',
    'configs/baseline/probe_src.yaml': 'data: { input: raw, fraction: 1, eval_geometry: same, target: source }\nprobe: { pixels: 6, C: 1 }\n',
    'configs/baseline/probe_light.yaml': 'data: { input: raw, fraction: 1, eval_geometry: same, target: light }\nprobe: { pixels: 6, alpha: 1 }\n',
    'configs/baseline/probe.yaml': 'data: { input: raw, fraction: 1, eval_geometry: same }\nprobe: { pixels: 6, C: 1 }\n',
    'configs/study.yaml': [
      'experiments:',
      '  a_cnn: { phase: 1, question: architecture, label: cnn }',
      '  b_mobile: { phase: 1, question: architecture, label: mobilenet, baseline: a_cnn }',
      '  never_trained: { phase: 2, question: augmentation, label: on, baseline: a_cnn }',
      '  w4_half: { phase: 3, question: width x data, label: half, model: cnn4, width: 4, fraction: 0.5, sweep: true }',
      '  w4_full: { phase: 3, question: width x data, label: full, model: cnn4, width: 4, fraction: 1, sweep: true }',
      '  src: { phase: 5, question: source attribution, label: four sources }',
      '  light: { phase: 5, question: lighting, label: regression }',
      '  light_huber: { phase: 5, question: loss, label: Huber, baseline: light }',
      '',
    ].join('\n'),
    'pipeline.yaml': [
      'params: [configs/dataset.yaml]',
      'stages:',
      '  data: { uses: synth-faces, params: [seed, data], outs: { dataset: data/raw } }',
      '  eda: { uses: eda, deps: { dataset: data/raw }, outs: { eda: outputs/eda } }',
      '  split: { uses: split, deps: { dataset: data/raw }, params: [seed, cv], outs: { splits: outputs/splits.json } }',
      '  train:',
      '    matrix: { exp: "configs/{phase1,phase3,phase5}/*.yaml", fold: [0, 1] }',
      '    uses: train',
      '    with: { fold: "${fold}" }',
      '    deps: { splits: outputs/splits.json, dataset: data/raw }',
      '    params: ${exp}',
      '    outs: { run: "outputs/runs/${exp.name}/fold${fold}" }',
      '  baseline:',
      '    matrix: { exp: "configs/baseline/*.yaml", fold: [0, 1] }',
      '    uses: baseline',
      '    with: { fold: "${fold}" }',
      '    deps: { splits: outputs/splits.json, dataset: data/raw }',
      '    params: ${exp}',
      '    outs: { run: "outputs/runs/${exp.name}/fold${fold}" }',
      '  sufficiency: { uses: sufficiency, with: { targets: [0.8, 0.999] }, deps: { runs: outputs/runs, configs: configs }, outs: { sufficiency: outputs/sufficiency } }',
      '  aggregate:',
      '    matrix: { exp: "configs/{phase1,phase3,phase5,baseline}/*.yaml" }',
      '    uses: aggregate',
      '    with: { experiment: "${exp.name}" }',
      '    deps: { runs: "outputs/runs/${exp.name}" }',
      '    outs: { results: "outputs/results/${exp.name}.json" }',
      '  since:',
      `    cmd: node ${JSON.stringify(cliPath)} metrics diff HEAD --json > outputs/since.json`,
      '    deps: [outputs/results]',
      '    outs: [outputs/since.json]',
      // No face crops in this study: explain runs the face detector on the images it explains.
      '  explain:',
      '    matrix: { exp: "configs/phase1/*.yaml" }',
      '    uses: explain',
      '    with: { experiment: "${exp.name}", errors: 2, per_group: 1 }',
      '    deps: { runs: "outputs/runs/${exp.name}", splits: outputs/splits.json, dataset: data/raw }',
      '    params: ${exp}',
      '    outs: { explain: "outputs/explain/${exp.name}" }',
      '  report:',
      '    uses: report',
      '    with: { since: HEAD, inference_ms: true }',
      '    deps: { results: outputs/results, eda: outputs/eda, configs: configs, runs: outputs/runs, dataset: data/raw, since: outputs/since.json, sufficiency: outputs/sufficiency, explain: outputs/explain }',
      '    outs: { report: outputs/report }',
    ].join('\n'),
  });
}

describe('the built-in stages end to end (tiny study)', () => {
  it('builds a result-gated report; a second run does nothing; a config edit retrains only its folds, and the report says what moved since HEAD', () => {
    const dir = tinyStudy();
    git(dir, 'init', '-q');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'study');
    const r = cli(dir, ['run', 'report', '--jobs', '2']);
    assert.equal(r.code, 0, r.stderr);
    const html = read(dir, 'outputs/report/index.html');
    assert.match(html, /never_trained<\/td><td>augmentation<\/td><td>on<\/td><td>missing \(no results\)/, 'an experiment without results is listed as missing');
    assert.doesNotMatch(html, /never_trained<\/td>.*<td>0\.\d{3} \[/, 'and never given numbers');
    assert.ok((html.match(/<svg/g) ?? []).length >= 5, 'charts are inline SVG');
    assert.match(html, /Shortcut check:<\/b> image geometry alone separates the classes/);
    assert.match(html, /<h3>Phase 1: where the networks look<\/h3>/, 'the explanations, per phase');
    assert.match(html, /<td>b_mobile<\/td><td>0\.\d{3}<\/td><td>Grad-CAM \(m2_0_pw_relu\)<\/td><td>(\d\.\d\d \[\d\.\d\d, \d\.\d\d\]|—)<\/td>/, 'the share inside the face beside AUC');
    assert.match(html, /<figure class="pair"><img src="data:image\/png;base64,[^"]+" width="90" height="90" alt="inputs\/000\.png of images\//, 'image | heatmap pairs');
    const looked = JSON.parse(read(dir, 'outputs/explain/a_cnn/explanations.json')) as { images: { face: string }[] };
    assert.ok(looked.images.every((im) => im.face === 'detector' || im.face === 'none') && looked.images.some((im) => im.face === 'detector'), 'without crops, the detector finds the faces');
    const metrics = JSON.parse(read(dir, 'outputs/runs/a_cnn/fold0/metrics.json')) as { backend: string; val: { auc: number } };
    assert.equal(metrics.backend, 'wasm');
    assert.ok(metrics.val.auc >= 0 && metrics.val.auc <= 1);
    assert.match(read(dir, 'outputs/runs/b_mobile/fold1/oof.csv'), /^id,label,source,prob,pred\nimages\//);
    const fold0 = JSON.parse(read(dir, 'outputs/runs/a_cnn/fold0/metrics.json')) as { val: { threshold: number; balanced_accuracy: number }; parameters: number; images_seen: number };
    assert.ok(fold0.val.threshold > 0 && fold0.val.threshold < 1 && fold0.val.balanced_accuracy >= 0, 'a threshold from the training predictions, and balanced accuracy');
    assert.ok(fold0.parameters > 0 && fold0.images_seen > 0, 'compute: parameters and images seen');
    const probe = JSON.parse(read(dir, 'outputs/runs/probe/fold1/metrics.json')) as { backend: string; val: { auc: number } };
    assert.equal(probe.backend, 'logistic-regression');
    assert.match(html, /baseline probe \(probe: logistic regression on pixels, AUC 0\.\d{3}\)/, 'each phase says how its networks stand against the probe');
    const sufficiency = JSON.parse(read(dir, 'outputs/sufficiency/sufficiency.json')) as { metric: string; curves: { model: string; points: { n: number; value: number }[]; params: { c: number; m: number; c0: number }; inverse: { target: number; n: number | null }[] }[] };
    assert.equal(sufficiency.metric, 'auc');
    assert.deepEqual(sufficiency.curves.map((c) => c.model), ['cnn4'], 'one curve per model that has two or more data fractions');
    assert.equal(sufficiency.curves[0].points.length, 4, 'two fractions x two folds');
    assert.deepEqual(sufficiency.curves[0].inverse.map((i) => i.target), [0.8, 0.999]);
    assert.match(html, /<h2>Data sufficiency<\/h2>/);
    assert.match(html, /Width x data sweep/);
    assert.match(read(dir, 'outputs/report/report.md'), /## What each model costs[\s\S]*\| inference ms \/ image \(wasm, batch 1\) \|[\s\S]*\| a_cnn \| [\d,]+ \| \d+\.\d\d \| \d+\.\d\d \| \d+\.\d \|/, 'parameters, weights, FLOPs and the measured inference time of each model');
    assert.match(read(dir, 'outputs/report/report.md'), /## Errors by image property \(a_cnn\)[\s\S]*\| luminance \| ≤ 0\.\d{3} \| \d+ \|[\s\S]*\| source \| wiki \|/);
    const src = JSON.parse(read(dir, 'outputs/runs/src/fold0/metrics.json')) as { task: string; classes: string[]; n_val: number; val: { confusion: number[][]; accuracy: number } };
    assert.equal(src.task, 'multiclass');
    assert.deepEqual(src.classes, ['inpainting', 'insight', 'text2img', 'wiki']);
    assert.equal(src.val.confusion.flat().reduce((a, b) => a + b, 0), src.n_val);
    const oof = read(dir, 'outputs/runs/src/fold0/oof.csv').trim().split('\n');
    assert.equal(oof[0], 'id,label,source,p_0,p_1,p_2,p_3,pred');
    const correct = oof.slice(1).filter((l) => l.split(',')[1] === l.split(',').at(-1)).length;
    assert.equal(correct / (oof.length - 1), src.val.accuracy, 'metrics.json is what oof.csv says');
    const light = JSON.parse(read(dir, 'outputs/runs/light/fold1/metrics.json')) as { task: string; val: { mae: number; r2: number }; val_by_target_bin: unknown[] };
    assert.equal(light.task, 'regression');
    assert.ok(light.val.mae > 0 && light.val_by_target_bin.length >= 2);
    const md = read(dir, 'outputs/report/report.md');
    assert.match(md, /## Multi-class and regression experiments[\s\S]*### light \(regression\): regression[\s\S]*\| MAE \| \d[\s\S]*\| target \| n \| MAE \| RMSE \| MAPE \|/);
    assert.match(md, /### src \(4-class\): four sources[\s\S]*\| true \\ predicted \| inpainting \| insight \| text2img \| wiki \|\n\|---\|---\|---\|---\|---\|\n\| inpainting \| \d+ \(\d+%\)/);
    assert.match(html, /predicted against true/, 'the regression scatter');
    const srcProbe = JSON.parse(read(dir, 'outputs/runs/probe_src/fold0/metrics.json')) as { task: string; backend_detail: string; val: { confusion: number[][] } };
    assert.equal(srcProbe.task, 'multiclass');
    assert.match(srcProbe.backend_detail, /^one-vs-rest L2 logistic regression/);
    assert.equal(srcProbe.val.confusion.length, 4);
    const lightProbe = JSON.parse(read(dir, 'outputs/runs/probe_light/fold1/metrics.json')) as { task: string; backend: string };
    assert.deepEqual([lightProbe.task, lightProbe.backend], ['regression', 'ridge-regression']);
    assert.match(md, /### probe_src \(4-class\)/, 'a multi-class probe reports in the task section');
    assert.doesNotMatch(md, /\| probe_src \| baseline probe \|.*missing/, 'and not as a missing row of the binary phases');
    assert.match(md, /### src \(4-class\)[\s\S]*\| property \| bin \| n \| accuracy \[95% CI\] \| log loss \[95% CI\] \|\n\|---\|---\|---\|---\|---\|\n\| (height|aspect|luminance) \|/, 'errors by image property for a multi-class model');
    assert.match(md, /### light \(regression\)[\s\S]*\| property \| bin \| n \| MAE \[95% CI\] \| RMSE \|\n\|---\|---\|---\|---\|---\|\n\| (height|aspect|luminance) \|/, 'and for a regression');
    assert.match(md, /### light_huber \(regression\): Huber[\s\S]*\| Δ MAE vs light \| [+-]\d+\.\d{3}; p \(corrected t\) \d\.\d{3}, p \(Holm\) \d\.\d{3} \|/, 'regression experiments are compared like binary ones');
    const eda = JSON.parse(read(dir, 'outputs/eda/eda.json')) as { shortcut: { risk: boolean } };
    assert.equal(eda.shortcut.risk, true);

    const again = cli(dir, ['run', 'report', '--json']);
    assert.match(again.stdout, /"ran":0,"restored":0/);
    assert.match(read(dir, 'outputs/report/report.md'), /\| AUC since HEAD \|[\s\S]*\| a_cnn \|.*\| new \|/, 'nothing was built at HEAD yet');
    git(dir, 'add', 'pipeline.lock');
    git(dir, 'commit', '-q', '-m', 'results');

    writeFileSync(path.join(dir, 'configs/phase1/b_mobile.yaml'), 'extends: ../shared.yaml\nmodel: { arch: mobilenet, width: 6, depth: 1 }\n');
    const edited = cli(dir, ['run', 'report', '--json']);
    const ran = edited.stdout.split('\n').filter((l) => l.includes('"event":"finished"')).map((l) => (JSON.parse(l) as { stage: string }).stage).sort();
    assert.deepEqual(ran, ['aggregate@exp=b_mobile', 'explain@exp=b_mobile', 'report', 'since', 'sufficiency', 'train@exp=b_mobile,fold=0', 'train@exp=b_mobile,fold=1']);
    const report = read(dir, 'outputs/report/report.md');
    assert.match(report, /\| a_cnn \|.*\| unchanged \|/);
    const moved = JSON.parse(read(dir, 'outputs/since.json')) as Record<string, Record<string, { old: number; new: number }>>;
    const auc = moved['outputs/results/b_mobile.json']?.['metrics.auc.mean'];
    if (auc) assert.match(report, new RegExp(`\\| b_mobile \\|.*\\| ${auc.old.toFixed(3)} → ${auc.new.toFixed(3)} \\([+-]\\d\\.\\d{3}\\) \\|`));
    else assert.match(report, /\| b_mobile \|.*\| unchanged \|/, 'the narrower model happened to score the same');
  });

  it('the cpu backend gives identical metrics on rerun', () => {
    const dir = tinyStudy();
    const env = { PIPELINE_TF_BACKEND: 'cpu' };
    assert.equal(cli(dir, ['run', 'train@exp=a_cnn,fold=0'], env).code, 0);
    const first = read(dir, 'outputs/runs/a_cnn/fold0/metrics.json');
    assert.match(first, /"backend": "cpu"/);
    assert.equal(cli(dir, ['run', 'train@exp=a_cnn,fold=0', '--force'], env).code, 0);
    assert.equal(read(dir, 'outputs/runs/a_cnn/fold0/metrics.json'), first);
  });

  // CI installs Mesa's lavapipe (a Vulkan device on the CPU); elsewhere the loader may be missing, or have no usable adapter.
  const noWebGpu = webgpuUnavailable();
  it('the webgpu backend trains a fold, records its adapter, and gives identical metrics on rerun', { skip: noWebGpu && process.env.PIPELINE_REQUIRE_SERVICES !== '1' ? `no WebGPU adapter: ${noWebGpu}` : false }, () => {
    const dir = tinyStudy();
    const env = { PIPELINE_TF_BACKEND: 'webgpu' };
    const run = cli(dir, ['run', 'train@exp=a_cnn,fold=0'], env);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const first = read(dir, 'outputs/runs/a_cnn/fold0/metrics.json');
    assert.match(first, /"backend": "webgpu"/);
    assert.match(first, /"backend_detail": "tfjs-backend-webgpu 4\.\d+\.\d+ on /);
    assert.equal(cli(dir, ['run', 'train@exp=a_cnn,fold=0', '--force'], env).code, 0);
    assert.equal(read(dir, 'outputs/runs/a_cnn/fold0/metrics.json'), first);
  });

  it('webgpu on a GPU the scheduler assigned but Vulkan cannot map fails with the reason', () => {
    const dir = tinyStudy();
    const run = cli(dir, ['run', 'train@exp=a_cnn,fold=0'], { PIPELINE_TF_BACKEND: 'webgpu', CUDA_VISIBLE_DEVICES: 'MIG-4f9e2c1a-0000-0000-0000-000000000000' });
    assert.notEqual(run.code, 0);
    assert.match(run.stdout + run.stderr, /CUDA_VISIBLE_DEVICES=MIG-\S+ assigns a MIG slice, which Vulkan cannot open/);
  });

  const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
  const required = process.env.PIPELINE_REQUIRE_SERVICES === '1';
  it('the report opens in headless Chromium with every chart rendered and no console error', { skip: !chromium && !required ? 'chromium not installed (CI installs it)' : false }, () => {
    const dir = tinyStudy();
    git(dir, 'init', '-q'); // the study's `since` stage compares with HEAD
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'study');
    assert.equal(cli(dir, ['run', 'report']).code, 0);
    const page = `file://${path.join(dir, 'outputs/report/index.html')}`;
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${path.join(dir, '.chromium')}`];
    // Chromium keeps a profile lock folder in the temp folder: inside the project, removed with it.
    const env = { ...process.env, TMPDIR: path.join(dir, '.chromium-tmp') };
    mkdirSync(env.TMPDIR, { recursive: true });
    const dom = spawnSync(chromium!, [...flags, '--enable-logging=stderr', '--v=0', '--dump-dom', page], { encoding: 'utf8', timeout: 60000, env });
    assert.equal(dom.status, 0, dom.stderr);
    const svgs = dom.stdout.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    assert.ok(svgs.length >= 5, `${svgs.length} charts in the rendered DOM`);
    for (const svg of svgs) assert.match(svg, /<path|<line|<rect/, 'every chart has marks');
    assert.doesNotMatch(dom.stderr, /CONSOLE.*(Uncaught|Error)|:ERROR:CONSOLE/i);
    const shot = path.join(dir, 'report-screenshot.png');
    const s = spawnSync(chromium!, [...flags, '--window-size=1200,2400', `--screenshot=${shot}`, page], { encoding: 'utf8', timeout: 60000, env });
    assert.equal(s.status, 0, s.stderr);
    assert.ok(readFileSync(shot).length > 10_000, 'a screenshot with content');
  });
});
