import { runStage } from '../runtime/stage.js';
import { sufficiency } from './index.js';

await runStage(sufficiency);
