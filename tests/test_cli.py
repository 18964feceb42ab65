"""`tinygrad-xor train`: table, JSON, exit codes, plots, model files, progress bar."""

from __future__ import annotations

import inspect
import json
import os
import re
import stat
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from special_files import deadline, device, fifo

from tinygrad_xor import cli
from tinygrad_xor.atomic import TargetError
from tinygrad_xor.checkpoint import MAX_FILE_BYTES, load_model, save_model
from tinygrad_xor.cli import main
from tinygrad_xor.data import XOR
from tinygrad_xor.engine import topological_order
from tinygrad_xor.nn import MLP
from tinygrad_xor.train import sample_loss

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Fewer epochs than the default keep these tests fast; 600 still solves XOR for seed 0.
FAST = ["--epochs", "600"]


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, object]:
    assert main(["train", *argv, "--json"]) == 0
    out = capsys.readouterr().out
    document = json.loads(out)
    assert isinstance(document, dict)
    return document


def test_default_run_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train"]) == 0
    assert capsys.readouterr() == (  # stderr is not a terminal here: no progress bar
        "XOR: 2-5-1 MLP (sigmoid hidden, sigmoid output, biases, torch init, seed 0)\n"
        "trained 2000 epochs: SGD lr 0.3 momentum 0.9, loss mse\n"
        "\n"
        "x1  x2  target  prediction  right?\n"
        " 0   0       0    0.022572     yes\n"
        " 0   1       1    0.974875     yes\n"
        " 1   0       1    0.983508     yes\n"
        " 1   1       0    0.023176     yes\n"
        "\n"
        "final loss: 0.000487481 (mse)\n"
        "solved: all 4 right (first at epoch 419)\n",
        "",
    )


