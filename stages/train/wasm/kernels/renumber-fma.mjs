// Renumbers clang 14's pre-standard f32x4.fma (0xfd 0xaf 0x01) to relaxed SIMD's
// f32x4.relaxed_madd (0xfd 0x85 0x02) in a wasm binary, in place (see simd.h). The byte pattern
// could also occur inside an immediate, so the number of matches in the code section must equal
// the number of fma instructions llvm-objdump disassembles, or nothing is written.
// Usage: node renumber-fma.mjs file.wasm expected-count
import { readFileSync, writeFileSync } from 'node:fs';

const [file, expectedText] = process.argv.slice(2);
const binary = readFileSync(file);
const CODE = 10;
let i = 8;
let code;
while (i < binary.length) {
  const id = binary[i++];
  let size = 0;
  for (let shift = 0; ; shift += 7) {
    const byte = binary[i++];
    size += (byte & 0x7f) * 2 ** shift;
    if (!(byte & 0x80)) break;
  }
  if (id === CODE) code = [i, i + size];
  i += size;
}
if (!code) throw new Error(`${file}: no code section`);
const matches = [];
for (let at = binary.indexOf(Buffer.from([0xfd, 0xaf, 0x01]), code[0]); at !== -1 && at < code[1]; at = binary.indexOf(Buffer.from([0xfd, 0xaf, 0x01]), at + 1)) matches.push(at);
if (matches.length !== Number(expectedText)) throw new Error(`${file}: ${matches.length} byte matches for ${expectedText} f32x4.fma instructions; not patching`);
for (const at of matches) binary.set([0x85, 0x02], at + 1);
writeFileSync(file, binary);
console.log(`${file}: ${matches.length} f32x4.fma -> f32x4.relaxed_madd`);
