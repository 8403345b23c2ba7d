import { runStage } from '../runtime/stage.js';
import { aggregate } from './index.js';

await runStage(aggregate);
