"""Computation graphs as pictures: draw_dot, to_svg, the backprop page, the Jupyter display.

    draw_dot(root)        the graph that made root, as Graphviz DOT (a ValueGraph): a record
                          per Value (label, data, grad), an oval per op; GraphTooLargeError
                          past max_nodes (DEFAULT_MAX_NODES)
    to_svg(x, path=)      a Value's or a drawn graph's SVG (render.render_svg), written atomically
    to_html(root, path)   a page that steps through root's forward and backward pass: that
                          SVG, with the steps of backprop_steps, put together by pages
    show_backprop(root)   the same page inline in Jupyter (a pages.PageView)
    value_mimebundle      Jupyter's view of a Value (ValueGraph has its own): the picture (an
                          <img> that fits the cell, and SVG) and text, or text saying what to
                          install, never a traceback

Kinds of Value, told apart by colour and border:

    parameter     green, bold border   leaves passed as `parameters=` (what training changes)
    input         blue                 other labelled leaves (the MLP's x1, x2)
    constant      grey, dashed         unlabelled leaves: numbers an op wrapped (targets, 2, 1/n)
    intermediate  white                results of ops
    output        orange, bold border  the root

The caller names the parameters: the engine has no requires_grad flag, and the MLP
labels weights and inputs alike. Turning DOT text into SVG is render.py's job. Imported
on demand only (never by `import tinygrad_xor`), so graphviz loads when something is drawn.
"""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import graphviz

from tinygrad_xor import pages, render
from tinygrad_xor.atomic import check_target, write_atomically
from tinygrad_xor.backprop_steps import record_steps
from tinygrad_xor.checks import choice, whole_number
from tinygrad_xor.engine import Value, topological_order

__all__ = [
    "GraphTooLargeError",
    "ValueGraph",
    "draw_dot",
    "to_svg",
    "svg_target",
    "to_html",
    "show_backprop",
    "value_mimebundle",
    "DEFAULT_MAX_NODES",
    "MOST_NODES",
]

# Layout time grows far faster than the graph (docs/reliability.md has the times):
# past a few hundred Values a picture takes seconds and is a thicket of crossing edges.
DEFAULT_MAX_NODES = 400
# The most the command line draws: tens of seconds of layout.
MOST_NODES = 1000

_RANKDIRS = ("auto", "LR", "TB", "RL", "BT")

# How much narrower a left-to-right picture must be for "auto" to choose it: a level of a
# top-to-bottom graph is a row of boxes, while a left-to-right one adds an op and two gaps
# to each box (about 1.5 boxes wide per level).
_LEFT_TO_RIGHT_COST = 1.5

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

# The legend under a graph, in lines of at most this many characters, so that it is never
# what makes a small graph wide.
_LEGEND_WIDTH = 48


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


