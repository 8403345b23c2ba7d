import { runStage } from '../runtime/stage.js';
import { facecrop } from './index.js';

await runStage(facecrop);
