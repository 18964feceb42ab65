"""The notebooks in notebooks/: each runs top to bottom, shows what it is for, and is stored clean.

Running: nbclient executes each notebook in a fresh Jupyter kernel (ipykernel; both come
with the test extra), as "Restart & Run All" would. The kernel works in an empty temporary
folder, with Graphviz's `dot` hidden from PATH (graphs are drawn by the package's in-process
renderer, as on a machine with only `pip install`) and IPython's and Jupyter's own files in
that temporary folder too. A cell that raises fails the test with its traceback. Passing
also needs what each notebook is there to show: its pictures inline (PNG), its graphs drawn
(SVG, not the "install Graphviz" text), no warnings or errors on stderr, and no file left
in the working folder. Notebook 4 runs once more with torch hidden: it must print its note
and still finish.

Storing: notebooks are committed without outputs or execution counts, in the layout
Jupyter itself writes, so a diff shows only what changed in the cells (notebooks/README.md).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import nbclient
import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"

# What each notebook must show when it runs: MIME type -> the fewest outputs of that type.
EXPECTED_DISPLAYS: dict[str, dict[str, int]] = {
    "01_the_learners_question.ipynb": {"image/png": 1},  # plots.plot_comparison
    # draw_dot with local grads, with visit order, a Value itself, the reused Value; and
    # show_backprop's pages (an iframe each) of the neuron and of b = a + a; c = b * b
    "02_value_and_the_chain_rule.ipynb": {"image/svg+xml": 4, "text/html": 2},
    # loss curve and decision boundary; the graph of one neuron and of the network
    "03_an_mlp_learns_xor.ipynb": {"image/png": 2, "image/svg+xml": 2},
    "04_same_weights_as_pytorch.ipynb": {"image/png": 1},  # the overlaid curves (with torch)
    "05_testing_gradients.ipynb": {},
    # Newton's method, the Hessians, forward against reverse; the graphs of tanh' and
    # tanh''; show_backprop's page of tanh'
    "06_derivatives_of_derivatives.ipynb": {"image/png": 3, "image/svg+xml": 2, "text/html": 1},
}
TORCH_NOTEBOOK = "04_same_weights_as_pytorch.ipynb"

# What a notebook must print, besides running: the point it is there to make.
EXPECTED_TEXT: dict[str, list[str]] = {
    # the planted bug in sin: found, shrunk to sin of one input, and named
    "05_testing_gradients.ipynb": [
        "the correct sin passed in 100 random expressions",
        "shrunk by hypothesis to the smallest:",
        "; return v2) at x=0.0, y=0.0",  # one op, sin, of one input, at 0
        "sin, made by define_op, at x = 0.0: it records d/dx = -1.0",
    ],
    # DeZero's double backprop and Newton's method, to the last digit
    "06_derivatives_of_derivatives.ipynb": [
        "dz/dx = 100.0",
        "    3  1.0253259289766978",
        "symmetric up to rounding",
    ],
}

# Printed by graph.py where a picture was expected and could not be drawn.
NOT_DRAWN_MARKERS = ("To draw it:", "not drawn:")

# Run after notebook 4: does a legend cover any point of a curve? Measured on the notebook's
# `figure` as drawn, in the figure's pixels.
LEGENDS_CLEAR_THE_CURVES = """\
figure.canvas.draw()
covered = []
legends = [*figure.legends, *(axes.get_legend() for axes in figure.axes if axes.get_legend())]
for legend in legends:
    box = legend.get_window_extent()
    for axes in figure.axes:
        for line in axes.get_lines():
            points = line.get_transform().transform(line.get_xydata())
            points = points[np.isfinite(points).all(axis=1)]
            inside = (
                (points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
                & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)
            )
            if inside.any():
                covered.append(f"{line.get_label()}: {int(inside.sum())} points")
