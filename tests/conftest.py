"""Test-suite settings: hypothesis profiles, and the browser the page tests drive.

`CI=true` (set by .ci/run) loads the "ci" profile: at least 500 examples per
property, derandomized so a CI failure reproduces. Locally the "dev" profile
keeps `make test` quick; `HYPOTHESIS_PROFILE=ci make test` runs the CI amount.

`browser`: Debian's chromium (/usr/bin/chromium; no browser is ever downloaded) driven by
Playwright for Python, one for the session (tests/test_browser.py, tests/test_jupyterlab.py).
Where either is missing its tests skip and say why; under CI=true they fail instead, so CI
cannot pass without running them.

At the end of a run, the slowest test files and their time (setup, call and teardown of
each test added up), so a CI log shows what each part of `make test` costs.
"""

import importlib.util
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

settings.register_profile("ci", max_examples=500, deadline=None, derandomize=True, print_blob=True)
settings.register_profile("dev", max_examples=100, deadline=None)

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if IN_CI else "dev"))

CHROMIUM = Path("/usr/bin/chromium")
# As root, with no sandbox; no connection of Chromium's own (the machine's network is closed).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def skip_or_fail(missing: str) -> None:
    """A tool the test needs is missing: skip and say why; under CI=true, fail instead."""
    if IN_CI:
        pytest.fail(f"CI=true: these tests must run, but {missing}")
    pytest.skip(f"skipped: {missing}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if importlib.util.find_spec("playwright") is None:
        skip_or_fail("Playwright for Python is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        skip_or_fail(f"Debian's chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


SECONDS_BY_FILE: Counter[str] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    SECONDS_BY_FILE[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not SECONDS_BY_FILE:
        return
    terminalreporter.section("slowest test files")
    for path, seconds in SECONDS_BY_FILE.most_common(5):
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}")


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The figures tinygrad_xor.plots draws, kept as they are saved (still written)."""
    from tinygrad_xor import plots

    figures: list[Any] = []
    save = plots._save

    def keeping_the_figure(figure, path, image_format="png"):  # type: ignore[no-untyped-def]
        figures.append(figure)
        save(figure, path, image_format)

    monkeypatch.setattr(plots, "_save", keeping_the_figure)
    return figures
