// Deterministic demo data: y = 3x - 2 + noise, from a seeded generator (mulberry32).
import { mkdirSync, writeFileSync } from 'node:fs';
const [out, seedText, nText] = process.argv.slice(2);
let seed = Number(seedText) >>> 0;
const random = () => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const rows = ['x,y'];
for (let i = 0; i < Number(nText); i++) {
  const x = random() * 10;
  rows.push(`${x.toFixed(6)},${(3 * x - 2 + (random() - 0.5) * 2).toFixed(6)}`);
}
mkdirSync(out.replace(/\/[^/]+$/, ''), { recursive: true });
writeFileSync(out, rows.join('\n') + '\n');
