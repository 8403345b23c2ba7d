import { runStage } from '../runtime/stage.js';
import { eda } from './index.js';

await runStage(eda);