print(f"{len(legends)} legends, covering: {covered}")
"""

# Seconds one cell may take before the kernel is taken as hung. Not a speed test: each
# notebook takes seconds (notebooks/README.md has the times); this only stops a hang.
CELL_TIMEOUT = 300


def _load(path: Path) -> Any:
    return nbformat.read(path, as_version=4)


def _kernel_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The kernel inherits this process's environment: keep it off the user's files and dot."""
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    # The kernel starts from sys.executable (jupyter_client swaps it in for "python"),
    # so an empty PATH only hides programs, such as Graphviz's dot.
    monkeypatch.setenv("PATH", str(empty_bin))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # the new paths, without the warning
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the notebooks choose inline themselves


def _execute(
    path: Path, tmp_path: Path, *, checks: tuple[str, ...] = ()
) -> tuple[Any, Path, float]:
    """Run the notebook, and then the `checks` (code cells the test adds, run in the same
    kernel); return it with its outputs, its working folder and the seconds taken."""
    notebook = _load(path)
    notebook.cells.extend(nbformat.v4.new_code_cell(check) for check in checks)
    workdir = tmp_path / "work"
    workdir.mkdir()
    client = nbclient.NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(workdir)}},
        # One output per stream: a print that ipykernel flushes in two pieces stays whole.
        coalesce_streams=True,
    )
    started = time.perf_counter()
    client.execute()
    return notebook, workdir, time.perf_counter() - started


def _outputs(notebook: Any) -> list[Any]:
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    return [output for cell in code_cells for output in cell.outputs]