class ValueGraph(graphviz.Digraph):  # type: ignore[misc]  # graphviz ships no type hints
    """A graphviz.Digraph of Values that renders itself, with or without a system Graphviz.

    All of graphviz.Digraph works (`.source`, `.attr`, `.node`, ...; `.render` and
    `.pipe` need system Graphviz). What this adds: `to_svg()` with the renderers of
    render.py, laid out once for to_svg and to_html alike, and an inline SVG display
    in Jupyter.
    """

    # What Jupyter's text view shows; draw_dot sets it to a summary of the graph, and
    # the Value it drew and whether it numbered the Values (to_html needs both).
    # (Class attributes so graphviz's copy(), which rebuilds from its own
    # constructor arguments, still gives a working object.)
    summary: str = "computation graph"
    root: Value | None = None
    numbered: bool = False
    # The last layout: (renderer, DOT source) and its SVG.
    _laid_out: tuple[tuple[str, str], str] | None = None

    def to_svg(self, *, renderer: str = "auto") -> str:
        """The SVG text of this graph (see render.render_svg for the renderers), laid
        out again only when the graph or the renderer changed."""
        key = (renderer, self.source)
        if self._laid_out is None or self._laid_out[0] != key:
            self._laid_out = (key, render.render_svg(self.source, renderer=renderer))
        return self._laid_out[1]

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
    rankdir: str = "auto",
    show_order: bool = False,
    show_local_grads: bool = False,
    digits: int = 4,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    legend: bool = True,
    grads: Mapping[Value, float] | None = None,
) -> ValueGraph:
    """The graph that made `root`, as a graphviz.Digraph (a ValueGraph).

    parameters        leaves to draw as parameters, e.g. model.parameters()
    rankdir           "auto" (the narrower of "TB" and "LR" for this graph), "TB" (inputs
                      at the top), "LR" (inputs on the left), "RL" or "BT"
    show_order        number each Value in the order backward() visits it: #1 is root
    show_local_grads  write d(output)/d(input) on each edge into an op
    digits            significant digits of data, grad and local derivatives
    max_nodes         most Values to draw (None: no limit); past it, GraphTooLargeError
    legend            a line under the graph saying what the colours mean
    grads             the grad to show for each Value in place of its .grad (to_html's)

    >>> a, b = Value(2.0, "a"), Value(-3.0, "b")
    >>> y = a * b
    >>> y.backward()
    >>> graph = draw_dot(y)
    >>> 'label="a | data 2 | grad -3"' in graph.source
    True
    """
    if not isinstance(root, Value):
        raise TypeError(
            f"draw_dot(root): expected a Value, got {type(root).__name__}. "
            "Pass the Value whose graph you want, e.g. draw_dot(loss)."
        )
    choice("rankdir", rankdir, _RANKDIRS)
    digits = whole_number("digits", digits, at_most=17)
    if max_nodes is not None:
        max_nodes = whole_number("max_nodes", max_nodes)  # or None: no limit
    parameter_set = _parameter_set(parameters)

    order = topological_order(root)  # inputs before outputs
    if max_nodes is not None and len(order) > max_nodes:
        raise GraphTooLargeError(len(order), max_nodes)

    names = {node: f"v{index}" for index, node in enumerate(order)}
    # backward() walks reversed(order): position 1 there is the root.
    visit_number = {node: position for position, node in enumerate(reversed(order), start=1)}
    if rankdir == "auto":
        rankdir = _narrower_direction(order)

    graph = ValueGraph(
        # Gaps in inches, smaller than Graphviz's 0.25 and 0.5: the pictures fit a notebook cell.
        graph_attr={"rankdir": rankdir, "fontname": _FONT, "nodesep": "0.15", "ranksep": "0.25"},
        node_attr={"fontname": _FONT, "fontsize": "12", "height": "0.3"},
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
        grad = node.grad if grads is None else grads[node]
        fields.append(f"grad {_number(grad, digits)}")
        # Fields run across the ranks: side by side in a top-to-bottom graph (a short box),
        # stacked in a left-to-right one (a narrow box), so each rank stays thin.
        fill, style = _KIND_STYLE[kind]
        graph.node(
            names[node], label=" | ".join(fields), shape="record", style=style, fillcolor=fill
        )

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
        lines = textwrap.wrap("; ".join(parts), _LEGEND_WIDTH)
        legend_text = "".join(_escape_plain(line) + "\\n" for line in lines)  # DOT's line break
        graph.attr(label=legend_text, labelloc="b", fontsize="11")

    graph.summary = _summary(root, order, parameter_set)
    graph.root, graph.numbered = root, show_order
    return graph


def _narrower_direction(order: list[Value]) -> str:
    """Top to bottom ("TB"), unless the graph is so much broader than deep that left to
    right ("LR") draws it narrower.

    Levels as Graphviz ranks them: an op's result one below its lowest input, a leaf just
    above the first op that uses it. Breadth is the most Values on one level.
    """
    level: dict[Value, int] = {}
    for node in order:  # inputs before outputs
        level[node] = 1 + max((level[parent] for parent in node.parents), default=-1)
    used_at: dict[Value, int] = {}
    for node in order:
        for parent in node.parents:
            used_at[parent] = min(used_at.get(parent, level[node]), level[node])
    for node in order:
        if node.is_leaf and node in used_at:
            level[node] = used_at[node] - 1
    counts: dict[int, int] = {}
    for node_level in level.values():
        counts[node_level] = counts.get(node_level, 0) + 1
    breadth, depth = max(counts.values()), len(counts)
    return "LR" if breadth > _LEFT_TO_RIGHT_COST * depth else "TB"


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
    """x with `digits` significant digits: 0.6140, -1.2e-05, 3, nan, inf; 0 for -0.0."""
    return f"{x + 0.0:.{digits}g}"  # -0.0 + 0.0 is 0.0: a learner reads "-0" as a bug


def _shown(text: str) -> str:
    """`text` with each character that cannot be seen or drawn (control and format
    characters, lone surrogates, separators but the space) as its Python escape: \\x00."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _shown_in(data: Any) -> Any:
    """The page's steps with every text _shown, as the picture shows the labels."""
    if isinstance(data, str):
        return _shown(data)
    if isinstance(data, list):
        return [_shown_in(item) for item in data]
    if isinstance(data, dict):
        return {key: _shown_in(value) for key, value in data.items()}
    return data


def _escape_plain(text: str) -> str:
    # DOT reads backslashes as escapes (\n, \l, ...), Graphviz "&...;" as an HTML entity
    # and the graphviz package "<...>" as an HTML-like label: all made text, as written.
    escaped: str = graphviz.nohtml(_shown(text).replace("\\", "\\\\").replace("&", "&amp;"))
    return escaped


def _escape_record(text: str) -> str:
    # In a record label {}|<> structure the record (a backslash makes each text), and
    # Graphviz trims spaces around a field, even escaped ones: no-break spaces stay.
    escaped = _escape_plain(text).replace(" ", "\xa0")
    for char in "{}|<>":
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def _summary(root: Value, order: list[Value], parameters: set[Value]) -> str:
    counts = {kind: 0 for kind in _KIND_STYLE}
    for node in order:
        counts[_kind(node, root, parameters)] += 1
    ops = len(order) - counts["parameter"] - counts["input"] - counts["constant"]
    name = _shown(root.label) or "root"
    return (
        f"computation graph of {name} = {_number(root.data, 6)} "
        f"(grad {_number(root.grad, 6)}): "
        f"{len(order)} Values ({counts['parameter']} parameters, {counts['input']} inputs, "
        f"{counts['constant']} constants, {ops} op results)"
    )


def to_svg(
    source: Value | graphviz.Digraph, *, path: str | Path | None = None, renderer: str = "auto"
) -> str:
    """SVG text of a Value's graph (drawn with draw_dot's defaults) or of a drawn graph.

    With `path`, also writes the SVG there (creating missing folders) in one call,
    atomically: a failed write leaves the file that was there as it was.

    >>> svg = to_svg(draw_dot(loss, show_order=True), path="out/graph.svg")  # doctest: +SKIP
    """
    if isinstance(source, Value):
        source = draw_dot(source)
    elif not isinstance(source, graphviz.Digraph):
        raise TypeError(
            f"to_svg: expected a Value or the graph draw_dot returned, got {type(source).__name__}."
        )
    target = None if path is None else svg_target(path)  # refused before the layout, if bad
    if isinstance(source, ValueGraph):
        svg = source.to_svg(renderer=renderer)
    else:
        svg = render.render_svg(source.source, renderer=renderer)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, svg.encode("utf-8"))
    return svg


