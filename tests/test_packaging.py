"""The package as a user gets it: the wheel built, installed in a clean venv away from the
repository, and used there.

One test builds the wheel (pip wheel, hatchling in pip's own build environment), checks what
it ships (py.typed, the LICENSE that matches `license = "MIT"`, the page assets), installs it
with the testing extra into a new venv in a temporary folder, and from a folder with nothing
of ours in it runs `tinygrad-xor train`, `tinygrad-xor graph --html ...` and
`import tinygrad_xor.testing`. Then mypy, pointed at that venv, reads our types from the
installed package: a user's wrong annotation is reported, which needs py.typed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
# A user's module with one wrong annotation: mypy can only see it with our types.
USER_MODULE = """\
from tinygrad_xor import Value

y = Value(2.0, "y") * 3.0
label: int = y.data
"""


def run(command: list[str], cwd: Path, environment: dict[str, str]) -> str:
    """Run a command; its output, or a failure that shows it."""
    done = subprocess.run(
        command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, f"{command} ended {done.returncode}:\n{done.stdout}{done.stderr}"
    return done.stdout


def test_the_wheel_installs_in_a_clean_venv_and_works_there(tmp_path: Path) -> None:
    # Nothing of the repository's environment: no venv, no path to our sources.
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    wheels = tmp_path / "wheels"
    run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), "."],
        REPOSITORY,
        environment,
    )
    (wheel,) = wheels.glob("tinygrad_xor-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
        license_name = next(n for n in names if n.endswith(".dist-info/licenses/LICENSE"))
        license_text = archive.read(license_name).decode("utf-8")
    assert "tinygrad_xor/py.typed" in names
    assert {"tinygrad_xor/web/backprop.js", "tinygrad_xor/testing/__init__.py"} <= names
    assert b"License-Expression: MIT" in metadata
    assert license_text.startswith("MIT License\n")
    assert "Copyright (c) 2026 the tinygrad_xor authors" in license_text

    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path, environment)
    python, command = venv / "bin" / "python", venv / "bin" / "tinygrad-xor"
    run(
        [str(python), "-m", "pip", "install", "--quiet", f"{wheel}[testing]"], tmp_path, environment
    )

    elsewhere = tmp_path / "elsewhere"  # a user's folder: nothing of ours in it
    elsewhere.mkdir()
    where = run(
        [str(python), "-c", "import tinygrad_xor; print(tinygrad_xor.__file__)"],
        elsewhere,
        environment,
    )
    assert Path(where.strip()).is_relative_to(venv), where
    trained = run([str(command), "train"], elsewhere, environment)
    assert re.search(r"solved", trained), trained
    drawn = run(
        [str(command), "graph", "--sample", "1", "--out", "g.svg", "--html", "page.html"],
        elsewhere,
        environment,
    )
    assert (elsewhere / "g.svg").stat().st_size > 0 and (
        elsewhere / "page.html"
    ).stat().st_size > 0, drawn
    testing = run(
        [
            str(python),
            "-c",
            "import tinygrad_xor.testing as t; print(t.assert_gradients_match.__name__)",
        ],
        elsewhere,
        environment,
    )
    assert testing.strip() == "assert_gradients_match"

    # The user's mypy sees our types (py.typed): their wrong annotation is an error.
    (elsewhere / "user.py").write_text(USER_MODULE, encoding="utf-8")
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--python-executable",
            str(python),
            "--no-incremental",
            "user.py",
        ],
        cwd=elsewhere,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert (
        'Incompatible types in assignment (expression has type "float", variable has type "int")'
        in checked.stdout
    ), checked.stdout
    assert "missing library stubs or py.typed marker" not in checked.stdout
