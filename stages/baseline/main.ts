import { runStage } from '../runtime/stage.js';
import { baseline } from './index.js';

await runStage(baseline);
