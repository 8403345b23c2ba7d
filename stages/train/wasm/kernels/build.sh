#!/usr/bin/env bash
# Builds the training kernels into two wasm modules beside this script: kernels.wasm imports the
# single-threaded backend's memory, kernels-threads.wasm the threaded build's shared memory.
# Needs clang and wasm-ld (Debian: apt-get install clang-14 lld-14). The outputs are committed,
# so users need no compiler; CI rebuilds them and fails if the bytes differ.
set -euo pipefail
cd "$(dirname "$0")"
CC=${CC:-$(command -v clang-14 || command -v clang)}
flags=(--target=wasm32 -O3 -msimd128 -nostdlib -ffreestanding -fno-builtin
  -Wall -Wextra -Werror -Wno-unused-parameter
  -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all -Wl,-z,stack-size=0)
"$CC" "${flags[@]}" -o kernels.wasm ./*.c
"$CC" "${flags[@]}" -matomics -mbulk-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
  -o kernels-threads.wasm ./*.c
