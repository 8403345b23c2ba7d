#!/usr/bin/env bash
# Builds the probe's float64 kernels into dense.wasm beside this script (it imports its memory).
# Needs clang and wasm-ld (Debian: apt-get install clang-14 lld-14). The output is committed, so
# users need no compiler; CI rebuilds it and fails if the bytes differ.
set -euo pipefail
cd "$(dirname "$0")"
CC=${CC:-$(command -v clang-14 || command -v clang)}
"$CC" --target=wasm32 -O3 -msimd128 -nostdlib -ffreestanding -fno-builtin -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--import-memory -Wl,--strip-all -Wl,-z,stack-size=0 -o dense.wasm dense.c
OBJDUMP=${OBJDUMP:-$(command -v llvm-objdump-14 || command -v llvm-objdump)}
# Globals would mean a C stack in memory we don't own.
if "$OBJDUMP" -d dense.wasm | grep -q 'global\.'; then echo "dense.wasm uses a global (a C stack?)" >&2; exit 1; fi
