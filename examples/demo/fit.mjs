// Fits y = a x + b by gradient descent with the experiment's learning rate and epochs.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
const [data, out, lrText, epochsText] = process.argv.slice(2);
const points = readFileSync(data, 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
let a = 0, b = 0;
const lr = Number(lrText), epochs = Number(epochsText);
const history = [];
for (let epoch = 0; epoch < epochs; epoch++) {
  let ga = 0, gb = 0, loss = 0;
  for (const [x, y] of points) {
    const err = a * x + b - y;
    ga += err * x; gb += err; loss += err * err;
  }
  a -= (lr * ga) / points.length;
  b -= (lr * gb) / points.length;
  history.push(loss / points.length);
  if (epoch % Math.max(1, Math.floor(epochs / 5)) === 0) console.log(`::progress ${JSON.stringify({ epoch: `${epoch + 1}/${epochs}` })}`);
}
mkdirSync(path.dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify({ a, b, mse: history[history.length - 1], lr, epochs }, null, 2) + '\n');
