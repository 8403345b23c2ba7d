import { runStage } from '../runtime/stage.js';
import { synthFaces } from './index.js';

await runStage(synthFaces);
