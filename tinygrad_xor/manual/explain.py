"""The learner's bugs in words: the table, a sentence per bug, and what the command prints.

    format_table              the runs side by side: loss, predictions, solved, first solved
    explain                   one sentence per buggy variant, built from what the runs show
    report_text, report_json  all of `tinygrad-xor manual`'s output, --diagnose included
    loss_curves, plot_title   the labelled curves and title plots.plot_comparison draws

Every sentence is built from the runs' numbers, so it stays true for any option.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence

from tinygrad_xor.manual.diagnosis import diagnose_run
from tinygrad_xor.manual.network import ManualRun, X

__all__ = [
    "explain",
    "format_table",
    "report_text",
    "report_json",
    "loss_curves",
    "plot_title",
]

LOSS_FORMULAS = {
    "half_sum": "0.5*sum((y_hat-y)^2)",
    "sum": "sum((y_hat-y)^2)",
    "mean": "mean((y_hat-y)^2)",
}
_WIDTH = 100  # the command line's paragraphs wrap here


def _fmt(x: float) -> str:
    return f"{x:.3g}"


def _explain_attempt1(run: ManualRun) -> str:
    output_names = [n for n in run.downward_steps if n.startswith(("W2", "b2"))]
    always_down = [n for n in output_names if run.downward_steps[n] == run.epochs]
    if len(always_down) == len(output_names):
        weights_moved = (
            f"so every weight into the output ({', '.join(output_names)}) went down on every "
            f"one of the {run.epochs} epochs"
        )
    else:
        weights_moved = (
            f"so {len(always_down)} of the {len(output_names)} weights into the output went "
            f"down on every one of the {run.epochs} epochs"
        )
    start, end = run.losses[0], run.final_loss
    if end == start:  # e.g. an lr so small that no weight moved
        change = f"stayed at {_fmt(start)}"
    else:
        change = f"{'rose' if end > start else 'fell'} from {_fmt(start)} to {_fmt(end)}"
    predictions = ", ".join(f"{p:.2g}" for p in run.predictions)
    return (
        f"attempt1 uses the loss value itself (always positive: {_fmt(start)} at the start) as "
        "the output error of every input, in place of the signed error dL/dy_hat; sigmoid' and "
        f"the hidden outputs are positive too, {weights_moved}: every prediction is pushed "
        f"down whatever its target, they ended at [{predictions}] and the loss {change}."
    )


def _explain_attempt2(run: ManualRun, correct: ManualRun | None) -> str:
    start_lr = run.lr * run.losses[0]
    end_lr = run.lr * run.final_loss
    if correct is None:
        outcome = f"it ended at loss {_fmt(run.final_loss)}" + (
            f", solving XOR at epoch {run.first_solved_epoch}." if run.solved else "."
        )
    else:
        mine, theirs = run.first_solved_epoch, correct.first_solved_epoch
        if mine is not None and theirs is not None:
            solved = (
                f"all four were first right at epoch {mine} against {theirs} for the correct update"
            )
        elif mine is not None:
            solved = (
                f"all four were first right at epoch {mine}; the correct update never got there"
            )
        elif theirs is not None:
            solved = f"it never got all four right; the correct update did at epoch {theirs}"
        else:
            solved = "neither it nor the correct update got all four right"
        outcome = (
            f"{solved}, and it ended at loss {_fmt(run.final_loss)} against "
            f"{_fmt(correct.final_loss)}."
        )
    return (
        "attempt2 has the right direction, (y_hat - y), but multiplies it by the loss value, "
        "so every step is the correct step times the loss: in effect the learning rate became "
        f"lr * loss, {_fmt(start_lr)} at the start and {_fmt(end_lr)} at the end, shrinking just "
        f"as the loss does; {outcome}"
    )


def explain(runs: Sequence[ManualRun]) -> list[str]:
    """One plain sentence per buggy variant in `runs`, built from what the runs show."""
    by_variant = {run.variant: run for run in runs}
    sentences = []
    if "attempt1" in by_variant:
        sentences.append(_explain_attempt1(by_variant["attempt1"]))
    if "attempt2" in by_variant:
        sentences.append(_explain_attempt2(by_variant["attempt2"], by_variant.get("correct")))
    return sentences


def format_table(runs: Sequence[ManualRun]) -> str:
    """The runs side by side: variant, loss, final loss, 4 predictions, solved, first solved."""
    inputs = [f"({a:g},{b:g})" for a, b in X.tolist()]
    header = ["variant", "loss", "final loss", *inputs, "solved", "first solved epoch"]
    rows = [
        [
            run.variant,
            run.loss_kind,
            f"{run.final_loss:.6g}",
            *(f"{p:.4f}" for p in run.predictions),
            "yes" if run.solved else "no",
            str(run.first_solved_epoch) if run.first_solved_epoch is not None else "never",
        ]
        for run in runs
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def report_text(runs: Sequence[ManualRun], *, diagnose: bool = False) -> str:
    """The table, a paragraph per bug and, with `diagnose`, each bug's gradient at each snapshot."""
    parts = [format_table(runs)]
    parts += [textwrap.fill(sentence, width=_WIDTH) for sentence in explain(runs)]
    if diagnose:
        for run in runs:
            if run.variant == "correct":
                continue
            lines = [f"{run.variant}: its gradient against the engine's"]
            lines += [
                textwrap.fill(
                    f"after {epoch} epochs (loss {loss:.4g}): {diagnosis.summary}",
                    width=_WIDTH,
                    subsequent_indent="  ",
                )
                for epoch, loss, diagnosis in diagnose_run(run)
            ]
            parts.append("\n".join(lines))
    return "\n\n".join(parts)


def report_json(runs: Sequence[ManualRun], *, diagnose: bool = False) -> list[dict[str, object]]:
    """One object per run (`ManualRun.to_json`); with `diagnose`, a "diagnosis" list in each."""
    rows = []
    for run in runs:
        row = run.to_json()
        if diagnose:
            row["diagnosis"] = [
                {"epoch": epoch, "loss": loss, "summary": diagnosis.summary}
                for epoch, loss, diagnosis in diagnose_run(run)
            ]
        rows.append(row)
    return rows


def loss_curves(runs: Sequence[ManualRun]) -> list[tuple[str, list[float]]]:
    """(label, loss per epoch) for each run, the label naming its variant and its loss."""
    return [(f"{run.variant}  (loss {LOSS_FORMULAS[run.loss_kind]})", run.losses) for run in runs]


def plot_title(runs: Sequence[ManualRun]) -> str:
    """The title of the runs' picture: the network's shape and the learning rate."""
    if not runs:
        raise ValueError("no runs to plot.")
    return f"The learner's 2-{runs[0].initial_weights.hidden}-1 network on XOR, lr {runs[0].lr:g}"
