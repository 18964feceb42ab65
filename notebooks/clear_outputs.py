"""Clear what running a notebook adds, so it can be committed: outputs, counts, run metadata.

    .venv/bin/python notebooks/clear_outputs.py              every notebook in this folder
    .venv/bin/python notebooks/clear_outputs.py FILE.ipynb   just those

Keeps the cells' source and tags; removes outputs, execution counts, other cell metadata
(timings, collapsed/scrolled state) and notebook metadata other than the kernel and the
language name (Jupyter adds the Python version there). Writes the file in Jupyter's own
layout. tests/test_notebooks.py checks that every committed notebook is in this state.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

KEPT_CELL_METADATA = ("tags",)


def clear(notebook: nbformat.NotebookNode) -> None:
    """Strip `notebook` in place."""
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata = {
            key: cell.metadata[key] for key in KEPT_CELL_METADATA if key in cell.metadata
        }
    language = notebook.metadata.get("language_info", {}).get("name", "python")
    notebook.metadata = {
        "kernelspec": notebook.metadata.get(
            "kernelspec",
            {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        ),
        "language_info": {"name": language},
    }


def main(arguments: list[str]) -> int:
    paths = [Path(a) for a in arguments] or sorted(Path(__file__).parent.glob("*.ipynb"))
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            print(f"not a notebook file: {path}", file=sys.stderr)
            return 2
        before = path.read_text(encoding="utf-8")
        notebook = nbformat.reads(before, as_version=4)
        clear(notebook)
        after = nbformat.writes(notebook) + "\n"
        if after != before:
            path.write_text(after, encoding="utf-8")
            print(f"cleared {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
