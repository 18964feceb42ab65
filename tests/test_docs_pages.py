"""The pages besides their examples (Sybil runs those: tests/markdown_pages.py).

- In ```sh blocks, and on `$ ` lines of ```text blocks, every `make` target and
  `tinygrad-xor` subcommand and option exists.
- Fences are closed, Python is tagged ```python (so that it runs), relative links and
  their #anchors resolve.
- docs/api.md uses every public name of the package in a block that runs;
  docs/architecture.md names every module with its docstring's first line and shows the
  layers of the import-linter contract (pyproject.toml; `make test` runs lint-imports);
  docs/getting-started.md shows what `make demo` prints.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import importlib.util
import inspect
import io
import pkgutil
import re
import shlex
import subprocess
import tomllib
import types
from pathlib import Path

import pytest
from markdown_pages import (
    DOC_EXAMPLES,
    PAGES,
    ROOT,
    Block,
    Page,
    blocks_of,
    output_of,
    read_blocks,
)
from sybil.example import SybilFailure

import tinygrad_xor
from tinygrad_xor.cli import main as cli_main

API_PAGE = ROOT / "docs" / "api.md"
ARCHITECTURE_PAGE = ROOT / "docs" / "architecture.md"


def lines_in_code(path: Path) -> set[int]:
    return {n for b in blocks_of(path) for n in range(b.fence_line, b.end_line + 1)}


# -- the reader and the runner themselves ------------------------------------------------------


def test_reader_finds_blocks_outputs_and_line_numbers(tmp_path: Path) -> None:
    text = (
        "# Title\n```python\nprint(1)\n```\n\n```text\n1\n```\n"  # 1-8
        "```python\nx = 2\n```\nprints\n```\n2\n```\n"  # 9-15
        "```python\n```\nSome prose.\nMore prose.\n```\nnot its output\n```\n"  # 16-22
        "  ```sh\n    make demo\n  ```\n```python\nx = 1\n"  # 23-27, never closed
    )
    blocks = read_blocks(tmp_path / "page.md", text)
    found = [(b.language, b.fence_line, b.end_line, b.closed) for b in blocks]
    assert found == [
        ("python", 2, 4, True),
        ("text", 6, 8, True),
        ("python", 9, 11, True),
        ("", 13, 15, True),
        ("python", 16, 17, True),
        ("", 20, 22, True),
        ("sh", 23, 25, True),
        ("python", 26, 28, False),
    ]
    assert (blocks[0].source, blocks[6].source) == ("print(1)\n", "  make demo\n")
    lines = text.splitlines()
    assert [output_of(lines, blocks, i) for i in (0, 2, 4)] == [blocks[1], blocks[3], None]


def test_a_page_runs_in_order_and_fails_at_its_page_line(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_text(
        "```python\nimport os\nos.mkdir('made')\nx = 6\nprint(x * 7)\n```\n"  # 1-6
        "\n```text\n42\n```\n"  # 7-10: the output it shows
        "```python\nprint(x)\n```\n```text\n7\n```\n"  # 11-16: prints 6, shows 7
        "Intro.\n```python\ny = 1\nz = y / 0\n```\n"  # 17-21: fails on line 20
        "```python\nprint(x)\n```\n",  # 22-24: after a failure: skipped
        encoding="utf-8",
    )
    page = DOC_EXAMPLES.parse(path)
    first, wrong_output, failing, after = page
    first.evaluate()
    assert isinstance(page, Page) and page.workdir is not None
    assert (Path(page.workdir.name) / "made").is_dir()  # made there, not in the cwd
    with pytest.raises(SybilFailure) as printed:
        wrong_output.evaluate()
    assert f"{path.as_posix()}:11: the block does not print what the page shows" in str(
        printed.value
    )
    assert "-7\n+6" in str(printed.value)
    with pytest.raises(SybilFailure) as raised:
        failing.evaluate()
    assert raised.value.result.startswith(f"{path.as_posix()}:20: the ```python block at line 18")
    assert "ZeroDivisionError" in raised.value.result
    with pytest.raises(pytest.skip.Exception, match=rf"earlier block .*{path.name}:18"):
        after.evaluate()
    page.close()


def test_an_unknown_need_stops_the_page(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_text("```python\n# needs: a GPU\n```\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown '# needs: a GPU'"):
        DOC_EXAMPLES.parse(path)


# -- commands, fences, links -------------------------------------------------------------------


def _makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w.-]*)\s*:(?!=)", text, flags=re.MULTILINE))


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
            command = line.strip().removeprefix("$ ")
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
        program = words[0].rsplit("/", 1)[-1] if words else ""
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


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_page_commands_exist(path: Path) -> None:
    targets = _makefile_targets()
    problems = [
        f"{block.where}: {problem}"
        for block in blocks_of(path)
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


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_page_fences_are_closed_and_python_is_tagged_python(path: Path) -> None:
    unclosed = [b.where for b in blocks_of(path) if not b.closed]
    assert not unclosed, f"these code fences are never closed: {', '.join(unclosed)}"
    # Languages that look like Python but would not run: Sybil runs ```python only.
    hidden = [b.where for b in blocks_of(path) if b.language in ("py", "python3", "pycon")]
    assert not hidden, f"tag these blocks ```python so that they run: {', '.join(hidden)}"


def anchors(path: Path) -> set[str]:
    """The #anchors of a page's headings, made as GitHub makes them."""
    in_code = lines_in_code(path)
    found: set[str] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
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


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_page_links_resolve(path: Path) -> None:
    in_code, broken = lines_in_code(path), []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number in in_code:
            continue
        for target in re.findall(
            r"\[[^\]]*\]\(([^)\s]+)\)", line
        ):  # [text](target), ![alt](target)
            file, _, anchor = target.partition("#")
            if re.match(r"[a-z]+:", file):
                continue  # a web address
            linked = path.parent / file if file else path
            if not linked.exists():
                broken.append(f"{path.name}:{number}: {file} does not exist")
            elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
                broken.append(f"{path.name}:{number}: {linked.name} has no heading #{anchor}")
    assert not broken, "\n".join(broken)


