"""llama-cpp-python's OpenAI-compatible server (`python -m tests.llama_cpp_server ARGS`, the
arguments of `python -m llama_cpp.server`), with ggml's extra CPU buffers off as the embedded
backend has them: on a CPU with AMX its matrix product crashes with the bundled model."""

from __future__ import annotations

import runpy

import llama_cpp

from spark_lsp.models.local import without_extra_buffers

if __name__ == "__main__":
    with without_extra_buffers(llama_cpp):
        runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
