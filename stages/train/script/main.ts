import { runStage } from '../../runtime/stage.js';
import { scriptTrainer } from './index.js';

await runStage(scriptTrainer);
