"""Saving an MLP to a JSON file and loading it back.

The file holds the architecture (enough to rebuild the network) and every
parameter by name, as plain JSON numbers:

    {"format": "tinygrad_xor.mlp", "version": 1,
     "architecture": {"nin": 2, "sizes": [5, 1], "activation": "sigmoid",
                      "output_activation": "sigmoid", "bias": true, "init": "torch", "seed": 0},
     "state": {"layers.0.neurons.0.weight.0": 0.53, ...},
     "metadata": {...anything JSON-able the caller adds, e.g. how it was trained}}

Saving is atomic (tinygrad_xor.atomic): a crash or a failing write leaves the old
file as it was. Loading checks everything before building anything (the architecture,
its size, every parameter's name and number) and raises ModelFileError saying what is
wrong.
"""

from __future__ import annotations

import itertools
import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tinygrad_xor.atomic import TargetError, read_limited, write_atomically
from tinygrad_xor.checks import choice, flag, real_number, shown, whole_number
from tinygrad_xor.nn import ACTIVATIONS, INITS, MLP, state_names

__all__ = [
    "FORMAT",
    "VERSION",
    "ModelFileError",
    "architecture",
    "disagreements",
    "save_model",
    "load_model",
]

FORMAT = "tinygrad_xor.mlp"
VERSION = 1
# The most parameters a file may describe. Every parameter is a Python object and each
# training step walks all of them one by one: far past this a network is not trainable
# here, and a corrupt "sizes": [300000, 1] would take seconds and memory to build.
MAX_PARAMETERS = 100_000
# The largest file load_model reads: such a model takes about 2.5 MB.
MAX_FILE_BYTES = 10_000_000


# MLP's arguments, in its order: what a file's "architecture" holds.
_ARCHITECTURE_KEYS = ("nin", "sizes", "activation", "output_activation", "bias", "init", "seed")


class ModelFileError(ValueError):
    """A model file is missing, unreadable, not a model, or does not fit."""


def architecture(model: MLP) -> dict[str, Any]:
    """The arguments that rebuild `model`'s shape: MLP(**architecture(model))."""
    return {
        "nin": model.nin,
        "sizes": list(model.sizes),
        "activation": model.activation,
        "output_activation": model.output_activation,
        "bias": model.bias,
        "init": model.init,
        "seed": model.seed,
    }


