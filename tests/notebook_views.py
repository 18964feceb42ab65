"""A notebook's outputs as a learner sees them in a browser, measured in the page.

JupyterLab, Notebook 7 and nbconvert's HTML export all put each output in a
`.jp-OutputArea-output` element, so one script checks all three. Each function runs in a
Playwright page and returns what is wrong, one readable line per fault: [] when all is well.

    pictures_outside_their_cells  an img, svg, canvas, iframe or video sticking out of its cell
    outputs_that_scroll_sideways  an output wider than its cell (a sideways scrollbar)
    wrapped_lines                 a line of printed text too long for its cell, so it wraps
    small_graph_text              a graph picture whose smallest text is under 9 px on screen,
                                  and that offers no full-size view
    misfit_frames                 a stepper frame not as tall as its page (a blank band, or
                                  cut off), each looked at in view
"""

from __future__ import annotations

import contextlib
from typing import Any

SMALLEST_TEXT = 9  # px on screen

# Shown pictures: a closed <details> hides its full-size copy, a trusted notebook the
# fallback for untrusted ones (display: none), and an SVG's own <svg> children are parts.
_SHOWN_PICTURES = """
const shownPictures = (output) => [...output.querySelectorAll("img, svg, canvas, iframe, video")]
  .filter((p) => !p.closest("details:not([open])") && p.getClientRects().length > 0)
  .filter((p) => !(p.parentElement && p.parentElement.closest("svg")));
const px = (x) => Math.round(x);
"""

_PICTURES_OUTSIDE = (
    "() => {"
    + _SHOWN_PICTURES
    + """
  const wrong = [];
  document.querySelectorAll(".jp-OutputArea-output").forEach((output, i) => {
    const cell = output.getBoundingClientRect();
    for (const picture of shownPictures(output)) {
      if (picture.closest("details")) continue;  // opened on purpose: it scrolls sideways
      const box = picture.getBoundingClientRect();
      if (box.left < cell.left - 1 || box.right > cell.right + 1) {
        wrong.push(`output ${i}: ${picture.tagName} from x=${px(box.left)} to ${px(box.right)}, `
          + `its cell from ${px(cell.left)} to ${px(cell.right)}`);
      }
    }
  });
  return wrong;
}"""
)

_SCROLL_SIDEWAYS = """() => [...document.querySelectorAll(".jp-OutputArea-output")]
  .map((output, i) => [output, i])
  .filter(([output]) => output.scrollWidth > output.clientWidth + 1)
  .map(([output, i]) => `output ${i}: ${output.scrollWidth} px wide in a cell of `
    + `${output.clientWidth}: ${output.textContent.slice(0, 60)}`)"""

# Laid out on one line each (white-space: pre), is any text output wider than its box?
_WRAPPED_LINES = """() => {
  const wrong = [];
  for (const pre of document.querySelectorAll(".jp-OutputArea-output.jp-RenderedText pre")) {
    const before = pre.style.whiteSpace;
    pre.style.whiteSpace = "pre";
    const [needed, has] = [pre.scrollWidth, pre.clientWidth];
    pre.style.whiteSpace = before;
    if (needed > has + 1) {
      const longest = pre.textContent.split("\\n").reduce((a, b) => (b.length > a.length ? b : a));
      wrong.push(`a line needs ${needed} px in a cell of ${has}: ${longest}`);
    }
  }
  return wrong;
}"""

_SMALL_GRAPH_TEXT = (
    "(smallest) => {"
    + _SHOWN_PICTURES
    + """
  const prefix = "data:image/svg+xml;base64,";
  const wrong = [];
  document.querySelectorAll(".jp-OutputArea-output").forEach((output, i) => {
    for (const image of shownPictures(output)) {
      if (image.tagName !== "IMG" || !image.src.startsWith(prefix) || image.closest("details")) {
        continue;
      }
      const bytes = Uint8Array.from(atob(image.src.slice(prefix.length)), (c) => c.charCodeAt(0));
      const svg = new DOMParser().parseFromString(new TextDecoder().decode(bytes), "image/svg+xml");
      const viewWidth = parseFloat(svg.documentElement.getAttribute("viewBox").split(/[ ,]+/)[2]);
      const sizes = [...svg.querySelectorAll("text")]
        .map((text) => parseFloat(text.getAttribute("font-size")));
      const onScreen = Math.min(...sizes) * image.getBoundingClientRect().width / viewWidth;
      const next = image.nextElementSibling;
      const offersFullSize = next !== null && next.tagName === "DETAILS";
      if (onScreen < smallest && !offersFullSize) {
        wrong.push(`output ${i}: a graph ${px(viewWidth)} pt wide, its smallest text `
          + `${onScreen.toFixed(1)} px on screen, and no full-size view`);
      }
    }
  });
  return wrong;
}"""
)

# One frame: what is wrong with its height, [] when it is its page's.
_MISFIT = """(frame) => {
  const page = frame.contentDocument && frame.contentDocument.body;
  if (!page) return ["no page in it"];
  const outer = frame.getBoundingClientRect().height;
  const inner = page.getBoundingClientRect().height;
  return Math.abs(outer - inner) > 2 ? [`${outer} px tall, its page ${inner}`] : [];
}"""


def pictures_outside_their_cells(page: Any) -> list[str]:
    return list(page.evaluate(_PICTURES_OUTSIDE))


def outputs_that_scroll_sideways(page: Any) -> list[str]:
    return list(page.evaluate(_SCROLL_SIDEWAYS))


def wrapped_lines(page: Any) -> list[str]:
    return list(page.evaluate(_WRAPPED_LINES))


def small_graph_text(page: Any) -> list[str]:
    return list(page.evaluate(_SMALL_GRAPH_TEXT, SMALLEST_TEXT))


def misfit_frames(page: Any, frames: Any = None, timeout_ms: float = 5000) -> list[str]:
    """The frames (a locator; every output's by default) that are not as tall as their
    pages. Each is scrolled into view first, as a learner would (a cell out of view may be
    left unrendered), and given `timeout_ms` to fit: the page fits its frame from a
    ResizeObserver, a frame after it changes."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    if frames is None:
        frames = page.locator(".jp-OutputArea-output iframe")
    wrong = []
    for index in range(frames.count()):
        frame = frames.nth(index)
        if not frame.is_visible():
            continue
        frame.scroll_into_view_if_needed()
        handle = frame.element_handle()
        # Not fitting in time is what the line below then says.
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(
                f"f => ({_MISFIT})(f).length === 0", arg=handle, timeout=timeout_ms
            )
        wrong.extend(f"frame {index}: {line}" for line in handle.evaluate(_MISFIT))
    return wrong
