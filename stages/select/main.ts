import { runStage } from '../runtime/stage.js';
import { select } from './index.js';

await runStage(select);
