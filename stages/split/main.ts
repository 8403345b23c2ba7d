import { runStage } from '../runtime/stage.js';
import { split } from './index.js';

await runStage(split);
