"""Self-contained HTML pages: the backprop stepper and the training view, CSS and script inline.

    backprop_page(svg, steps, title=)   a graph's SVG and its steps (Walkthrough.describe())
    training_page(view, title=)         a training run's snapshots (TrainingSnapshots.describe())
    PageView(page, height=, picture=)   a page shown inline by Jupyter, in an <iframe srcdoc>;
                                        where Jupyter removes the frame, a picture and how to
                                        trust the notebook
    frame_height(svg)                   how tall a PageView of a backprop page should be
    picture_html(svg, alt=)             an SVG as an <img> for a notebook cell: never wider
                                        than the cell, and it survives an untrusted notebook
    svg_size(svg)                       an SVG's width and height in points

A page loads nothing: its style sheet, script and data are inside the file, so it opens
from a file:// URL with no server and no network. The HTML, CSS and JavaScript are files
of the package (tinygrad_xor/web/), so they read, diff and highlight as what they are;
this module fills their {{SLOT}}s. Text and JSON-able data in, text out.
"""

from __future__ import annotations

import base64
import html
import importlib.resources
import json
import re
import secrets
from typing import Any

from tinygrad_xor.checks import whole_number

__all__ = ["backprop_page", "training_page", "PageView", "frame_height", "picture_html", "svg_size"]

_SLOT = re.compile(r"\{\{([A-Z]+)\}\}")
_SVG_SIZE = re.compile(r'<svg[^>]*?\swidth="([\d.]+)pt"[^>]*?\sheight="([\d.]+)pt"')

# The backprop page's height without its graph, and the most its graph box shows before it
# scrolls (web/backprop.css: .graph max-height), in CSS pixels.
_PAGE_CHROME = 292
_GRAPH_BOX = 560

# A picture wider than this (CSS pixels) is shrunk below 3/4 in a cell 750 px wide
# (JupyterLab beside its file browser, VS Code): its 12 px text falls under 9 px, so it
# offers its full size too.
_SHRINKS_UNREADABLY = 1000

# Where Jupyter has removed a PageView's frame: what happened, and what to do about it.
_UNTRUSTED_NOTE = (
    "<b>This notebook is not trusted, so Jupyter removed the page that steps through "
    "backprop.</b> To step through it, trust the notebook: in JupyterLab and Notebook 7, "
    "open the command palette (Ctrl+Shift+C) and run <b>Trust Notebook</b>; in the "
    "classic Notebook, <b>File &gt; Trust Notebook</b>. Or run this cell again."
)


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


def svg_size(svg: str) -> tuple[float, float]:
    """The width and height of an SVG that Graphviz wrote, in points (its width="..pt")."""
    match = _SVG_SIZE.search(svg)
    if match is None:
        raise ValueError(
            f"expected SVG text with its size in points (render.render_svg's), got {svg[:60]!r}"
        )
    return float(match.group(1)), float(match.group(2))


def frame_height(svg: str) -> int:
    """Pixels for a PageView of the backprop page of `svg`: its graph box and the rest.

    The page draws a point of the SVG as one CSS pixel (at its zoom of 100%)."""
    graph = svg_size(svg)[1] if _SVG_SIZE.search(svg) else _GRAPH_BOX
    return _PAGE_CHROME + round(min(graph + 24, _GRAPH_BOX))


def picture_html(svg: str, *, alt: str) -> str:
    """HTML that shows `svg` in a notebook cell: an <img> at most the cell's width.

    A point of the SVG is one CSS pixel, as on the backprop page (Graphviz's 12 pt text is
    12 px). The SVG is the <img>'s data: URL, which a notebook's untrusted outputs keep (an
    SVG output of its own is dropped there). A picture wider than _SHRINKS_UNREADABLY shows
    whole, and under it a <details> opens it at full size, scrolling sideways.
    """
    width, height = (round(size) for size in svg_size(svg))
    source = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")

    def image(max_width: str, css_class: str = "") -> str:
        # jp-mod-unconfined: JupyterLab's own class for "not shrunk to the cell"
        extra = f' class="{css_class}"' if css_class else ""
        return (
            f'<img src="{source}" alt="{html.escape(alt, quote=True)}" width="{width}" '
            f'height="{height}" style="max-width: {max_width}; height: auto"{extra}>'
        )

    if width <= _SHRINKS_UNREADABLY:
        return image("100%")
    return (
        image("100%")
        + f"<details><summary>Shrunk to fit: click for full size ({width:,} &times; {height:,} px, "
        + 'scrolls sideways)</summary><div style="overflow-x: auto">'
        + image("none", "jp-mod-unconfined")
        + "</div></details>"
    )


class PageView:
    """A page Jupyter shows inline: in an <iframe srcdoc>, so its script runs and its ids and
    styles stay inside, in JupyterLab, Notebook 7, VS Code and a static nbconvert export.

    page     the whole HTML page (also what to_html writes to a file)
    height   the frame's height in pixels at first; the page's script fits it to the page
    picture  an SVG to show where Jupyter removes the frame (an untrusted notebook), under a
             line that says how to trust the notebook; the line alone when None
    """

    def __init__(self, page: str, *, height: int = 640, picture: str | None = None) -> None:
        if not isinstance(page, str):
            raise TypeError(f"PageView(page): expected the page as str, got {type(page).__name__}.")
        if picture is not None:
            svg_size(picture)  # an SVG Graphviz wrote, or a ValueError now rather than later
        self.page = page
        self.height = whole_number("height", height)
        self.picture = picture

    def _repr_html_(self) -> str:
        # An untrusted notebook's sanitizer drops the <style> and the <iframe> and keeps the
        # rest: there the note and the picture show. Trusted, the style hides them. The class
        # is new each time, so a trusted output never hides an untrusted one beside it.
        hidden = f"tinygrad-xor-untrusted-{secrets.token_hex(6)}"
        fallback = f'<p style="color: #9a3412">{_UNTRUSTED_NOTE}</p>'
        if self.picture is not None:
            fallback += "<p>Meanwhile, the graph with every step done:</p>" + picture_html(
                self.picture, alt="the graph with every step done"
            )
        return (
            f"<style>.{hidden} {{ display: none; }}</style>"
            f'<div class="{hidden}">{fallback}</div>'
            f'<iframe srcdoc="{html.escape(self.page, quote=True)}" '
            f'style="width: 100%; height: {self.height}px; border: 0" '
            'title="tinygrad_xor page"></iframe>'
        )

    def __repr__(self) -> str:
        return f"PageView({len(self.page)} characters of HTML, height={self.height})"
