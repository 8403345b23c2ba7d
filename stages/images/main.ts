import { runStage } from '../runtime/stage.js';
import { images } from './index.js';

await runStage(images);
