import type { StageDeclaration } from '../../src/protocol/stage-protocol.js';

/** What the engine checks a `uses: images` stage against (light: no stage code is loaded to plan a run). */
export const declaration: StageDeclaration = {
  name: 'images',
  version: '3',
  description: "the researcher's own images (a folder tree <class>/[<source>/]file or a CSV path,label[,source,group]) as a dataset with per-image properties",
  entry: 'images/main.js',
  inputs: {
    images: { kind: 'path', description: 'a folder <root>/<class>/[<source>/]*.jpg, or a CSV path,label[,source,group] (paths relative to it)' },
    files: { kind: 'dir', required: false, description: "with a CSV: the folder its images are in, so that an edited image (not only an edited CSV) reruns the stage" },
  },
  outputs: {
    dataset: { kind: 'dir', description: 'manifest.csv (one row per usable image, with its properties), dataset.json (classes, exclusions, duplicates), excluded.csv' },
  },
  options: {
    type: 'object',
    additionalProperties: false,
    dependencies: { brisque_model: ['brisque_range'], brisque_range: ['brisque_model'] },
    properties: {
      positive: { type: 'string', minLength: 1, description: 'the positive class of a binary study (label 1)' },
      task: { enum: ['auto', 'binary', 'multiclass', 'regression'], description: 'auto: binary for two classes, regression for numeric labels, else multiclass' },
      classes: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'the only labels a CSV may use (a typo is then an error at its line)' },
      group_pattern: { type: 'string', minLength: 1, description: 'a regex on the file name; its first group (or whole match) is the group no fold may split' },
      strict: { type: 'boolean', description: 'an unreadable image is an error instead of being excluded and listed' },
      brisque_model: { type: 'string', minLength: 1, description: "OpenCV's BRISQUE model (brisque_model_live.yml from opencv_contrib's quality samples, or any EPS_SVR cv2.ml.SVM saved): adds the brisque property (0 best, 100 worst), as cv2.quality.QualityBRISQUE computes it" },
      brisque_range: { type: 'string', minLength: 1, description: "OpenCV's BRISQUE feature range (brisque_range_live.yml), with brisque_model" },
      exclude: {
        type: 'object',
        description: 'excludes images by their properties, e.g. { sharpness: "< 20", noise: "> 12" }: listed in excluded.csv with the rule, counted per rule, class and source in dataset.json and the report',
        additionalProperties: false,
        properties: Object.fromEntries(['width', 'height', 'aspect', 'luminance', 'contrast', 'sharpness', 'jpeg_quality', 'noise', 'high_frequency', 'blockiness', 'brisque'].map((p) => [p, { type: 'string', pattern: '^\\s*(<=|>=|==|!=|<|>)\\s*-?\\d', description: `e.g. "< 20": a comparison (< <= > >= == !=) and a number` }])),
      },
    },
  },
  optionPaths: { brisque_model: "OpenCV's BRISQUE model", brisque_range: "OpenCV's BRISQUE range" },
  params: { type: 'object' },
};
