"""`tinygrad-xor manual`: the table, the two sentences, --json, --plot, --diagnose, bad input."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tinygrad_xor import cli, manual
from tinygrad_xor.cli import main

EPOCHS = "2000"  # enough for attempt2 (1747) and correct (813) to solve; quick


def test_cli_choices_are_the_librarys() -> None:
    assert cli._MANUAL_VARIANTS == manual.VARIANTS
    assert cli._MANUAL_LOSSES == manual.LOSSES


def test_compare_prints_the_table_and_one_sentence_per_bug(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["manual", "--compare", "--epochs", EPOCHS]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["variant", "loss", "final"]
    assert [line.split()[0] for line in lines[1:4]] == ["attempt1", "attempt2", "correct"]
    for line, variant in zip(lines[1:4], manual.VARIANTS, strict=True):
        run = manual.train(variant, epochs=int(EPOCHS))
        solved = ["yes", str(run.first_solved_epoch)] if run.solved else ["no", "never"]
        assert line.split()[-2:] == solved
    paragraphs = [" ".join(p.split()) for p in out.split("\n\n")[1:]]
    assert len(paragraphs) == 2
    assert paragraphs[0].startswith("attempt1 uses the loss value")
    assert "went down on every one of the 2000 epochs" in paragraphs[0]
    assert paragraphs[1].startswith("attempt2 has the right direction")


def test_json_lists_one_object_per_variant_with_the_librarys_numbers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["manual", "--compare", "--epochs", EPOCHS, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [row["variant"] for row in rows] == ["attempt1", "attempt2", "correct"]
    for row in rows:
        assert {"variant", "final_loss", "predictions", "solved", "first_solved_epoch"} <= set(row)
        run = manual.train(row["variant"], epochs=int(EPOCHS))
        assert row["final_loss"] == run.final_loss
        assert row["predictions"] == run.predictions
        assert row["solved"] == run.solved
        assert row["first_solved_epoch"] == run.first_solved_epoch


def test_one_variant_with_options(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["manual", "--variant", "correct", "--epochs", "300", "--loss", "mean", "--bias"]
    assert main([*args, "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    run = manual.train("correct", epochs=300, loss="mean", biases=True)
    assert row["loss"] == "mean" and row["final_loss"] == run.final_loss


def test_plot_writes_a_png(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "out" / "manual.png"
    assert main(["manual", "--compare", "--epochs", "50", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the report, then a blank line, then the file: its last two lines
    assert capsys.readouterr().out.splitlines()[-2:] == ["", f"wrote {path}"]


def test_plot_into_an_unwritable_place_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["manual", "--epochs", "5", "--plot", str(blocker / "x.png")]) == 1
    assert capsys.readouterr() == (  # refused before the runs: nothing was trained or printed
        "",
        f"tinygrad-xor manual: error: --plot cannot write {blocker / 'x.png'}: {blocker} is a "
        "file, not a folder.\n",
    )


def test_diagnose_names_each_bug(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manual", "--compare", "--epochs", "100", "--diagnose"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    attempt1 = out[out.index("attempt1: its gradient") : out.index("attempt2: its gradient")]
    attempt2 = out[out.index("attempt2: its gradient") :]
    assert "after 100 epochs" in attempt1 and "points the wrong way" in attempt1
    assert "is the loss value" in attempt2 and "multiplied by the loss value" in attempt2


TORCH_INIT_IGNORES = (
    "not allowed with argument --torch-init: the weights (with biases) come from "
    "torch.manual_seed(SEED). Drop one of them."
)


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ["--variant", "attempt3"],
            "argument --variant: invalid choice: 'attempt3' "
            "(choose from 'attempt1', 'attempt2', 'correct')",
        ),
        (["--epochs", "0"], "argument --epochs: expected a whole number >= 1, got 0."),
        (["--lr", "-1"], "argument --lr: expected a finite number > 0, got -1.0."),
        (
            ["--loss", "l1"],
            "argument --loss: invalid choice: 'l1' (choose from 'half_sum', 'sum', 'mean')",
        ),
        (
            ["--compare", "--variant", "correct"],
            "argument --variant: not allowed with argument --compare",
        ),
        (["--torch-init", "42", "--seed", "3"], f"argument --seed: {TORCH_INIT_IGNORES}"),
        (["--torch-init", "42", "--no-bias"], f"argument --no-bias: {TORCH_INIT_IGNORES}"),
    ],
)
def test_bad_options_exit_2_with_a_line_naming_the_option(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["manual", *argv]) == 2
    # argparse's error line, the last: the usage line above it names every option.
    assert capsys.readouterr().err.splitlines()[-1] == f"tinygrad-xor manual: error: {says}"


def test_torch_init_starts_from_pytorchs_weights(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("torch", reason="--torch-init needs torch: pip install torch==2.13.0")
    from tinygrad_xor.torch_bridge import from_torch, learner_torch_model

    args = ["manual", "--torch-init", "42", "--loss", "mean", "--epochs", "100", "--json"]
    assert main(args) == 0
    (row,) = json.loads(capsys.readouterr().out)
    start = manual.Weights.from_state_dict(from_torch(learner_torch_model(42)).state_dict())
    run = manual.train("correct", epochs=100, loss="mean", weights=start)
    assert row["final_loss"] == run.final_loss


def test_torch_init_without_torch_names_the_install_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    assert main(["manual", "--torch-init", "42", "--epochs", "5"]) == 1
    assert capsys.readouterr().err == (
        "tinygrad-xor manual: error: PyTorch is needed to convert to or from torch modules, and "
        "it is not installed: run `pip install torch==2.13.0` (the version this project is "
        "tested with).\n"
    )


@pytest.mark.parametrize("conflict", [["--seed", "3"], ["--no-bias"]])
def test_options_torch_init_would_ignore_are_refused_before_any_work(
    conflict: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # refused even where torch is missing

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("the options were checked only after the work began")

    monkeypatch.setattr(manual, "train", must_not_run)
    assert main(["manual", "--torch-init", "42", *conflict, "--epochs", "5"]) == 2
    assert capsys.readouterr().err == (
        f"tinygrad-xor manual: error: argument {conflict[0]}: {TORCH_INIT_IGNORES}\n"
    )


def test_json_with_diagnose_includes_the_diagnosis(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["manual", "--compare", "--epochs", "100", "--json", "--diagnose"]) == 0
    rows = json.loads(capsys.readouterr().out)
    for row in rows:
        run = manual.train(row["variant"], epochs=100, keep_weights_at=(0, 100))
        expected = [
            {"epoch": epoch, "loss": loss, "summary": diagnosis.summary}
            for epoch, loss, diagnosis in manual.diagnose_run(run)
        ]
        assert row["diagnosis"] == expected
    attempt1 = " ".join(rows[0]["diagnosis"][-1]["summary"].split())
    assert rows[0]["variant"] == "attempt1" and "points the wrong way" in attempt1
    # without --diagnose the objects are as before
    assert main(["manual", "--epochs", "5", "--json"]) == 0
    assert "diagnosis" not in json.loads(capsys.readouterr().out)[0]


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (
            ["--seed", "-1"],
            "argument --seed: expected a whole number from 0 to 4294967295, got -1.",
        ),
        (
            ["--seed", "4294967296"],
            "argument --seed: expected a whole number from 0 to 4294967295, got 4294967296.",
        ),
        (
            ["--torch-init", "99999999999999999999999"],
            "argument --torch-init: expected a whole number from 0 to 18446744073709551615, got a "
            "whole number of about 10**23.",
        ),
        (
            ["--plot", "x.txt"],
            "--plot x.txt: the format comes from the name's suffix, one of .png, .svg, .pdf; "
            "got .txt.",
        ),
        (["--plot", "/"], "--plot '/' is not a file name; give one, like out/loss.png."),
    ],
)
def test_seeds_and_plot_names_are_refused_before_any_work(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    status = main(["manual", *argv])
    captured = capsys.readouterr()
    assert status == (1 if argv[0] == "--plot" else 2)
    # the last line (argparse's usage line comes first): no traceback after it
    assert captured.err.splitlines()[-1] == f"tinygrad-xor manual: error: {says}"
    assert captured.out == ""  # nothing was trained


def test_saturated_units_are_diagnosed_as_vanished_not_as_right(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["manual", "--compare", "--diagnose", "--lr", "1000", "--epochs", "200"]
    assert main(argv) == 0
    out = capsys.readouterr().out.replace("\n  ", " ")
    after = [line for line in out.splitlines() if line.startswith("after 200 epochs")]
    assert len(after) == 2  # attempt1 and attempt2 at the end: every gradient below 1e-12
    assert all("Every gradient has vanished" in line for line in after)
    assert "Your gradients are right" not in " ".join(after)
