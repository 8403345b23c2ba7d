import { runStage } from '../runtime/stage.js';
import { explain } from './index.js';

await runStage(explain);
