import type { NPM_BACKBONES } from '../declaration.js';
import type { Backbone } from '../backbone.js';
import { faceApiFaceRecognition } from './face-api-face-recognition.js';
import { nsfwjsMobilenetV2 } from './nsfwjs-mobilenet-v2.js';

/** Every backbone that ships in an npm package, by its `model.weights` name (`npm:` dropped): a new one is a file here plus one line. */
export const npmBackbones: Record<keyof typeof NPM_BACKBONES, Backbone> = {
  'nsfwjs/mobilenet_v2': nsfwjsMobilenetV2,
  '@vladmandic/face-api/face_recognition': faceApiFaceRecognition,
};
