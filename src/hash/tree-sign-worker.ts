import { parentPort, workerData } from 'node:worker_threads';
import { signTree } from './tree-signature.js';

/** Signs the subtrees `names` of `abs` (see treeSignatureInParallel): [inner, digest, newest] per folder, in walk order. */
const { abs, names } = workerData as { abs: string; names: string[] };
const signed: [string, string, number][] = [];
const sink = { folder: (inner: string, s: { digest: string; newest: number }) => signed.push([inner, s.digest, s.newest]) };
for (const name of names) signTree(`${abs}/${name}`, sink, name);
parentPort!.postMessage(signed);