def svg_target(path: str | os.PathLike[str]) -> Path:
    """The file an SVG goes to: a name ending in .svg, where a file can be written."""
    target = check_target(path, make_folders=True, example="out/graph.svg")
    if Path(path).suffix.lower() != ".svg":
        raise ValueError(f"{os.fspath(path)}: the name of an SVG file ends in .svg.")
    return target


# -- stepping through backprop --------------------------------------------------------------


def to_html(
    root: Value | ValueGraph,
    path: str | Path | None = None,
    *,
    parameters: Iterable[Value] | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    renderer: str = "auto",
) -> str:
    """One self-contained HTML page that steps through root's forward and backward pass.

    The graph is draw_dot's (show_order=True), rendered as to_svg renders it; the steps are
    backprop_steps.record_steps(root): each Value computed in topological order, then
    visited in backward()'s order with its chain-rule arithmetic, numbers to 4 significant
    digits as in the SVG. root's Values keep their data and grad, and backward() need not
    have run. With `path`, also writes the page there atomically (creating missing
    folders); the path is checked before any work.

    root may also be a graph drawn with draw_dot(root, show_order=True, ...): the page
    then shows that picture, laid out once for to_svg and the page alike (its
    parameters and max_nodes were draw_dot's).

    >>> page = to_html(loss, "out/backprop.html", parameters=model.parameters())  # doctest: +SKIP
    """
    return _backprop_page("to_html", root, path, parameters, max_nodes, renderer)[0]


def show_backprop(
    root: Value | ValueGraph,
    *,
    parameters: Iterable[Value] | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    renderer: str = "auto",
) -> pages.PageView:
    """to_html's page, shown inline by Jupyter (JupyterLab, Notebook, an nbconvert export).

    >>> show_backprop(loss)  # the last line of a cell  # doctest: +SKIP
    """
    page, svg = _backprop_page("show_backprop", root, None, parameters, max_nodes, renderer)
    return pages.PageView(page, height=pages.frame_height(svg), picture=svg)


