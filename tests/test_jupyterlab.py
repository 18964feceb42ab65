"""The notebooks in a real JupyterLab and Notebook 7, driven in Chromium as a learner would.

The suite starts JupyterLab itself: headless, on a free port of 127.0.0.1, with a token, and
with throwaway Jupyter config, data, runtime, settings and workspace folders, so nothing of
the user's Jupyter is read or written. Its root is a temporary copy of notebooks/ and docs/
(JupyterLab saves notebooks; the repository's must stay clean). The same server serves
Notebook 7. Chromium is the `browser` of tests/conftest.py (skip when missing, fail in CI);
what is measured in the page is tests/notebook_views.py's.

JupyterLab loads once (window.jupyterapp, exposed for tests) and opens one notebook after
another with the command its file browser runs; each test closes what it opened and shuts
its kernels down. For each notebooks/*.ipynb (a glob: a new notebook is picked up), one test:

- JupyterLab runs it (Run > Run All Cells): no output is an error or stderr, every picture
  lies inside its cell, no output scrolls sideways, no printed line wraps, a graph's text is
  at least 9 px on screen or the graph offers its full size, and every stepper frame is as
  tall as its page. The first stepper is stepped with clicks and keys and zoomed, its frame
  checked each time. Then the notebook is saved.
- Where it has graphs or steppers: the saved file, with one metadata field added, is opened
  again, which is what a notebook executed elsewhere is (its content matches no signature
  in this Jupyter): untrusted. Its graphs still show as pictures, each stepper shows its
  picture and the line saying how to trust the notebook; then the command palette's "Trust
  Notebook" brings the steppers back.
- Notebook 7 opens the saved stepper walkthrough (02): the same pictures, and frames that
  fit there, zoomed in too. A picture is the same <img> in both; a frame sizes itself by
  the same script in every notebook, so one notebook shows it.

`make notebooks` itself is started once, to see that it serves the repository root.
Screenshots go to each test's tmp_path.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from notebook_views import (
    misfit_frames,
    outputs_that_scroll_sideways,
    pictures_outside_their_cells,
    small_graph_text,
    wrapped_lines,
)

from conftest import skip_or_fail

REPOSITORY = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(path.name for path in (REPOSITORY / "notebooks").glob("*.ipynb"))
# The notebook Notebook 7 opens: the stepper's own walkthrough, with two steppers.
IN_NOTEBOOK_7 = "02_value_and_the_chain_rule.ipynb"
TOKEN = "tinygrad-xor-test"
# Seconds to wait: for the server to answer, and for a notebook's cells to run. Neither is a
# speed test (notebooks/README.md has the times); they only stop a hang.
SERVER_START = 120
RUN_ALL = 300
VIEWPORT = {"width": 1280, "height": 900}  # JupyterLab's file browser open: cells of 848 px

# The page's JavaScript, run in the notebook's page.
CODE_PROMPTS = (
    "[...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent)"
)
ALL_RAN = f"""() => {{
  const prompts = {CODE_PROMPTS};
  return prompts.length > 0 && prompts.every((prompt) => /\\[\\d+\\]/.test(prompt));
}}"""
KERNEL_READY = """() => {
  const toolbar = document.querySelector(".jp-NotebookPanel-toolbar");
  const name = toolbar && toolbar.querySelector(".jp-KernelName");
  const status = toolbar && toolbar.querySelector(".jp-Notebook-ExecutionIndicator");
  return Boolean(name && !name.textContent.includes("No Kernel")
    && status && status.dataset.status === "idle");
}"""
# Not awaited: the command ends once the kernel is up, and the cells show before that.
OPEN = "(path) => { window.jupyterapp.commands.execute('docmanager:open', {path}); }"
IMAGES_LOADED = "() => [...document.images].every(image => image.complete)"
# What the outputs show: steppers (their frames, or what an untrusted notebook shows instead),
# graphs (an <img> of an SVG), and errors.
COUNT_VIEWS = """() => {
  const outputs = [...document.querySelectorAll(".jp-OutputArea-output")];
  const all = (selector) => outputs.flatMap((o) => [...o.querySelectorAll(selector)]);
  const fallback = "div[class^='tinygrad-xor-untrusted-']";
  const shown = (element) => element.getClientRects().length > 0;
  const loaded = (image) => shown(image) && image.complete && image.naturalWidth > 0;
  const graphs = all("img[src^='data:image/svg+xml']")
    .filter((image) => !image.closest(fallback) && !image.closest("details"));
  const complete = (f) => f.textContent.includes("Trust Notebook")
    && [...f.querySelectorAll("img")].some(loaded);
  return {
    frames: all("iframe").length,
    graphs: graphs.length,
    graphs_shown: graphs.filter(loaded).length,
    fallbacks_shown: all(fallback).filter(shown).length,
    fallbacks_complete: all(fallback).filter((f) => shown(f) && complete(f)).length,
    trusted_outputs: outputs.filter((o) => o.classList.contains("jp-mod-trusted")).length,
    errors: outputs.filter((o) => o.dataset.mimeType === "application/vnd.jupyter.stderr")
      .map((o) => o.textContent.slice(0, 300)),
  };
}"""


@dataclass
class Lab:
    """A running Jupyter server: JupyterLab at /lab, Notebook 7 at /notebooks."""

    url: str
    root: Path

    def address(self, path: str) -> str:
        return f"{self.url}/{path}?token={TOKEN}"

    def api(self, path: str, method: str = "GET") -> Any:
        separator = "&" if "?" in path else "?"
        address = f"{self.url}/api/{path}{separator}token={TOKEN}"
        request = urllib.request.Request(address, method=method)
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def shut_down_kernels(self) -> None:
        for session in self.api("sessions"):
            self.api(f"sessions/{session['id']}", method="DELETE")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def jupyter_environment(home: Path) -> dict[str, str]:
    """This process's environment, with every Jupyter and IPython folder under `home`."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("JUPYTER", "IPYTHON")) and name != "MPLBACKEND"
    }
    folders = {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "IPYTHONDIR": "ipython",
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
    }
    environment.update({name: str(home / folder) for name, folder in folders.items()})
    environment["JUPYTER_PLATFORM_DIRS"] = "1"
    # No "get Jupyter news?" prompt over the cells, and no fetching of news; the notebook's
    # kernel starts without asking (as after ticking "Always start the preferred kernel");
    settings = {
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
        "notebook-extension/tracker": {"autoStartDefaultKernel": True},
    }
    for plugin, values in settings.items():
        path = home / "settings" / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    return environment


def wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the Jupyter server stopped ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=5):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    pytest.fail(f"the Jupyter server did not answer in {SERVER_START} s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started in its own process group, and everything it started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)  # the server shuts its kernels down
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    if (
        importlib.util.find_spec("jupyterlab") is None
        or importlib.util.find_spec("notebook") is None
    ):
        skip_or_fail("JupyterLab and Notebook 7 are not installed (pip install -e '.[test]')")
    home = tmp_path_factory.mktemp("jupyter")
    root = home / "root"
    shutil.copytree(
        REPOSITORY / "notebooks", root / "notebooks", ignore=shutil.ignore_patterns("*.py")
    )
    shutil.copytree(REPOSITORY / "docs", root / "docs")
    port = free_port()
    log = home / "server.log"
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={TOKEN}",
        f"--ServerApp.root_dir={root}",
        "--allow-root",  # CI runs as root
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: open files in one app
    ]
    with log.open("wb") as written:
        process = subprocess.Popen(
            command,
            cwd=home,
            env=jupyter_environment(home),
            stdout=written,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() ends the kernels too
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, process, log)
        yield Lab(url, root)
    finally:
        stop(process)


@pytest.fixture(scope="module")
def browser_context(browser: Any) -> Iterator[Any]:
    """One browser profile for the module, so JupyterLab's scripts load from its cache."""
    context = browser.new_context(viewport=VIEWPORT)
    yield context
    context.close()


@pytest.fixture(scope="module")
def lab_tab(browser_context: Any, lab: Lab) -> Iterator[Tab]:
    """One JupyterLab tab for the module: the app loads once, and each test opens its
    notebooks in it, as a learner opens one file after another."""
    tab = Tab(browser_context.new_page())
    tab.page.goto(lab.address("lab/tree/notebooks") + "&reset")  # reset: no tabs restored
    tab.page.wait_for_function("() => window.jupyterapp !== undefined")
    tab.page.evaluate("() => window.jupyterapp.restored")
    yield tab
    tab.page.close()


