"""The learner's NumPy network: their two weight updates, the correct one, and why.

    network    their 2-5-1 network, backprop as they wrote it, training runs (numpy only)
    diagnosis  their gradients against the Value engine's, and what is wrong with them
    explain    the bugs in words: the table and sentences `tinygrad-xor manual` prints

Every public name is here: `from tinygrad_xor import manual; manual.train("attempt2")`.
The loss curves are drawn by plots.plot_comparison(manual.loss_curves(runs), ...).
"""

from tinygrad_xor.manual.diagnosis import (
    GradientDiagnosis,
    GradientRow,
    diagnose,
    diagnose_gradients,
    diagnose_run,
    engine_gradients,
)
from tinygrad_xor.manual.explain import (
    explain,
    format_table,
    loss_curves,
    plot_title,
    report_json,
    report_text,
)
from tinygrad_xor.manual.network import (
    LEARNER_LOSS,
    LOSSES,
    VARIANTS,
    Backprop,
    ManualRun,
    Weights,
    X,
    Y,
    backprop,
    compare,
    learner_weights,
    sigmoid,
    train,
)

__all__ = [
    "VARIANTS",
    "LOSSES",
    "LEARNER_LOSS",
    "X",
    "Y",
    "Weights",
    "learner_weights",
    "sigmoid",
    "Backprop",
    "backprop",
    "ManualRun",
    "train",
    "compare",
    "explain",
    "format_table",
    "report_text",
    "report_json",
    "loss_curves",
    "plot_title",
    "engine_gradients",
    "diagnose",
    "diagnose_run",
    "diagnose_gradients",
    "GradientDiagnosis",
    "GradientRow",
]