def test_anchors_are_made_as_github_makes_them(tmp_path: Path) -> None:
    path = tmp_path / "page.md"
    path.write_text(
        "# tinygrad_xor (the package)\n## tinygrad_xor.engine\n### `make demo`\n"
        "## Notes\n## Notes\n```text\n# not a heading\n```\n",
        encoding="utf-8",
    )
    expected = {"tinygrad_xor-the-package", "tinygrad_xorengine", "make-demo", "notes", "notes-1"}
    assert anchors(path) == expected


# -- the API page covers every public name -------------------------------------------------------


def public_modules() -> list[types.ModuleType]:
    """The package and every module in it (`__main__` runs the command line: not imported)."""
    found = pkgutil.walk_packages(tinygrad_xor.__path__, "tinygrad_xor.")
    names = sorted(info.name for info in found if not info.name.endswith("__main__"))
    return [tinygrad_xor, *(importlib.import_module(name) for name in names)]


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
    nodes = [node for source in sources for node in ast.walk(ast.parse(source))]
    names: dict[str, tuple[str, str]] = {}  # local name -> (module, name)
    modules: dict[str, str] = {}  # local name -> module
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tinygrad_xor"):
            for alias in node.names:
                local, module = alias.asname or alias.name, str(node.module)
                if _is_module(module, alias.name):
                    modules[local] = f"{module}.{alias.name}"
                else:
                    names[local] = (module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("tinygrad_xor") and alias.asname:
                    modules[alias.asname] = alias.name
                elif alias.name.startswith("tinygrad_xor"):  # binds the package's name
                    modules["tinygrad_xor"] = "tinygrad_xor"
    used: set[tuple[str, str]] = set()
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id in names:
            used.add(names[node.id])
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            chain: list[str] = []
            inner: ast.expr = node
            while isinstance(inner, ast.Attribute):
                chain.insert(0, inner.attr)
                inner = inner.value
            if not isinstance(inner, ast.Name) or inner.id not in modules:
                continue
            module = modules[inner.id]
            # Walk into submodules: tinygrad_xor.nn.MLP is (tinygrad_xor.nn, MLP).
            while len(chain) > 1 and _is_module(module, chain[0]):
                module, chain = f"{module}.{chain[0]}", chain[1:]
            if not _is_module(module, chain[0]):  # `pkg.module` alone reads no name
                used.add((module, chain[0]))
    return used


def uncovered_names(sources: list[str]) -> list[str]:
    """Public names (module.name, from each module's __all__) that no source reads.

    A name re-exported elsewhere counts as covered when the same object is read under the
    same name from another module (tinygrad_xor.Value is tinygrad_xor.engine.Value).
    """
    read: dict[str, list[object]] = {}
    for module_name, name in used_names(sources):
        module = importlib.import_module(module_name)
        if hasattr(module, name):
            read.setdefault(name, []).append(getattr(module, name))
    return [
        f"{module.__name__}.{name}"
        for module in public_modules()
        for name in module.__all__
        if not any(other is getattr(module, name) for other in read.get(name, []))
    ]


def test_every_module_declares_its_public_names() -> None:
    for module in public_modules():
        assert isinstance(getattr(module, "__all__", None), list), module.__name__
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.__all__ names missing {name!r}"


def test_api_page_uses_every_public_name_in_a_block_that_runs() -> None:
    missing = uncovered_names([b.source for b in blocks_of(API_PAGE) if b.language == "python"])
    assert not missing, (
        f"docs/api.md has no runnable example using: {', '.join(missing)}. "
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


# -- the architecture page matches the code -------------------------------------------------------


def test_architecture_page_names_every_module_with_its_docstring() -> None:
    text = " ".join(ARCHITECTURE_PAGE.read_text(encoding="utf-8").split())
    missing = []
    package = ROOT / "tinygrad_xor"
    for path in sorted(package.rglob("*.py")):
        name = path.relative_to(package).as_posix()  # engine.py, manual/network.py
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        summary = docstring.splitlines()[0] if docstring else ""
        if f"`{name}`" not in text:
            missing.append(f"{name}: not named as `{name}`")
        elif summary not in text:
            missing.append(f"{name}: its docstring's first line is not quoted: {summary!r}")
    assert not missing, "docs/architecture.md is out of date:\n" + "\n".join(missing)


def contract_layers() -> dict[str, int]:
    """Each module of the import-linter layers contract, numbered from the bottom layer (0)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    (layers,) = [
        c["layers"] for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers"
    ]
    numbered = {}
    for number, layer in enumerate(reversed(layers)):
        for module in re.split(r"[|:]", layer):
            module = module.strip()
            package = ROOT / "tinygrad_xor"
            if (package / f"{module}.py").exists() or (package / module).is_dir():
                numbered[module] = number
    return numbered


def test_architecture_page_shows_the_layers_of_the_import_contract() -> None:
    text = ARCHITECTURE_PAGE.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(\w+)(?:\.py|/)` \| (\d+) \|", text, flags=re.MULTILINE)
    # __init__ is the contract's container, not one of its layers.
    shown = {module: int(layer) for module, layer in rows if module != "__init__"}
    assert shown == contract_layers()


# -- the transcript of `make demo` ---------------------------------------------------------------


def _demo_commands() -> list[list[str]]:
    """The `tinygrad-xor` command lines of the Makefile's demo recipe, in order."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert recipe is not None, "the Makefile has no demo recipe"
    lines = [line.split() for line in recipe.group(1).splitlines()]
    return [words[1:] for words in lines if words[0].endswith("/tinygrad-xor")]


def test_getting_started_shows_what_make_demo_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The transcript on the getting-started page is the demo's real output, kept current."""
    transcript = next(
        b.source
        for b in blocks_of(ROOT / "docs" / "getting-started.md")
        if b.language == "text" and "tinygrad-xor train" in b.source
    )
    commands = _demo_commands()
    assert [c[0] for c in commands] == ["train", "manual", "graph"]
    monkeypatch.chdir(tmp_path)  # the demo writes into out/
    printed = []
    for argv in commands:
        assert cli_main(argv) == 0, argv
        printed.append(".venv/bin/tinygrad-xor " + " ".join(argv) + "\n" + capsys.readouterr().out)
    assert "".join(printed) == transcript


def test_each_help_a_page_shows_is_what_the_command_prints(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A page's `$ tinygrad-xor ... --help` block is the help as printed (90 columns)."""
    monkeypatch.setenv("COLUMNS", "90")  # argparse wraps to the terminal's width
    shown = [
        b
        for page in PAGES
        for b in blocks_of(page)
        if b.language == "text" and re.match(r"\$ tinygrad-xor (.* )?--help\n", b.source)
    ]
    assert len(shown) == 4, [f"{b.page.name}:{b.fence_line}" for b in shown]
    for block in shown:
        command, printed = block.source.split("\n", 1)
        assert cli_main(shlex.split(command)[2:]) == 0
        assert capsys.readouterr().out == printed, f"{block.page.name}:{block.fence_line}"


def test_each_error_a_page_shows_is_what_the_command_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A page's `$ tinygrad-xor ...` block whose output is an error line is that line,
    as the command prints it last, with the exit status of a usage error."""
    shown = [
        b
        for page in PAGES
        for b in blocks_of(page)
        if b.language == "text"
        and re.match(r"\$ tinygrad-xor .*\ntinygrad-xor \w+: error:", b.source)
    ]
    assert len(shown) == 1, [f"{b.page.name}:{b.fence_line}" for b in shown]
    for block in shown:
        command, printed = block.source.split("\n", 1)
        assert cli_main(shlex.split(command)[2:]) == 2
        assert capsys.readouterr().err.splitlines()[-1] == printed.rstrip("\n")


# -- the transcript of `make test` ------------------------------------------------------------


def _recipe(target: str) -> list[str]:
    """The command lines of a Makefile target, with $(BIN) spelled .venv/bin."""
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, flags=re.MULTILINE)
    assert recipe is not None, f"the Makefile has no {target} recipe"
    return [line.strip().replace("$(BIN)", ".venv/bin") for line in recipe.group(1).splitlines()]


def _make_test_transcript() -> str:
    return next(
        b.source
        for b in blocks_of(ROOT / "docs" / "getting-started.md")
        if b.language == "text" and ".venv/bin/mypy" in b.source
    )


def _count_after(transcript: str, command: str, pattern: str) -> int:
    """The number the line after `command` shows, by `pattern` (its one group)."""
    lines = transcript.splitlines()
    match = re.search(pattern, lines[lines.index(command) + 1])
    assert match is not None, f"after {command!r}: no line like {pattern!r}"
    return int(match.group(1))


def test_the_make_test_transcript_runs_the_makefiles_commands() -> None:
    transcript = _make_test_transcript()
    shown = [line for line in transcript.splitlines() if line.startswith(".venv/bin/")]
    assert shown == _recipe("lint") + _recipe("test")


def test_the_make_test_transcript_counts_what_the_project_holds() -> None:
    transcript = _make_test_transcript()
    ruff = ROOT / ".venv" / "bin" / "ruff"
    for target in (".", "notebooks"):
        checked = subprocess.run(
            [str(ruff), "format", "--check", target], cwd=ROOT, capture_output=True, text=True
        )
        count = _count_after(transcript, f".venv/bin/ruff format --check {target}", r"(\d+) files")
        assert f"{count} files already formatted" in checked.stdout, (target, checked.stdout)
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    read = [ROOT / name for name in config["tool"]["mypy"]["files"]]  # the package, and beside it
    modules = sum(len(list(path.rglob("*.py"))) if path.is_dir() else 1 for path in read)
    assert _count_after(transcript, ".venv/bin/mypy", r"in (\d+) source files") == modules
    kept = len(config["tool"]["importlinter"]["contracts"])
    assert f"Contracts: {kept} kept, 0 broken." in transcript.splitlines()


# -- claims the pages make about the code -----------------------------------------------------


def test_the_concepts_op_table_lists_every_primitive_of_the_engine() -> None:
    """docs/concepts.md's table of ops and derivatives has a row for each the engine has."""
    engine_table = (tinygrad_xor.engine.__doc__ or "").split("op          value")[1]
    engine_ops = re.findall(r"^    (a \S+ [bc]|a\.\w+\(\))", engine_table, flags=re.MULTILINE)
    concepts = (ROOT / "docs" / "concepts.md").read_text(encoding="utf-8")
    page_ops = re.findall(r"^\| `(a [^`]+ [bc]|a\.\w+\(\))`", concepts, flags=re.MULTILINE)
    assert len(engine_ops) == 10 and sorted(engine_ops) == sorted(page_ops)


def test_the_sample_option_says_how_much_of_the_graph_one_sample_is() -> None:
    from tinygrad_xor.engine import topological_order
    from tinygrad_xor.train import sample_loss

    model = tinygrad_xor.MLP(2, [5, 1])
    one, all_four = (
        len(topological_order(sample_loss(model, "xor", "mse", samples))) for samples in ([0], None)
    )
    assert (one, all_four) == (64, 190)  # a third, as `graph --help` and getting-started say
    help_text = io.StringIO()
    with contextlib.redirect_stdout(help_text), contextlib.suppress(SystemExit):
        cli_main(["graph", "--help"])
    assert "a third of the graph" in " ".join(help_text.getvalue().split())
    page = (ROOT / "docs" / "getting-started.md").read_text(encoding="utf-8")
    assert "a third the size (64 of 190 Values)" in page


# -- the signatures the pages write ----------------------------------------------------------


def written_signatures(text: str) -> list[tuple[str, dict[str, object]]]:
    """(name, {parameter: default}) for each `name(param, ..., key=literal)` in backticks.

    A call written as an example (`gradients(..., create_graph=True)`, `f(2, x=1)`) is
    not a signature: only one whose positional parts are all parameter names counts,
    and only keywords given as literals (not `...`) are read.
    """
    found = []
    part = r"(?:[^`()]|\(\))*"  # `inputs=()` may be written
    for name, inside in re.findall(rf"`([A-Za-z_][\w.]*)\(({part}={part})\)`", text):
        parts = [p.strip() for p in inside.split(",")]
        while parts[-1] == "...":  # `draw_dot(root, show_order=True, ...)`: more not shown
            parts.pop()
        parts = [p for p in parts if p != "*"]
        try:
            call = ast.parse(f"f({', '.join(parts)})", mode="eval").body
        except SyntaxError:  # a placeholder such as `title=`
            continue
        assert isinstance(call, ast.Call)
        names = [arg.value if isinstance(arg, ast.Starred) else arg for arg in call.args]
        if not all(isinstance(arg, ast.Name) for arg in names):
            continue
        defaults = {}
        for keyword in call.keywords:
            with contextlib.suppress(ValueError):
                value = ast.literal_eval(keyword.value)
                if value is not Ellipsis and keyword.arg is not None:
                    defaults[keyword.arg] = value
        if defaults:
            found.append((name, defaults))
    return found


def documented_callable(name: str, keys: set[str]) -> object:
    """What a page means by `name`: a public name of one module (the package's first) or
    a submodule, then attributes (`manual.train`, `Walkthrough.describe`); a bare method
    name is the one method of a public class that takes all of `keys`."""
    first, *rest = name.split(".")
    found: object = None
    for module in public_modules():
        if first in module.__all__:
            found = getattr(module, first)
            break
    if found is None and _is_module("tinygrad_xor", first):
        found = importlib.import_module(f"tinygrad_xor.{first}")
    if found is not None:
        for part in rest:
            found = getattr(found, part)
        return found
    methods = {
        getattr(cls, name)
        for module in public_modules()
        for cls in (getattr(module, n) for n in module.__all__)
        if isinstance(cls, type)
        and callable(getattr(cls, name, None))
        and keys <= set(inspect.signature(getattr(cls, name)).parameters)
    }
    assert len(methods) == 1, f"`{name}(...)` on a page is not one function: {methods}"
    return methods.pop()


def test_written_signatures_find_defaults_and_leave_calls_alone() -> None:
    text = (
        '`Value(data, label="")` and `gradients(..., create_graph=True)`, `f(2, x=1)`, '
        "`g(a, *, eps=1e-3, seed=...)`, `h(title=)`, `k(x=-2.0)`, `t(fn, *xs, inputs=(), n=2, ...)`"
    )
    assert written_signatures(text) == [
        ("Value", {"label": ""}),
        ("g", {"eps": 1e-3}),
        ("k", {"x": -2.0}),
        ("t", {"inputs": (), "n": 2}),
    ]


def test_every_default_the_api_page_writes_is_the_codes() -> None:
    """docs/api.md's `name(param, key=default)` lines are the signatures users call by."""
    signatures = written_signatures(API_PAGE.read_text(encoding="utf-8"))
    assert len(signatures) >= 25, signatures
    for name, defaults in signatures:
        target = documented_callable(name, set(defaults))
        parameters = inspect.signature(target).parameters  # type: ignore[arg-type]
        for key, value in defaults.items():
            assert key in parameters, f"docs/api.md: `{name}` has no parameter {key!r}"
            actual = parameters[key].default
            assert (type(actual), actual) == (type(value), value), (
                f"docs/api.md writes `{name}(..., {key}={value!r})`; the code's is {actual!r}"
            )