def _backprop_page(
    caller: str,
    source: Value | ValueGraph,
    path: str | Path | None,
    parameters: Iterable[Value] | None,
    max_nodes: int | None,
    renderer: str,
) -> tuple[str, str]:
    """The page and its SVG; written to `path` when one is given."""
    if isinstance(source, ValueGraph):
        root = _numbered_root(caller, source, parameters)
    elif isinstance(source, Value):
        root = source
    else:
        raise TypeError(
            f"{caller}(root): expected a Value, got {type(source).__name__}. Pass the Value "
            f"whose backward pass you want to step through, e.g. {caller}(loss)."
        )
    target = (
        None if path is None else check_target(path, make_folders=True, example="out/steps.html")
    )
    if isinstance(source, ValueGraph):
        walk, drawn = record_steps(root), source
    else:  # drawn here, numbered, with the grads the steps end at
        count = len(topological_order(root))
        if max_nodes is not None and count > whole_number("max_nodes", max_nodes):
            raise GraphTooLargeError(count, max_nodes)
        walk = record_steps(root)
        drawn = draw_dot(
            root,
            parameters=() if parameters is None else parameters,
            show_order=True,
            max_nodes=None,
            grads=dict(zip(walk.values, walk.grads, strict=True)),
        )
    svg = drawn.to_svg(renderer=renderer)
    title = f"Backprop, step by step: {_shown(root.label) or 'root'} = {_number(root.data, 4)}"
    page = pages.backprop_page(svg, _shown_in(walk.describe(digits=4)), title=title)
    if target is not None:
        write_atomically(target, page.encode("utf-8"), make_folders=True)
    return page, svg


def _numbered_root(caller: str, drawn: ValueGraph, parameters: Iterable[Value] | None) -> Value:
    """The Value a graph for the page was drawn from: the steps name Values by number."""
    if drawn.root is None or not drawn.numbered:
        raise ValueError(
            f"{caller}(graph): the page's steps name Values by their numbers (#1, #2, ...), "
            "so the graph must be drawn with them: draw_dot(root, show_order=True), or pass "
            "the Value itself."
        )
    if parameters is not None:
        raise TypeError(
            f"{caller}(graph, parameters=...): a drawn graph has its parameters already; give "
            "them to draw_dot, or pass the Value itself."
        )
    return drawn.root


# -- Jupyter ------------------------------------------------------------------------------


def _mimebundle(
    graph: graphviz.Digraph,
    text: str,
    include: Iterable[str] | None,
    exclude: Iterable[str] | None,
) -> dict[str, str]:
    """Jupyter's view: the picture when it can be drawn and is wanted, and always text.

    The picture twice: as HTML (pages.picture_html: never wider than the cell, and kept in
    an untrusted notebook), which JupyterLab, Notebook 7, VS Code and nbconvert's HTML all
    prefer, and as SVG for what does not show HTML (nbconvert's LaTeX and PDF).
    """
    pictures = {"text/html", "image/svg+xml"}
    wanted = set(include) if include is not None else {*pictures, "text/plain"}
    wanted -= set(exclude or ())
    bundle: dict[str, str] = {}
    if wanted & pictures:
        try:
            svg = render.render_svg(graph.source)
        except render.NoRendererError:
            text = f"{text}\n{render.INSTALL_HINT}"
        except render.GraphRenderError as error:
            text = f"{text}\n(not drawn: {error})"
        else:
            if "text/html" in wanted:
                bundle["text/html"] = pages.picture_html(svg, alt=text)
            if "image/svg+xml" in wanted:
                bundle["image/svg+xml"] = svg
    if "text/plain" in wanted:
        bundle["text/plain"] = text
    return bundle


def value_mimebundle(
    value: Value, include: Iterable[str] | None = None, exclude: Iterable[str] | None = None
) -> dict[str, str]:
    """What Jupyter shows for a Value: its graph (as HTML and as SVG), and its repr as text.

    For Value._repr_mimebundle_. A graph over DEFAULT_MAX_NODES is not drawn; the
    text then says how to draw it.
    """
    try:
        graph = draw_dot(value)
    except GraphTooLargeError as error:
        return {"text/plain": f"{value!r}\n(graph not drawn: {error})"}
    return _mimebundle(graph, repr(value), include, exclude)