@pytest.fixture
def page(lab_tab: Tab, lab: Lab) -> Iterator[Any]:
    """The JupyterLab tab; afterwards its documents are closed and every kernel shut down. An
    error in the console of one of our pages (a stepper, in its frame) fails the test."""
    seen = len(lab_tab.errors)
    yield lab_tab.page
    close_all(lab_tab.page, lab)
    assert lab_tab.errors[seen:] == [], "errors in our pages"


class Tab:
    """A browser tab that keeps the console errors of our pages (a stepper, in its frame);
    JupyterLab's own are not ours to judge."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._record)

    def _record(self, message: Any) -> None:
        if message.type == "error" and message.location.get("url") == "about:srcdoc":
            self.errors.append(message.text)


def close_all(page: Any, lab: Lab) -> None:
    """Close every document (saved: nothing asks) and shut down the kernels they ran."""
    page.evaluate("() => window.jupyterapp.commands.execute('application:close-all')")
    page.wait_for_selector(".jp-NotebookPanel", state="detached")
    lab.shut_down_kernels()


def open_notebook(page: Any, path: str) -> None:
    """Open a notebook in the loaded JupyterLab, with the command its file browser runs."""
    page.evaluate(OPEN, path)
    page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=SERVER_START * 1000)
    page.wait_for_function(IMAGES_LOADED)


def open_in_notebook_7(browser_context: Any, lab: Lab, path: str) -> Tab:
    """Notebook 7 shows one notebook a page: a tab of its own."""
    tab = Tab(browser_context.new_page())
    tab.page.goto(lab.address(f"notebooks/{path}"))
    tab.page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=SERVER_START * 1000)
    tab.page.wait_for_function(IMAGES_LOADED)
    return tab


def views(page: Any) -> dict[str, Any]:
    return dict(page.evaluate(COUNT_VIEWS))


def views_once_rendered(page: Any, trusted: dict[str, Any]) -> dict[str, Any]:
    """What a reopened notebook shows, once as many graphs and steppers (or their untrusted
    stand-ins) are in the page as its run showed: outputs render after the cells appear."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    rendered = f"""() => {{
      const v = ({COUNT_VIEWS})();
      return v.graphs >= {trusted["graphs"]} && v.frames + v.fallbacks_shown >= {trusted["frames"]};
    }}"""
    # Not all of them in time is what the assertions on the counts then say.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_function(rendered, timeout=30_000)
    page.wait_for_function(IMAGES_LOADED)
    return views(page)


def screenshots(page: Any, folder: Path, prefix: str) -> None:
    """Each cell with a picture or a stepper, as it shows on screen."""
    cells = page.locator(".jp-Notebook .jp-Cell").filter(
        has=page.locator(".jp-OutputArea-output img, .jp-OutputArea-output iframe")
    )
    for index in range(cells.count()):
        cells.nth(index).screenshot(path=str(folder / f"{prefix}-{index + 1}.png"))


def check_views_fit(page: Any) -> None:
    assert pictures_outside_their_cells(page) == []
    assert outputs_that_scroll_sideways(page) == []
    assert small_graph_text(page) == []
    assert misfit_frames(page) == []


# -- each notebook: run, stepped, untrusted, in Notebook 7 ----------------------------------


def run_all_and_save(page: Any, path: str) -> dict[str, Any]:
    """Open the notebook, Run All Cells, wait for the last, save it; what its outputs show."""
    open_notebook(page, path)
    prompts = page.evaluate(CODE_PROMPTS)
    assert not any(char.isdigit() for prompt in prompts for char in prompt), "run before"
    # Run All before the kernel is connected does nothing: wait for it, as a learner would.
    page.wait_for_function(KERNEL_READY, timeout=SERVER_START * 1000)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.click("li[data-command='runmenu:run-all']")
    page.wait_for_function(ALL_RAN, timeout=RUN_ALL * 1000, polling=500)
    page.wait_for_function(IMAGES_LOADED)
    shown = views(page)
    page.keyboard.press("Control+s")
    page.wait_for_selector(".jp-mod-current.jp-mod-dirty", state="detached")
    return shown


def step_the_first_stepper(page: Any, screenshot: Path) -> None:
    """Click and press through the first stepper and zoom it; its frame fits each time."""
    frame_element = page.locator(".jp-OutputArea-output iframe").first
    frame_element.scroll_into_view_if_needed()
    frame = frame_element.content_frame
    counter = frame.locator("#counter")
    total = int(counter.text_content().split()[-1])
    assert counter.text_content() == f"step 0 of {total}"
    for step in range(1, 4):
        frame.locator("#next").click()
        assert counter.text_content() == f"step {step} of {total}"
        assert misfit_frames(page, frame_element) == [], f"after step {step}"
    frame.locator("body").click(position={"x": 5, "y": 5})  # keys go to the frame clicked
    for key, expected in [("ArrowRight", 4), ("End", total), ("ArrowLeft", total - 1)]:
        page.keyboard.press(key)
        assert counter.text_content() == f"step {expected} of {total}"
        assert misfit_frames(page, frame_element) == [], f"after {key}"
    frame_element.screenshot(path=str(screenshot))
    for button in ["#zoom-in", "#zoom-in", "#zoom-out", "#zoom-out", "#zoom-out", "#zoom-out"]:
        frame.locator(button).click()
        zoom = frame.locator("#zoom-level").text_content()
        assert misfit_frames(page, frame_element) == [], f"after {button}, at {zoom}"
    page.keyboard.press("Home")
    assert counter.text_content() == f"step 0 of {total}"
    assert misfit_frames(page, frame_element) == []


def open_each_full_size_view(page: Any, screenshots: Path) -> None:
    """A big graph offers its full size under it: opened, the picture is its own width and
    scrolls sideways in its box, and the cell itself still does not."""
    for index, details in enumerate(page.locator(".jp-OutputArea-output details").all()):
        details.locator("summary").click()
        image = details.locator("img")
        box = details.locator("div")
        natural = int(image.get_attribute("width") or "0")
        assert image.bounding_box()["width"] == pytest.approx(natural, abs=1)
        assert box.evaluate("b => b.scrollWidth > b.clientWidth")  # a sideways scrollbar
        assert outputs_that_scroll_sideways(page) == []
        details.screenshot(path=f"{screenshots}-{index + 1}.png")
        details.locator("summary").click()


def as_if_executed_elsewhere(lab: Lab, saved: str) -> str:
    """A copy with one field more: no signature of this Jupyter matches it, so it opens
    untrusted, as a classmate's executed notebook does."""
    notebook = json.loads((lab.root / saved).read_text(encoding="utf-8"))
    notebook["metadata"]["executed_elsewhere"] = True
    copy = Path("elsewhere") / Path(saved).name
    (lab.root / copy).parent.mkdir(exist_ok=True)
    (lab.root / copy).write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return copy.as_posix()