def disagreements(model: MLP, settings: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The settings `model` does not have: name -> (the setting, the model's own).

    Names are MLP's arguments ("activation", "bias", "seed", ...), and "hidden" for the
    widths of the hidden layers (sizes without the output). `tinygrad-xor train --load`
    refuses options that disagree with the file this way.
    """
    own = {**architecture(model), "hidden": model.sizes[:-1]}
    return {key: (value, own[key]) for key, value in settings.items() if value != own[key]}


def save_model(
    model: MLP, path: str | os.PathLike[str], metadata: Mapping[str, Any] | None = None
) -> Path:
    """Write `model` to `path` as JSON, atomically (the old file survives any failure);
    return `path`.

    A parameter that is inf or nan (training diverged) is refused by name: such a model
    cannot be trained on or loaded back.
    """
    state = model.state_dict()
    for name, number in state.items():
        if not math.isfinite(number):
            raise ValueError(
                f"{name} is {number}: a model whose parameters are not all finite is not "
                "saved (training diverged: try a smaller learning rate)."
            )
    document = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": architecture(model),
        "state": state,
        "metadata": dict(metadata) if metadata is not None else {},
    }
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    write_atomically(path, text.encode("utf-8"))
    return Path(path)


def _read_document(path: Path) -> dict[str, Any]:
    try:
        text = read_limited(path, MAX_FILE_BYTES).decode("utf-8")
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file. Save one first with --save.") from None
    except TargetError as error:
        raise ModelFileError(f"{error} A model file is a small JSON file.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path}: cannot read it ({error}).") from None
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        # ValueError: JSONDecodeError, and also a number of more than 4300 digits, which
        # Python refuses to convert; RecursionError: arrays nested thousands deep.
        raise ModelFileError(
            f"{path}: not valid JSON ({error}); the file is damaged or not a model file."
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(
            f'{path}: not a tinygrad_xor model file (expected "format": {FORMAT!r}).'
        )
    version = document.get("version")
    if type(version) is not int or version != VERSION:  # true == 1 and 1.0 == 1 in Python
        raise ModelFileError(
            f"{path}: model file version {shown(version)}; "
            f"this version of tinygrad_xor reads version {VERSION}."
        )
    return document


def _checked_architecture(path: Path, raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ModelFileError(
            f"{path}: corrupt architecture: expected an object, got {type(raw).__name__}."
        )
    arch = {key: raw.get(key) for key in _ARCHITECTURE_KEYS}
    try:  # the checks MLP itself makes, before it is built
        whole_number("nin", arch["nin"])
        if not isinstance(arch["sizes"], list) or not arch["sizes"]:
            raise ValueError(f"sizes must be a non-empty list, got {shown(arch['sizes'])}.")
        for size in arch["sizes"]:
            whole_number("every size in sizes", size)
        choice("activation", arch["activation"], ACTIVATIONS)
        choice("output_activation", arch["output_activation"], ACTIVATIONS)
        choice("init", arch["init"], INITS)
        flag("bias", arch["bias"])
        if arch["seed"] is not None:
            whole_number("seed", arch["seed"], at_least=0)
    except (TypeError, ValueError) as error:
        raise ModelFileError(f"{path}: corrupt architecture: {error}") from None
    # Count before anything is built: sum over layers of (fan_in + bias) * fan_out.
    count = 0
    for fan_in, fan_out in itertools.pairwise([arch["nin"], *arch["sizes"]]):
        count += (fan_in + (1 if arch["bias"] else 0)) * fan_out
        if count > MAX_PARAMETERS:
            raise ModelFileError(
                f"{path}: corrupt architecture: nin {shown(arch['nin'])} and sizes "
                f"{shown(arch['sizes'])} make more than {MAX_PARAMETERS} parameters, the most a "
                "model file may hold; the file is damaged, or the network far too large for a "
                "scalar engine."
            )
    return arch


def _first_names(names: list[str]) -> str:
    listed = ", ".join(repr(name)[:80] for name in names[:5])
    return f"[{listed}{', ...' if len(names) > 5 else ''}]"


def _checked_state(path: Path, raw: object, arch: dict[str, Any]) -> dict[str, float]:
    """The file's parameters as floats, once they are exactly the ones `arch` needs."""
    if not isinstance(raw, dict):
        raise ModelFileError(f"{path}: corrupt state: expected an object of name -> number.")
    expected = state_names(arch["nin"], arch["sizes"], arch["bias"])
    if len(raw) != len(expected) or set(raw) != set(expected):
        missing = [name for name in expected if name not in raw]
        expected_set = set(expected)
        unexpected = [name for name in raw if name not in expected_set]
        raise ModelFileError(
            f"{path}: the parameters do not fit its architecture: "
            f"{len(raw)} parameters for a network of {len(expected)}; "
            f"missing {_first_names(missing)}, unexpected {_first_names(unexpected)}. "
            "Was it saved from a model with other sizes or bias setting?"
        )
    state: dict[str, float] = {}
    for name in expected:
        try:
            state[name] = real_number(f"{name!r}", raw[name])
        except (TypeError, ValueError) as error:
            raise ModelFileError(f"{path}: corrupt state: {error}") from None
    return state


def load_model(path: str | os.PathLike[str]) -> tuple[MLP, dict[str, Any]]:
    """Rebuild the MLP saved at `path`; return it and the file's metadata.

    Raises ModelFileError (missing, unreadable, not JSON, not a model file, an
    architecture that is invalid or has more than MAX_PARAMETERS parameters, or
    parameters that do not fit it); nothing is built or changed before all of that
    is checked.
    """
    source = Path(path)
    document = _read_document(source)
    arch = _checked_architecture(source, document.get("architecture"))
    state = _checked_state(source, document.get("state"), arch)
    model = MLP(**arch)
    try:
        model.load_state_dict(state)
    except (TypeError, ValueError) as error:
        raise ModelFileError(
            f"{source}: the parameters do not fit its architecture: {error}"
        ) from None
    metadata = document.get("metadata", {})
    return model, metadata if isinstance(metadata, dict) else {}
