import { runStage } from '../runtime/stage.js';
import { train } from './index.js';

await runStage(train);