def trust_with_the_command_palette(page: Any, lab: Lab, path: str) -> None:
    """What the stepper's untrusted line says to do: Ctrl+Shift+C, "Trust Notebook". The
    command then saves the notebook; wait for that save, or closing it would ask to."""
    # content=0: the file's model without reading it, which a save may be half-way through.
    saved_before = lab.api(f"contents/{path}?content=0")["last_modified"]
    page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
    page.keyboard.press("Escape")
    page.keyboard.press("Control+Shift+C")
    page.keyboard.type("Trust Notebook")
    page.locator(".lm-CommandPalette-item", has_text="Trust Notebook").first.click()
    page.locator(".jp-Dialog .jp-mod-accept").click()
    deadline = time.monotonic() + 30
    while lab.api(f"contents/{path}?content=0")["last_modified"] == saved_before:
        assert time.monotonic() < deadline, f"Trust Notebook did not save {path} in 30 s"
        time.sleep(0.1)
    page.wait_for_selector(".jp-mod-current.jp-mod-dirty", state="detached")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_each_notebook_runs_in_jupyterlab_fits_and_shows_untrusted_and_in_notebook_7(
    name: str, lab: Lab, page: Any, browser_context: Any, tmp_path: Path
) -> None:
    stem, saved = Path(name).stem, f"notebooks/{name}"
    started = time.monotonic()

    # Run in JupyterLab: no errors, every picture in its cell and readable, frames that fit.
    trusted = run_all_and_save(page, saved)
    print(f"{name}: run in {time.monotonic() - started:.1f} s; {trusted}")
    assert trusted["errors"] == [], f"{name} failed or wrote to stderr"
    assert trusted["graphs_shown"] == trusted["graphs"]
    assert trusted["fallbacks_shown"] == 0  # trusted: the steppers themselves show
    check_views_fit(page)
    assert wrapped_lines(page) == []
    screenshots(page, tmp_path, f"lab-{stem}")
    if trusted["frames"]:
        step_the_first_stepper(page, tmp_path / f"lab-{stem}-stepped.png")
    open_each_full_size_view(page, tmp_path / f"lab-{stem}-full-size")
    if not (trusted["graphs"] or trusted["frames"]):
        return  # nothing that trust or Notebook 7 could change
    close_all(page, lab)

    # Executed elsewhere: untrusted. Every graph is still a picture; every stepper shows its
    # picture and how to trust the notebook, and doing that brings the stepper back.
    elsewhere = as_if_executed_elsewhere(lab, saved)
    open_notebook(page, elsewhere)
    untrusted = views_once_rendered(page, trusted)
    screenshots(page, tmp_path, f"untrusted-{stem}")
    assert untrusted["trusted_outputs"] == 0, "expected an untrusted notebook"
    assert untrusted["errors"] == []
    assert untrusted["graphs_shown"] == untrusted["graphs"] == trusted["graphs"]
    assert untrusted["frames"] == 0  # the sanitizer removed them
    assert untrusted["fallbacks_shown"] == untrusted["fallbacks_complete"] == trusted["frames"]
    check_views_fit(page)
    if trusted["frames"]:
        trust_with_the_command_palette(page, lab, elsewhere)
        page.wait_for_function(f"() => ({COUNT_VIEWS})().frames === {trusted['frames']}")
        after = views(page)
        assert after["fallbacks_shown"] == 0 and after["graphs_shown"] == trusted["graphs"]
        assert misfit_frames(page) == []
    close_all(page, lab)
    if name != IN_NOTEBOOK_7:
        return
    assert trusted["frames"] >= 2, f"{name} is the notebook Notebook 7 checks steppers in"

    # Notebook 7: the same pictures, in their cells, and frames that fit, zoomed in too.
    notebook_7 = open_in_notebook_7(browser_context, lab, saved)
    try:
        shown = views_once_rendered(notebook_7.page, trusted)
        assert (shown["graphs_shown"], shown["frames"]) == (trusted["graphs"], trusted["frames"])
        check_views_fit(notebook_7.page)
        for index in range(trusted["frames"]):
            frame_element = notebook_7.page.locator(".jp-OutputArea-output iframe").nth(index)
            frame_element.content_frame.locator("#zoom-in").click()
            frame_element.content_frame.locator("#last").click()
            assert misfit_frames(notebook_7.page, frame_element) == [], f"frame {index}, at the end"
        assert notebook_7.errors == [], "errors in our pages, in Notebook 7"
    finally:
        notebook_7.page.close()
    print(f"{name}: all in {time.monotonic() - started:.1f} s")


