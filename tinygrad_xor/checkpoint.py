"""Saving an MLP to a JSON file and loading it back.

The file holds the architecture (enough to rebuild the network) and every
parameter by name, as plain JSON numbers:

    {"format": "tinygrad_xor.mlp", "version": 1,
     "architecture": {"nin": 2, "sizes": [5, 1], "activation": "sigmoid",
                      "output_activation": "sigmoid", "bias": true, "init": "torch", "seed": 0},
     "state": {"layers.0.neurons.0.weight.0": 0.53, ...},
     "metadata": {...anything JSON-able the caller adds, e.g. how it was trained}}

Saving is atomic (tinygrad_xor.atomic): a crash or a failing write leaves the old
file as it was. Loading checks everything before building anything
and raises ModelFileError saying what is wrong.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tinygrad_xor.atomic import write_atomically
from tinygrad_xor.nn import ACTIVATIONS, INITS, MLP

__all__ = ["FORMAT", "VERSION", "ModelFileError", "architecture", "save_model", "load_model"]

FORMAT = "tinygrad_xor.mlp"
VERSION = 1


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


def save_model(
    model: MLP, path: str | os.PathLike[str], metadata: Mapping[str, Any] | None = None
) -> None:
    """Write `model` to `path` as JSON, atomically: the old file survives any failure."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": architecture(model),
        "state": model.state_dict(),
        "metadata": dict(metadata) if metadata is not None else {},
    }
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    write_atomically(path, text.encode("utf-8"))


def _read_document(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file. Save one first with --save.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ModelFileError(f"{path}: cannot read it ({error}).") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ModelFileError(
            f"{path}: not valid JSON ({error}); the file is damaged or not a model file."
        ) from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ModelFileError(
            f'{path}: not a tinygrad_xor model file (expected "format": {FORMAT!r}).'
        )
    if document.get("version") != VERSION:
        raise ModelFileError(
            f"{path}: model file version {document.get('version')!r}; "
            f"this version of tinygrad_xor reads version {VERSION}."
        )
    return document


def _checked_architecture(path: Path, raw: object) -> dict[str, Any]:
    def bad(what: str) -> ModelFileError:
        return ModelFileError(f"{path}: corrupt architecture: {what}.")

    if not isinstance(raw, dict):
        raise bad(f"expected an object, got {type(raw).__name__}")
    nin, sizes = raw.get("nin"), raw.get("sizes")
    if isinstance(nin, bool) or not isinstance(nin, int) or nin < 1:
        raise bad(f"nin must be a whole number >= 1, got {nin!r}")
    if not isinstance(sizes, list) or not sizes:
        raise bad(f"sizes must be a non-empty list, got {sizes!r}")
    for size in sizes:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise bad(f"sizes must be whole numbers >= 1, got {sizes!r}")
    for key in ("activation", "output_activation"):
        if raw.get(key) not in ACTIVATIONS:
            raise bad(f"{key} must be one of {', '.join(ACTIVATIONS)}, got {raw.get(key)!r}")
    if raw.get("init") not in INITS:
        raise bad(f"init must be one of {', '.join(INITS)}, got {raw.get('init')!r}")
    if not isinstance(raw.get("bias"), bool):
        raise bad(f"bias must be true or false, got {raw.get('bias')!r}")
    seed = raw.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise bad(f"seed must be a whole number or null, got {seed!r}")
    return {key: raw.get(key) for key in _ARCHITECTURE_KEYS}


def load_model(path: str | os.PathLike[str]) -> tuple[MLP, dict[str, Any]]:
    """Rebuild the MLP saved at `path`; return it and the file's metadata.

    Raises ModelFileError (missing, unreadable, not JSON, not a model file, or
    parameters that do not fit the architecture); nothing is changed on error.
    """
    source = Path(path)
    document = _read_document(source)
    arch = _checked_architecture(source, document.get("architecture"))
    state = document.get("state")
    if not isinstance(state, dict):
        raise ModelFileError(f"{source}: corrupt state: expected an object of name -> number.")
    for name, value in state.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ModelFileError(
                f"{source}: corrupt state: {name!r} is {value!r}, expected a number."
            )
        if not math.isfinite(value):
            raise ModelFileError(f"{source}: corrupt state: {name!r} is {value}, not finite.")
    model = MLP(**arch)
    try:
        model.load_state_dict(state)
    except (TypeError, ValueError) as error:
        raise ModelFileError(
            f"{source}: the parameters do not fit its architecture: {error}"
        ) from None
    metadata = document.get("metadata", {})
    return model, metadata if isinstance(metadata, dict) else {}
