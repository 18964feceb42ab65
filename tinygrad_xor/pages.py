"""Self-contained HTML pages: the backprop stepper and the training view, CSS and script inline.

    backprop_page(svg, steps, title=)   a graph's SVG and its steps (Walkthrough.describe())
    training_page(view, title=)         a training run's snapshots (TrainingSnapshots.describe())
    PageView(page, height=)             a page shown inline by Jupyter, in an <iframe srcdoc>
    frame_height(svg)                   how tall a PageView of a backprop page should be

A page loads nothing: its style sheet, script and data are inside the file, so it opens
from a file:// URL with no server and no network. The HTML, CSS and JavaScript are files
of the package (tinygrad_xor/web/), so they read, diff and highlight as what they are;
this module fills their {{SLOT}}s. Text and JSON-able data in, text out.
"""

from __future__ import annotations

import html
import importlib.resources
import json
import re
from typing import Any

from tinygrad_xor.checks import whole_number

__all__ = ["backprop_page", "training_page", "PageView", "frame_height"]

_SLOT = re.compile(r"\{\{([A-Z]+)\}\}")

# The backprop page's height without its graph, and the most its graph box shows before it
# scrolls (web/backprop.css: .graph max-height), in CSS pixels.
_PAGE_CHROME = 290
_GRAPH_BOX = 560


def _asset(name: str) -> str:
    return (importlib.resources.files("tinygrad_xor") / "web" / name).read_text(encoding="utf-8")


def _fill(template: str, slots: dict[str, str]) -> str:
    # One pass: the text put into a slot is never searched for slots itself.
    return _SLOT.sub(lambda match: slots[match.group(1)], _asset(template))


def _script_json(data: Any) -> str:
    """JSON to put inside <script>: "<" is written \\u003c, so no "</script>" can end it."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c")


def _svg_element(svg: str) -> str:
    """The <svg> element of an SVG file: without its XML declaration, doctype and comments."""
    start = svg.find("<svg")
    if start < 0:
        raise ValueError(
            f"expected SVG text (render.render_svg's), got text with no <svg element: {svg[:60]!r}"
        )
    return svg[start:]


def backprop_page(svg: str, steps: dict[str, Any], *, title: str) -> str:
    """One HTML page that steps through `steps` on the graph drawn in `svg`.

    svg    draw_dot(root, show_order=True) rendered: its nodes are titled v0, v1, ... in
           topological order, each op v<i>_op, as the steps number them
    steps  record_steps(root).describe(): the words and numbers of every step
    """
    css = _asset("page.css") + _asset("backprop.css")
    slots = {
        "TITLE": html.escape(title),
        "CSS": css,
        "SVG": _svg_element(svg),
        "DATA": _script_json(steps),
        "SCRIPT": _asset("controls.js") + _asset("backprop.js"),
    }
    return _fill("backprop.html", slots)


def training_page(view: dict[str, Any], *, title: str) -> str:
    """One HTML page with a slider over the snapshots in `view` (TrainingSnapshots.describe())."""
    slots = {
        "TITLE": html.escape(title),
        "CSS": _asset("page.css") + _asset("training.css"),
        "DATA": _script_json(view),
        "SCRIPT": _asset("controls.js") + _asset("training.js"),
    }
    return _fill("training.html", slots)


def frame_height(svg: str) -> int:
    """Pixels for a PageView of the backprop page of `svg`: its graph box and the rest."""
    match = re.search(r'<svg[^>]*\sheight="([\d.]+)pt"', svg)
    graph = float(match.group(1)) * 4 / 3 if match else _GRAPH_BOX  # 1 pt = 4/3 CSS px
    return _PAGE_CHROME + round(min(graph + 24, _GRAPH_BOX))


class PageView:
    """A page Jupyter shows inline: in an <iframe srcdoc>, so its script runs and its ids and
    styles stay inside, in JupyterLab, the classic Notebook and a static nbconvert export.

    page    the whole HTML page (also what to_html writes to a file)
    height  the frame's height in pixels; the page's script sets it to fit, where allowed
    """

    def __init__(self, page: str, *, height: int = 640) -> None:
        if not isinstance(page, str):
            raise TypeError(f"PageView(page): expected the page as str, got {type(page).__name__}.")
        self.page = page
        self.height = whole_number("height", height)

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.page, quote=True)}" '
            f'style="width: 100%; height: {self.height}px; border: 0" '
            'title="tinygrad_xor page"></iframe>'
        )

    def __repr__(self) -> str:
        return f"PageView({len(self.page)} characters of HTML, height={self.height})"
