import { runStage } from '../runtime/stage.js';
import { report } from './index.js';

await runStage(report);