def test_json_has_the_promised_keys(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(capsys, *FAST, "--seed", "3")
    for key in ("final_loss", "predictions", "solved", "first_solved_epoch", "epochs", "seed"):
        assert key in result
    predictions = result["predictions"]
    assert isinstance(predictions, list) and len(predictions) == 4
    assert all(isinstance(p, float) for p in predictions)
    assert result["epochs"] == 600 and result["seed"] == 3
    assert isinstance(result["solved"], bool)
    first = result["first_solved_epoch"]
    assert first is None or isinstance(first, int)
    # solved means every prediction on the right side of 0.5
    targets = result["targets"]
    assert isinstance(targets, list)
    right = [(p > 0.5) == (t > 0.5) for p, t in zip(predictions, targets, strict=True)]
    assert result["solved"] == all(right)


def test_same_options_same_result(capsys: pytest.CaptureFixture[str]) -> None:
    first = run_json(capsys, "--epochs", "50", "--seed", "7")
    second = run_json(capsys, "--epochs", "50", "--seed", "7")
    assert first == second


def test_options_reach_the_training(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(
        capsys,
        "--hidden", "4,3", "--activation", "tanh", "--init", "xavier", "--no-bias",
        "--loss", "bce", "--lr", "0.5", "--momentum", "0", "--epochs", "30",
        "--dataset", "and", "--seed", "2",
    )  # fmt: skip
    assert result["hidden"] == [4, 3]
    assert result["activation"] == "tanh"
    assert result["init"] == "xavier"
    assert result["bias"] is False
    assert result["loss"] == "bce"
    assert result["lr"] == 0.5 and result["momentum"] == 0.0
    assert result["dataset"] == "and" and result["targets"] == [0.0, 0.0, 0.0, 1.0]


def test_target_loss_stops_early(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(capsys, "--target-loss", "0.01")
    assert result["stopped_early"] is True
    final_loss = result["final_loss"]
    epochs = result["epochs"]
    assert isinstance(final_loss, float) and final_loss <= 0.01
    assert isinstance(epochs, int) and epochs < 2000


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--lr", "0"], "argument --lr: expected a finite number > 0, got 0.0."),
        (["--lr", "-0.1"], "argument --lr: expected a finite number > 0, got -0.1."),
        # text that is not a number at all: the message quotes it
        (["--lr", "abc"], "argument --lr: expected a finite number > 0, got str 'abc'."),
        (["--hidden", "0"], "argument --hidden: expected a whole number >= 1, got 0."),
        (["--hidden", "5,0"], "argument --hidden: expected a whole number >= 1, got 0."),
        (
            ["--activation", "swish"],
            "argument --activation: invalid choice: 'swish' "
            "(choose from 'sigmoid', 'tanh', 'relu', 'linear')",
        ),
        (
            ["--loss", "hinge"],
            "argument --loss: invalid choice: 'hinge' "
            "(choose from 'mse', 'mse_sum', 'mse_half_sum', 'bce')",
        ),
        (["--epochs", "0"], "argument --epochs: expected a whole number >= 1, got 0."),
        (["--epochs", "-3"], "argument --epochs: expected a whole number >= 1, got -3."),
        (["--epochs", "many"], "argument --epochs: expected a whole number >= 1, got str 'many'."),
        (["--momentum", "1"], "argument --momentum: expected in [0, 1), got 1.0."),
        (
            ["--init", "zeros"],
            "argument --init: invalid choice: 'zeros' (choose from 'torch', 'uniform01', 'xavier')",
        ),
        (
            ["--dataset", "nor"],
            "argument --dataset: invalid choice: 'nor' (choose from 'xor', 'and', 'or', 'nand')",
        ),
        (
            ["--target-loss", "-1"],
            "argument --target-loss: expected a finite number >= 0, got -1.0.",
        ),
        (
            ["--loss", "bce", "--output-activation", "linear"],
            "argument --loss: bce needs outputs in [0, 1], i.e. --output-activation sigmoid; "
            "the output activation is linear. Use --loss mse instead.",
        ),
    ],
)
def test_bad_options_exit_2_with_a_line_naming_the_option_and_what_it_allows(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    assert main(["train", *argv]) == 2
    captured = capsys.readouterr()
    assert captured.err.splitlines()[-1] == f"tinygrad-xor train: error: {says}"
    assert captured.out == ""


@pytest.mark.parametrize("command", ["train", "graph"])
def test_bce_without_a_sigmoid_output_is_refused_saying_what_to_use(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: str
) -> None:
    # train and graph share the refusal: the option, the reason, the output given, the fix.
    out = ["--out", str(tmp_path / "g.svg")] if command == "graph" else []
    argv = [command, "--loss", "bce", "--output-activation", "tanh", *out]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"tinygrad-xor {command}: error: argument --loss: bce needs outputs in [0, 1], i.e. "
        "--output-activation sigmoid; the output activation is tanh. Use --loss mse instead.\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_non_finite_loss_fails_naming_the_epoch_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    save_path = tmp_path / "model.json"
    plot_dir = tmp_path / "plots"
    status = main(
        [
            "train", "--activation", "relu", "--output-activation", "linear",
            "--lr", "1000", "--epochs", "200",
            "--save", str(save_path), "--plot", str(plot_dir),
        ]
    )  # fmt: skip
    assert status == 1
    # the epoch is the count of updates made, and the rate is the one given, then a tenth of it
    assert capsys.readouterr().err == (
        "tinygrad-xor train: error: the loss became inf at epoch 46 (after 46 updates with "
        "--lr 1000): training diverged. Try a smaller learning rate, e.g. --lr 100. Nothing was "
        "written.\n"
    )
    assert not save_path.exists()
    assert not plot_dir.exists()


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data[-8:-4] == b"IEND"  # complete: the file ends with the IEND chunk
    return width, height


def test_plot_writes_two_valid_pngs(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plot_dir = tmp_path / "new" / "plots"  # made if missing
    assert main(["train", *FAST, "--plot", str(plot_dir)]) == 0
    out = capsys.readouterr().out
    # at 100 dpi: 10 x 4 inches (linear and log side by side), 5.5 x 4.8 (the square and
    # its colour bar)
    for name, size in (("loss.png", (1000, 400)), ("decision_boundary.png", (550, 480))):
        assert png_size(plot_dir / name) == size
    assert out.splitlines()[-2:] == [
        f"wrote {plot_dir / 'loss.png'}",
        f"wrote {plot_dir / 'decision_boundary.png'}",
    ]
    image = pytest.importorskip("matplotlib.image", reason="decodes the PNG")
    pixels = image.imread(plot_dir / "decision_boundary.png")
    assert pixels.shape[0] > 300 and pixels.std() > 0.05  # a picture, not a blank page


def test_save_then_load_continues_from_the_saved_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "model.json"
    saved = run_json(capsys, *FAST, "--hidden", "3", "--save", str(path))
    document = json.loads(path.read_text())
    assert document["architecture"]["sizes"] == [3, 1]
    assert document["metadata"]["final_loss"] == saved["final_loss"]
    # --load rebuilds the 2-3-1 network from the file: no model options needed
    resumed = run_json(capsys, "--epochs", "1", "--load", str(path))
    assert resumed["hidden"] == [3]
    assert resumed["initial_loss"] == saved["final_loss"]
    assert resumed["loaded_from"] == str(path)


def test_the_plots_are_labelled_with_the_gate_network_loss_and_rate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinygrad_xor import plots

    labels: list[object] = []
    real = plots.write_training_plots

    def recording(*args: object, **kwargs: object) -> list[Path]:
        labels.append(kwargs.get("label"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(plots, "write_training_plots", recording)
    argv = ["--dataset", "and", "--hidden", "3", "--loss", "bce", "--lr", "2", "--epochs", "5"]
    assert main(["train", *argv, "--plot", str(tmp_path)]) == 0
    assert labels == ["AND, 2-3-1, bce, lr 2"]  # the rate as given: 2, not the float's 2.0


def test_manual_diagnose_looks_at_the_first_and_the_last_epoch(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["manual", "--variant", "attempt1", "--epochs", "20", "--diagnose"]) == 0
    moments = [line.split(" (")[0] for line in capsys.readouterr().out.splitlines()]
    assert [m for m in moments if m.startswith("after ")] == ["after 0 epochs", "after 20 epochs"]


def model_file_bytes(path: Path) -> bytes:
    save_model(MLP(2, [5, 1], seed=0), path)
    return path.read_bytes()


def test_load_errors_exit_1_and_change_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    keep = tmp_path / "keep.json"
    keep_bytes = model_file_bytes(keep)

    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"format": "tinygrad_xor.mlp", "version": 1, "sta')
    mismatched = tmp_path / "mismatched.json"
    document = json.loads(keep_bytes)
    document["state"] = MLP(2, [3, 1]).state_dict()  # architecture says 5 hidden
    mismatched.write_text(json.dumps(document))
    missing = ", ".join(
        repr(f"layers.0.neurons.{n}.{p}")
        for n, p in [
            (3, "weight.0"),
            (3, "weight.1"),
            (3, "bias"),
            (4, "weight.0"),
            (4, "weight.1"),
        ]
    )
    cases = [
        (tmp_path / "missing.json", "no such file. Save one first with --save."),
        (
            corrupt,
            "not valid JSON (Unterminated string starting at: line 1 column 46 (char 45)); "
            "the file is damaged or not a model file.",
        ),
        (
            mismatched,
            "the parameters do not fit its architecture: 13 parameters for a network of 21; "
            f"missing [{missing}, ...], unexpected []. Was it saved from a model with other "
            "sizes or bias setting?",
        ),
    ]
    for path, message in cases:
        before = path.read_bytes() if path.exists() else None
        status = main(["train", *FAST, "--load", str(path), "--save", str(keep)])
        assert status == 1, path
        assert capsys.readouterr().err == f"tinygrad-xor train: error: {path}: {message}\n"
        assert keep.read_bytes() == keep_bytes  # --save never ran
        assert (path.read_bytes() if path.exists() else None) == before


def test_load_with_options_that_disagree_with_the_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "model.json"
    model_file_bytes(path)  # a 2-5-1 sigmoid network with biases
    assert main(["train", "--load", str(path), "--hidden", "8", "--no-bias"]) == 1
    assert capsys.readouterr().err == (
        f"tinygrad-xor train: error: {path} holds a 2-5-1 network, and --load rebuilds it from "
        "the file; these options disagree with it: --hidden 8 (the file has 5); --no-bias (the "
        "file has biases). Drop them.\n"
    )
    # options that agree with the file are fine
    assert main(["train", "--epochs", "1", "--load", str(path), "--hidden", "5", "--json"]) == 0


def test_each_disagreement_with_a_loaded_file_is_named_in_the_options_words(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "model.json"
    save_model(MLP(2, [1], bias=False, seed=3), path)  # no hidden layer, no biases, seed 3
    argv = ["--hidden", "5", "--bias", "--activation", "tanh", "--output-activation", "relu"]
    assert main(["train", "--load", str(path), *argv, "--seed", "4", "--init", "xavier"]) == 1
    err = capsys.readouterr().err
    start = (
        f"tinygrad-xor train: error: {path} holds a 2-1 network, and --load rebuilds it from "
        "the file; these options disagree with it: "
    )
    assert err.startswith(start) and err.endswith(". Drop them.\n")
    assert set(err[len(start) : -len(". Drop them.\n")].split("; ")) == {
        "--hidden 5 (the file has no hidden layer)",
        "--bias (the file has no biases)",
        "--activation tanh (the file has sigmoid)",
        "--output-activation relu (the file has sigmoid)",
        "--seed 4 (the file has 3)",
        "--init xavier (the file has torch)",
    }


@pytest.mark.parametrize(("model", "shape"), [(MLP(3, [5, 1]), "3-5-1"), (MLP(2, [5, 2]), "2-5-2")])
def test_load_of_a_model_that_does_not_fit_the_dataset_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, model: MLP, shape: str
) -> None:
    path = tmp_path / "model.json"
    save_model(model, path)
    assert main(["train", "--load", str(path), "--epochs", "1"]) == 1
    assert capsys.readouterr().err == (
        f"tinygrad-xor train: error: {path} holds a {shape} network; dataset 'xor' needs "
        "2 inputs and 1 output.\n"
    )


def test_unwritable_outputs_fail_before_training(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    missing_dir = tmp_path / "no" / "such" / "model.json"
    assert main(["train", "--save", str(missing_dir)]) == 1
    assert capsys.readouterr() == (
        "",
        f"tinygrad-xor train: error: --save {missing_dir}: the directory {missing_dir.parent} "
        "does not exist; create it first.\n",
    )
    a_file = tmp_path / "file.txt"
    a_file.write_text("not a directory")
    assert main(["train", "--plot", str(a_file)]) == 1
    assert capsys.readouterr() == (
        "",
        f"tinygrad-xor train: error: --plot {a_file} is a file; give a directory.\n",
    )
    below = a_file / "plots"  # refused, not trained for and then not written
    assert main(["train", "--plot", str(below)]) == 1
    assert capsys.readouterr() == (
        "",
        f"tinygrad-xor train: error: --plot cannot write {below}: {a_file} is a file, "
        "not a folder.\n",
    )
    assert main(["train", "--save", str(tmp_path)]) == 1
    assert capsys.readouterr() == (
        "",
        f"tinygrad-xor train: error: --save {tmp_path} is a directory; give a file name.\n",
    )
    assert a_file.read_text() == "not a directory"


def test_save_is_atomic_when_the_write_fails(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.json"
    old_bytes = model_file_bytes(path)

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("no space left on device (simulated)")

    monkeypatch.setattr(os, "replace", failing_replace)
    assert main(["train", "--epochs", "5", "--save", str(path)]) == 1
    assert capsys.readouterr().err == (
        f"tinygrad-xor train: error: could not save the model to {path}: "
        "no space left on device (simulated)\n"
    )
    assert path.read_bytes() == old_bytes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]  # no temp file left


def test_progress_bar_only_on_a_terminal_and_not_with_quiet(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["train", "--epochs", "300", "--json"]) == 0
    captured = capsys.readouterr()
    assert "training" in captured.err and "/300" in captured.err
    json.loads(captured.out)  # stdout is still exactly one JSON object

    assert main(["train", "--epochs", "300", "--quiet"]) == 0
    assert capsys.readouterr().err == ""


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_xor", "train", "--epochs", "5", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["epochs"] == 5
    bad = subprocess.run(
        [sys.executable, "-m", "tinygrad_xor", "train", "--lr", "0"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[-1] == (
        "tinygrad-xor train: error: argument --lr: expected a finite number > 0, got 0.0."
    )


@pytest.mark.parametrize("command", ["train", "manual", "graph"])
def test_each_default_the_help_names_is_the_one_a_run_gets(command: str) -> None:
    # "(default: 0.3)" in --help is a promise: the value a run uses when the option is absent
    # (a model option parses to None, then takes the model's default).
    subcommands = cli._parser()._subparsers._group_actions[0]  # type: ignore[union-attr]
    parser = subcommands.choices[command]
    args = parser.parse_args([])
    used = vars(args) | (cli._model_settings(args) if command != "manual" else {})

    def as_help_says(value: object) -> str:
        if isinstance(value, bool):
            return "on" if value else "off"
        return f"{value:g}" if isinstance(value, float) else str(value)

    named = {}
    for action in parser._actions:
        said = re.search(r"\(default: ([^)]*)\)$", action.help or "")
        if said and used[action.dest] is not None:
            named[action.dest] = said.group(1)
    assert len(named) >= 3  # every subcommand names some
    assert named == {dest: as_help_says(used[dest]) for dest in named}


def test_manual_says_why_torch_init_and_seed_cannot_go_together(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # torch.manual_seed(42) draws the weights, so --seed 3 would be ignored: refused, exit 2.
    assert main(["manual", "--torch-init", "42", "--seed", "3", "--epochs", "5"]) == 2
    assert capsys.readouterr().err == (
        "tinygrad-xor manual: error: argument --seed: not allowed with argument --torch-init: "
        "the weights (with biases) come from torch.manual_seed(SEED). Drop one of them.\n"
    )


def test_command_errors_are_their_own_kind_and_a_usage_error_is_one() -> None:
    # docs/api.md: a UsageError is a CommandError; neither is a built-in error, so a caller's
    # `except ValueError` or `except OSError` (a bug, a disk) never takes one for the other.
    assert cli.CommandError.__mro__ == (cli.CommandError, Exception, BaseException, object)
    assert cli.UsageError.__mro__[1:] == cli.CommandError.__mro__


def test_help_and_missing_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "train" in capsys.readouterr().out
    assert main([]) == 2
    assert capsys.readouterr().err == (
        "usage: tinygrad-xor [-h] COMMAND ...\n"
        "tinygrad-xor: error: the following arguments are required: COMMAND\n"
    )


def test_saturated_outputs_get_the_advice_to_lower_the_learning_rate(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["train", "--lr", "100", "--momentum", "0.99", "--epochs", "300"]) == 0
    assert capsys.readouterr().out.splitlines()[-2:] == [
        "final loss: 0.5 (mse)",
        "not solved: 2 of 4 right, and every output is stuck near 0 or 1 (saturated units learn "
        "almost nothing). Try a smaller --lr or --momentum.",
    ]


@pytest.mark.parametrize("buffered", [True, False], ids=["buffered", "PYTHONUNBUFFERED"])
@pytest.mark.parametrize(
    "argv",
    [["manual", "--compare", "--epochs", "100"], ["train", "--epochs", "100"]],
    ids=["manual", "train"],
)
def test_a_closed_pipe_ends_quietly_with_exit_1(argv: list[str], buffered: bool) -> None:
    # `tinygrad-xor manual --compare | head -0`: the reader has gone before the first
    # line is written (the runs take a moment), so that write meets a closed pipe. With
    # stdout buffered (a pipe's usual), the write comes at the end, when it is flushed.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    writer = subprocess.Popen(
        [sys.executable, "-m", "tinygrad_xor", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env if buffered else {**env, "PYTHONUNBUFFERED": "1"},
    )
    assert writer.stdout is not None and writer.stderr is not None
    writer.stdout.close()
    err = writer.stderr.read()
    assert writer.wait() == 1  # the output did not get through: the run failed
    assert err == b""  # no traceback, no "Exception ignored", no BrokenPipeError


def _disk_full(*args: object, **kwargs: object) -> list[Path]:
    """A writer of the plots or the page, on a full disk."""
    raise OSError("disk full (simulated)")


def test_failing_plots_and_page_do_not_lose_the_trained_model(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinygrad_xor import plots
    from tinygrad_xor.training_view import TrainingSnapshots

    monkeypatch.setattr(plots, "write_training_plots", _disk_full)
    monkeypatch.setattr(TrainingSnapshots, "write", _disk_full)
    path, page = tmp_path / "model.json", tmp_path / "page.html"
    argv = ["--save", str(path), "--plot", str(tmp_path / "plots"), "--html", str(page)]
    assert main(["train", *FAST, *argv]) == 1
    captured = capsys.readouterr()
    assert captured.err == (  # each failure, in the order of the outputs
        f"tinygrad-xor train: error: could not write the plots into {tmp_path / 'plots'}: "
        f"disk full (simulated); could not write {page}: disk full (simulated) (the model was "
        f"saved to {path})\n"
    )
    assert captured.out.splitlines()[-1] == f"wrote {path}"  # the result is printed too
    model, metadata = load_model(path)
    assert metadata["epochs"] == 600 and model.sizes == [5, 1]


def test_a_model_saved_to_a_path_written_with_dot_slash_is_said_to_be_saved(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tinygrad_xor import plots

    monkeypatch.setattr(plots, "write_training_plots", _disk_full)
    monkeypatch.chdir(tmp_path)
    assert main(["train", *FAST, "--save", "./model.json", "--plot", "plots"]) == 1
    assert capsys.readouterr().err == (  # "./model.json" as typed, though it was written as is
        "tinygrad-xor train: error: could not write the plots into plots: disk full "
        "(simulated) (the model was saved to ./model.json)\n"
    )
    assert load_model(tmp_path / "model.json")[1]["epochs"] == 600


# a full disk, or the path turned into a folder while the model trained (TargetError)
@pytest.mark.parametrize("error", [OSError, TargetError])
def test_a_failing_save_still_writes_the_plots_and_reports_both(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    error: type[Exception],
) -> None:
    def failing_save(*args: object, **kwargs: object) -> None:
        raise error("no space left on device (simulated)")

    monkeypatch.setattr(cli, "save_model", failing_save)
    plot_dir = tmp_path / "plots"
    save = tmp_path / "model.json"
    assert main(["train", "--epochs", "5", "--save", str(save), "--plot", str(plot_dir)]) == 1
    captured = capsys.readouterr()
    assert captured.err == (  # and not "(the model was saved to ...)"
        f"tinygrad-xor train: error: could not save the model to {save}: "
        "no space left on device (simulated)\n"
    )
    assert captured.out.splitlines()[-2:] == [
        f"wrote {plot_dir / 'loss.png'}",
        f"wrote {plot_dir / 'decision_boundary.png'}",
    ]
    assert not save.exists()
    png_size(plot_dir / "loss.png")
    png_size(plot_dir / "decision_boundary.png")


def test_an_output_that_is_not_a_sigmoid_is_never_called_saturated(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # A linear output far above 1 (the output bias is 5): wrong, but not saturated.
    model = MLP(2, [5, 1], output_activation="linear", seed=0)
    model.layers[1].neurons[0].b.data = 5.0  # type: ignore[union-attr]
    path = tmp_path / "linear.json"
    save_model(model, path)
    assert main(["train", "--load", str(path), "--epochs", "1", "--lr", "1e-9"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = [line.split() for line in lines if line.lstrip().startswith(("0 ", "1 "))]
    predictions = [float(row[3]) for row in rows]
    assert len(predictions) == 4 and all(p > 2.0 for p in predictions)
    advice = "not solved: 2 of 4 right. Try more --epochs, another --seed, or a larger --lr."
    assert lines[-1] == advice


def test_load_of_a_number_too_large_for_a_float_exits_1(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "huge.json"
    document = json.loads(model_file_bytes(path))
    document["state"]["layers.1.neurons.0.bias"] = 10**400
    path.write_text(json.dumps(document))
    before = path.read_bytes()
    save = tmp_path / "out.json"
    assert main(["train", "--load", str(path), "--save", str(save)]) == 1
    assert capsys.readouterr().err == (  # one line: no traceback
        f"tinygrad-xor train: error: {path}: corrupt state: 'layers.1.neurons.0.bias' must be a "
        "finite number, got a whole number of about 10**400, too large for a float.\n"
    )
    assert path.read_bytes() == before and not save.exists()


def test_model_option_defaults_are_mlps_own() -> None:
    # _MODEL_DEFAULTS spells MLP's defaults out (the options parse to None when not
    # given); "hidden" has none in MLP (sizes is required): the learner's 5.
    mlp_defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(MLP).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }
    cli_defaults = dict(cli._MODEL_DEFAULTS)
    assert cli_defaults.pop("hidden") == [5]
    assert cli_defaults == mlp_defaults


# -- model files: symlinks, permissions, special files ------------------------------


def no_training(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, a call to train fails the test: the command must stop before it."""

    def must_not_train(*args: object, **kwargs: object) -> None:
        raise AssertionError("train ran: the bad path was not refused first")

    monkeypatch.setattr(cli, "train", must_not_train)


def directory(path: Path) -> Path:
    path.mkdir()
    return path


def test_save_through_a_symlink_updates_its_target_and_keeps_the_link_and_permissions(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    target = models / "real.json"
    old_bytes = model_file_bytes(target)
    target.chmod(0o600)
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert main(["train", "--epochs", "5", "--save", str(link)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"wrote {link}"  # the path given
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() != old_bytes
    _, metadata = load_model(target)
    assert metadata["epochs"] == 5
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in models.iterdir()) == ["real.json"]  # no temporary file


@pytest.mark.parametrize(("make", "kind"), [(fifo, "a FIFO"), (device, "a device")])
def test_save_onto_a_special_file_is_refused_before_training(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[Path], Path],
    kind: str,
) -> None:
    path = make(tmp_path / "model.json")
    mode = path.stat().st_mode
    no_training(monkeypatch)
    with deadline(10):
        assert main(["train", "--save", str(path)]) == 1
    assert capsys.readouterr().err == (
        f"tinygrad-xor train: error: --save {path} is {kind}; give the path of a regular file.\n"
    )
    assert path.stat().st_mode == mode  # still the special file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]


@pytest.mark.parametrize(
    ("make", "refusal"),
    [
        (fifo, "is a FIFO, not a file to read"),
        (device, "is a device, not a file to read"),
        (directory, "is a directory, not a file to read"),
    ],
    ids=["FIFO", "device", "directory"],
)
def test_load_of_a_special_file_exits_1_without_blocking(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[Path], Path],
    refusal: str,
) -> None:
    path = make(tmp_path / "model.json")
    no_training(monkeypatch)
    with deadline(10):  # a FIFO with no writer must not be waited on
        assert main(["train", "--load", str(path)]) == 1
    assert capsys.readouterr().err == (  # one line: no traceback
        f"tinygrad-xor train: error: {path} {refusal}. A model file is a small JSON file.\n"
    )


def test_load_of_a_file_over_the_size_limit_exits_1_before_reading_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "huge.json"
    with path.open("wb") as file:  # sparse: the size without the bytes
        file.truncate(MAX_FILE_BYTES + 1)
    no_training(monkeypatch)
    assert main(["train", "--load", str(path)]) == 1
    assert capsys.readouterr().err == (  # one line: no traceback
        f"tinygrad-xor train: error: {path} is {MAX_FILE_BYTES + 1} bytes, more than the "
        f"{MAX_FILE_BYTES} a file may have. A model file is a small JSON file.\n"
    )


def test_a_diverged_model_prints_its_table_writes_its_plots_and_refuses_the_save(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # lr 1e308 drives a weight to -inf while the loss stays finite (2 with mse_sum).
    save, plots = tmp_path / "m.json", tmp_path / "p"
    argv = ["train", "--lr", "1e308", "--loss", "mse_sum", "--epochs", "30"]
    assert main([*argv, "--save", str(save), "--plot", str(plots)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-4:] == [  # the table, then the plots written
        "final loss: 2 (mse_sum)",
        "not solved: 2 of 4 right, and every output is stuck near 0 or 1 (saturated units learn "
        "almost nothing). Try a smaller --lr or --momentum.",
        f"wrote {plots / 'loss.png'}",
        f"wrote {plots / 'decision_boundary.png'}",
    ]
    assert sorted(p.name for p in plots.iterdir()) == ["decision_boundary.png", "loss.png"]
    assert captured.err == (  # one line: no traceback
        f"tinygrad-xor train: error: could not save the model to {save}: layers.1.neurons.0.bias "
        "is -inf: a model whose parameters are not all finite is not saved (training diverged: "
        "try a smaller learning rate).\n"
    )
    assert not save.exists()


@pytest.mark.parametrize(
    ("seed", "got"), [("-1", "-1"), ("1.5", "str '1.5'"), ("abc", "str 'abc'")]
)
def test_a_seed_that_is_not_a_whole_number_from_0_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], seed: str, got: str
) -> None:
    assert main(["train", "--seed", seed]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"tinygrad-xor train: error: argument --seed: expected a whole number >= 0, got {got}."
    )


# -- graph: too large to draw ---------------------------------------------------------


def graph_values(hidden: int, samples: list[int] | None = None) -> int:
    """The Values in the graph of a 2-hidden-1 network's XOR loss, counted node by node."""
    return len(topological_order(sample_loss(MLP(2, [hidden, 1]), XOR, "mse", samples)))


@pytest.mark.parametrize("max_nodes", [19, 20, 21, 30, 31])
def test_a_graph_too_large_is_refused_saying_what_fits(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, max_nodes: int
) -> None:
    # The default 2-5-1 network: 21 parameters by hand, refused from its sizes below that;
    # from 21 up, refused once drawn. What fits: one sample, the most hidden units that fit.
    parameters = (2 + 1) * 5 + (5 + 1) * 1
    if max_nodes < parameters:
        count = f"at least {parameters} Values (its parameters alone)"
    else:
        count = f"{graph_values(5)} Values"
    widest = max((w for w in range(1, 6) if graph_values(w, [0]) <= max_nodes), default=0)
    fits = f"--sample 1 with --hidden {widest} or fewer" if widest else "not one hidden unit"
    assert main(["graph", "--max-nodes", str(max_nodes), "--out", str(tmp_path / "g.svg")]) == 1
    assert capsys.readouterr().err == (
        f"tinygrad-xor graph: error: the graph has {count}, more than --max-nodes {max_nodes}: "
        f"too dense to read. What fits: {fits}; or raise --max-nodes (at most 1000).\n"
    )
    assert list(tmp_path.iterdir()) == []


# -- out of memory -------------------------------------------------------------------


# The child limits its own address space, then runs the command as `python -m` would.
LIMITED = """
import resource, runpy, sys
limit = int(sys.argv.pop(1)) << 20
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
runpy.run_module("tinygrad_xor", run_name="__main__", alter_sys=True)
"""


def run_with_memory(megabytes: int, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run `tinygrad-xor argv` in a child that may have `megabytes` of address space."""
    return subprocess.run(
        [sys.executable, "-c", LIMITED, str(megabytes), *argv],
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},  # one thread's buffers, not one a core
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("megabytes", "argv", "hidden"),
    [
        (100, ["train", "--epochs", "1", "--quiet"], "10000000"),  # MemoryError, while building
        (300, ["manual", "--epochs", "1"], "100000000"),  # numpy's _ArrayMemoryError
    ],
    ids=["train", "manual"],
)
def test_out_of_memory_ends_in_one_line_and_exit_1(
    megabytes: int, argv: list[str], hidden: str
) -> None:
    fits = run_with_memory(megabytes, *argv)  # the limit leaves room for a usual run
    assert fits.returncode == 0, fits.stderr
    too_big = run_with_memory(megabytes, *argv, "--hidden", hidden)
    assert too_big.returncode == 1 and too_big.stdout == ""
    (line,) = too_big.stderr.splitlines()
    assert line.startswith(f"tinygrad-xor {argv[0]}: error: out of memory")
    assert line.endswith("the sizes asked for need more than there is. Try a smaller --hidden.")


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (MemoryError(), ""),
        (MemoryError("Unable to allocate 8.00 GiB"), " (Unable to allocate 8.00 GiB)"),
    ],
    ids=["Python's, empty", "numpy's, with the size"],
)
def test_out_of_memory_says_how_much_was_asked_only_when_it_is_known(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    error: MemoryError,
    said: str,
) -> None:
    def out_of_memory(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(cli, "train", out_of_memory)
    assert main(["train", "--epochs", "3"]) == 1
    assert capsys.readouterr().err == (
        f"tinygrad-xor train: error: out of memory{said}: the sizes asked for need more than "
        "there is. Try a smaller --hidden.\n"
    )


# -- the user's fault, or ours --------------------------------------------------------


@pytest.mark.parametrize(
    "bug", [ZeroDivisionError("float division by zero"), ImportError("cannot import name 'x'")]
)
def test_a_bug_of_ours_surfaces_as_a_bug_not_as_a_failed_run(
    monkeypatch: pytest.MonkeyPatch, bug: Exception
) -> None:
    def buggy(*args: object, **kwargs: object) -> None:
        raise bug

    monkeypatch.setattr(cli, "train", buggy)
    with pytest.raises(type(bug)):  # a traceback to report, not "error: ..." and exit 1
        main(["train", "--epochs", "3"])


def test_a_bug_in_a_writer_surfaces_too_while_a_refused_model_is_a_failed_write(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from tinygrad_xor import plots

    def buggy_plots(*args: object, **kwargs: object) -> None:
        raise ValueError("a bug in a plot")

    monkeypatch.setattr(plots, "write_training_plots", buggy_plots)
    with pytest.raises(ValueError, match="a bug in a plot"):
        main(["train", "--epochs", "3", "--plot", str(tmp_path)])
    # What the writers refuse for a reason the user can fix is still a failed write (exit 1):
    # test_a_diverged_model_prints_its_table_writes_its_plots_and_refuses_the_save.


def test_a_diverged_manual_run_is_the_users_to_fix_and_exits_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tinygrad_xor import manual

    def diverged(*args: object, **kwargs: object) -> None:
        raise FloatingPointError(
            "the loss became inf at epoch 3 (correct, lr 50); try a smaller lr."
        )

    monkeypatch.setattr(manual, "train", diverged)
    assert main(["manual", "--lr", "50"]) == 1
    assert capsys.readouterr().err == (
        "tinygrad-xor manual: error: the loss became inf at epoch 3 (correct, lr 50); try a "
        "smaller lr. Nothing was written.\n"
    )


def test_a_loaded_run_says_in_its_first_line_which_file_it_continued(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "model.json"
    model_file_bytes(path)  # a 2-5-1 sigmoid network with biases, seed 0
    assert main(["train", "--epochs", "1", "--load", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        "XOR: 2-5-1 MLP (sigmoid hidden, sigmoid output, biases, torch init, seed 0), "
        f"loaded from {path}",
        "trained 1 epochs: SGD lr 0.3 momentum 0.9, loss mse",
    ]
    assert main(["train", "--epochs", "1"]) == 0  # a new network names no file
    assert capsys.readouterr().out.splitlines()[0] == (
        "XOR: 2-5-1 MLP (sigmoid hidden, sigmoid output, biases, torch init, seed 0)"
    )


@pytest.mark.parametrize("epochs", ["600", "5"])
def test_the_loss_plot_marks_the_epoch_the_summary_says_was_first_solved(
    epochs: str, capsys: pytest.CaptureFixture[str], tmp_path: Path, drawn: list[Any]
) -> None:
    """600 epochs solve XOR (a dashed line at that epoch on both scales); 5 do not (none)."""
    assert main(["train", "--epochs", epochs, "--plot", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    found = re.search(r"^solved: all 4 right \(first at epoch (\d+)\)$", out, re.MULTILINE)
    assert (found is not None) == (epochs == "600")
    solved = [int(found[1])] if found else []
    loss_figure = drawn[0]
    for axes in loss_figure.axes:  # linear and log scale
        legend = [text.get_text() for text in axes.get_legend().get_texts()]
        assert legend == ["loss", *[f"all right from epoch {n}" for n in solved]]
        assert [list(line.get_xdata()) for line in axes.get_lines()[1:]] == [[n, n] for n in solved]