# -- make notebooks ---------------------------------------------------------------------------


def test_make_notebooks_serves_the_repository_root(tmp_path: Path) -> None:
    """`make notebooks` (its install step done, as after make test) starts JupyterLab at the
    repository root, where notebook 5's link ../docs/testing-ops.md resolves, showing
    notebooks/ first."""
    if Path(sys.prefix).resolve() != (REPOSITORY / ".venv").resolve():
        skip_or_fail(f"make notebooks uses {REPOSITORY / '.venv'}; this is {sys.prefix}")
    if shutil.which("make") is None:
        skip_or_fail("make is not installed")
    port = free_port()
    options = (
        f"--no-browser --ip=127.0.0.1 --port={port} --IdentityProvider.token={TOKEN} "
        "--allow-root --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"
    )
    log = tmp_path / "make.log"
    with log.open("wb") as written:
        process = subprocess.Popen(
            ["make", "-s", "notebooks", f"JUPYTER_OPTIONS={options}"],
            cwd=REPOSITORY,
            env=jupyter_environment(tmp_path),
            stdout=written,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, process, log)
        request = f"{url}/api/contents/docs/testing-ops.md?content=0&token={TOKEN}"
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.load(answer)["path"] == "docs/testing-ops.md"
        with urllib.request.urlopen(f"{url}/api/contents?token={TOKEN}", timeout=10) as answer:
            top = {item["name"] for item in json.load(answer)["content"]}
        assert {"notebooks", "docs", "README.md", "Makefile"} <= top
        with urllib.request.urlopen(f"{url}/?token={TOKEN}", timeout=10) as answer:
            assert urllib.parse.urlsplit(answer.geturl()).path == "/lab/tree/notebooks"
    finally:
        stop(process)
