#!/usr/bin/env bash
# Builds the training kernels into two wasm modules beside this script: kernels.wasm imports the
# single-threaded backend's memory, kernels-threads.wasm the threaded build's shared memory.
# Needs clang, wasm-ld and llvm-objdump (Debian: apt-get install clang-14 lld-14). The outputs are committed,
# so users need no compiler; CI rebuilds them and fails if the bytes differ.
set -euo pipefail
cd "$(dirname "$0")"
CC=${CC:-$(command -v clang-14 || command -v clang)}
flags=(--target=wasm32 -O3 -msimd128 -mrelaxed-simd -nostdlib -ffreestanding -fno-builtin
  -Wall -Wextra -Werror -Wno-unused-parameter
  -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all -Wl,-z,stack-size=0)
"$CC" "${flags[@]}" -o kernels.wasm ./*.c
"$CC" "${flags[@]}" -matomics -mbulk-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
  -o kernels-threads.wasm ./*.c
OBJDUMP=${OBJDUMP:-$(command -v llvm-objdump-14 || command -v llvm-objdump)}
for f in kernels.wasm kernels-threads.wasm; do
  # Globals would mean a C stack in memory we don't own (see conv.c's header).
  if "$OBJDUMP" -d "$f" | grep -q 'global\.'; then echo "$f uses a global (a C stack?)" >&2; exit 1; fi
  node renumber-fma.mjs "$f" "$("$OBJDUMP" -d "$f" | grep -c 'f32x4.fma')"
done