def _count_displays(notebook: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for output in _outputs(notebook):
        for mime in output.get("data", {}):
            counts[mime] = counts.get(mime, 0) + 1
    return counts


def _all_text(notebook: Any) -> str:
    parts = []
    for output in _outputs(notebook):
        if output.output_type == "stream":
            parts.append(output.text)
        parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


def _stderr(notebook: Any) -> str:
    return "".join(
        output.text
        for output in _outputs(notebook)
        if output.output_type == "stream" and output.name == "stderr"
    )


def _hide_torch_in_kernel(tmp_path: Path) -> None:
    """An IPython startup file that makes `import torch` fail, as on a machine without it."""
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    # A None entry in sys.modules makes `import torch` raise ImportError.
    (startup / "00-hide-torch.py").write_text("import sys\nsys.modules['torch'] = None\n")


def _notebook_paths() -> list[Path]:
    return sorted(NOTEBOOK_DIR.glob("*.ipynb"))


# Every notebook in the folder runs; one added without an entry above needs only to run.
NOTEBOOKS = [path.name for path in _notebook_paths()]


def test_the_walkthroughs_keep_their_names() -> None:
    assert set(EXPECTED_DISPLAYS) <= set(NOTEBOOKS), "a walkthrough was renamed or removed"


def _check_ran_cleanly(name: str, notebook: Any, workdir: Path, seconds: float) -> None:
    print(f"{name}: {seconds:.1f} s")  # shown with pytest -s; notebooks/README.md keeps the times
    counts = _count_displays(notebook)
    for mime, fewest in EXPECTED_DISPLAYS.get(name, {}).items():
        assert counts.get(mime, 0) >= fewest, f"{name} showed {counts}, expected {mime} >= {fewest}"
    text = _all_text(notebook)
    for expected in EXPECTED_TEXT.get(name, []):
        assert expected in text, f"{name} did not print {expected!r}:\n{text}"
    for marker in NOT_DRAWN_MARKERS:
        assert marker not in text, f"{name}: a graph was not drawn:\n{text}"
    assert _stderr(notebook) == "", f"{name} wrote to stderr:\n{_stderr(notebook)}"
    assert list(workdir.iterdir()) == [], f"{name} left files in its working folder"


@pytest.mark.parametrize("name", [name for name in NOTEBOOKS if name != TORCH_NOTEBOOK])
def test_notebook_runs_top_to_bottom(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _kernel_environment(monkeypatch, tmp_path)
    notebook, workdir, seconds = _execute(NOTEBOOK_DIR / name, tmp_path)
    _check_ran_cleanly(name, notebook, workdir, seconds)


def test_pytorch_notebook_runs_and_compares_the_curves(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("torch", reason="the comparison needs torch: pip install torch==2.13.0")
    _kernel_environment(monkeypatch, tmp_path)
    checks = (LEGENDS_CLEAR_THE_CURVES,)
    notebook, workdir, seconds = _execute(NOTEBOOK_DIR / TORCH_NOTEBOOK, tmp_path, checks=checks)
    _check_ran_cleanly(TORCH_NOTEBOOK, notebook, workdir, seconds)
    text = _all_text(notebook)
    legends = next(line for line in text.splitlines() if " legends, covering: " in line)
    assert legends.endswith("covering: []") and not legends.startswith("0 "), legends
    assert "skipped" not in text
    # The notebook prints the largest relative difference to PyTorch float64 per curve.
    for label in ("our MLP (Value engine)", "NumPy loop (manual)"):
        line = next(line for line in text.splitlines() if line.startswith(label))
        assert float(line.split()[-1]) <= 1e-12, line


def test_pytorch_notebook_runs_without_torch_and_says_so(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _kernel_environment(monkeypatch, tmp_path)
    _hide_torch_in_kernel(tmp_path)
    notebook, workdir, _ = _execute(NOTEBOOK_DIR / TORCH_NOTEBOOK, tmp_path)
    text = _all_text(notebook)
    assert "PyTorch is not installed" in text
    assert "pip install torch==2.13.0" in text
    torch_cells = [cell for cell in notebook.cells if "print(SKIPPED)" in cell.source]
    assert len(torch_cells) >= 5, "the notebook no longer guards its torch cells"
    for cell in torch_cells:
        printed = "".join(o.text for o in cell.outputs if o.output_type == "stream")
        assert printed.startswith("(skipped: PyTorch is not installed"), cell.source
    assert "image/png" not in _count_displays(notebook)  # no empty plot
    # The last cell needs no torch and still runs.
    assert "twice the mean loss: True" in text
    assert _stderr(notebook) == ""
    assert list(workdir.iterdir()) == []


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_committed_without_outputs(name: str) -> None:
    path = NOTEBOOK_DIR / name
    notebook = _load(path)
    nbformat.validate(notebook)
    fix = "clear them: .venv/bin/python notebooks/clear_outputs.py"
    for index, cell in enumerate(notebook.cells):
        where = f"{name}, cell {index + 1}"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{where} has outputs; {fix}"
            assert cell.execution_count is None, f"{where} has an execution count; {fix}"
        extra = set(cell.metadata) - {"tags"}
        assert not extra, f"{where} has metadata {sorted(extra)}; {fix}"
    assert set(notebook.metadata) <= {"kernelspec", "language_info"}, (
        f"{name} has notebook metadata {sorted(notebook.metadata)}; {fix}"
    )
    assert set(notebook.metadata.get("language_info", {})) <= {"name"}, (
        f"{name}: language_info holds more than the language name; {fix}"
    )
    # The layout Jupyter writes (indent 1, sorted keys): a hand-edited file keeps diffs small.
    assert path.read_text(encoding="utf-8") == nbformat.writes(notebook) + "\n", (
        f"{name} is not in Jupyter's own layout; {fix}"
    )


def test_every_code_cell_follows_a_markdown_cell() -> None:
    """Each code cell is preceded by a markdown cell saying what it shows and why."""
    for path in _notebook_paths():
        cells = _load(path).cells
        assert cells[0].cell_type == "markdown", f"{path.name} must open with a markdown cell"
        for index, cell in enumerate(cells[1:], start=1):
            if cell.cell_type == "code":
                assert cells[index - 1].cell_type == "markdown", (
                    f"{path.name}, cell {index + 1}: a code cell after a code cell; "
                    "say what it shows in a markdown cell before it"
                )


def test_notebook_files_are_json_with_nbformat_4() -> None:
    for path in _notebook_paths():
        raw = json.loads(path.read_text(encoding="utf-8"))
        assert raw["nbformat"] == 4, path.name
