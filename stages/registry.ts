import type { StageDeclaration } from '../src/protocol/stage-protocol.js';
import { declaration as aggregate } from './aggregate/declaration.js';
import { declaration as baseline } from './baseline/declaration.js';
import { declaration as eda } from './eda/declaration.js';
import { declaration as explain } from './explain/declaration.js';
import { declaration as facecrop } from './facecrop/declaration.js';
import { declaration as images } from './images/declaration.js';
import { declaration as report } from './report/declaration.js';
import { declaration as select } from './select/declaration.js';
import { declaration as split } from './split/declaration.js';
import { declaration as synthFaces } from './synth-faces/declaration.js';
import { declaration as sufficiency } from './sufficiency/declaration.js';
import { declaration as train } from './train/declaration.js';

/** Every built-in stage, by its declaration: a new built-in is a folder in stages/ plus one line here. */
export const builtinDeclarations: readonly StageDeclaration[] = [synthFaces, images, facecrop, eda, split, train, baseline, aggregate, select, sufficiency, explain, report];
