"""Model files: round trip, atomic save, and clear errors for bad files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from refusals import assert_refused

from tinygrad_xor import atomic, checkpoint
from tinygrad_xor.checkpoint import ModelFileError, architecture, load_model, save_model
from tinygrad_xor.nn import MLP


def test_round_trip_rebuilds_the_same_network(tmp_path: Path) -> None:
    model = MLP(2, [8, 4, 1], activation="tanh", bias=False, init="xavier", seed=5)
    path = tmp_path / "model.json"
    save_model(model, path, {"dataset": "xor", "final_loss": 0.01})
    loaded, metadata = load_model(path)
    assert architecture(loaded) == architecture(model)
    assert loaded.state_dict() == model.state_dict()
    assert loaded([0.25, 0.75])[0].data == model([0.25, 0.75])[0].data
    assert metadata == {"dataset": "xor", "final_loss": 0.01}
    document = json.loads(path.read_text())
    assert document["architecture"]["sizes"] == [8, 4, 1]
    assert document["format"] == "tinygrad_xor.mlp"


def test_disagreements_name_only_the_settings_the_model_does_not_have() -> None:
    """What `train --load` refuses: each differing setting, as (asked for, the model's own)."""
    model = MLP(2, [5, 3, 1], activation="tanh", seed=4)
    asked = {"activation": "relu", "bias": True, "seed": 4, "hidden": [5, 3], "init": "xavier"}
    assert checkpoint.disagreements(model, asked) == {
        "activation": ("relu", "tanh"),
        "init": ("xavier", "torch"),
    }
    assert checkpoint.disagreements(model, {"hidden": [5, 3], "sizes": [5, 3, 1]}) == {}


def test_a_model_of_no_seed_round_trips_and_odd_metadata_reads_as_none(tmp_path: Path) -> None:
    # MLP(seed=None) draws other weights each time: its file says "seed": null.
    model = MLP(2, [3, 1], seed=None)
    path = tmp_path / "model.json"
    save_model(model, path)
    loaded, metadata = load_model(path)
    assert loaded.seed is None and loaded.state_dict() == model.state_dict()
    assert metadata == {}
    assert json.loads(path.read_text())["metadata"] == {}  # the file holds an object, not null
    for odd in ([1, 2], "notes", None):  # metadata is an object; anything else reads as {}
        document = json.loads(path.read_text()) | {"metadata": odd}
        assert load_model(write_json(path, document))[1] == {}


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_a_failing_replace_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.json"
    save_model(MLP(2, [5, 1], seed=0), path)
    old_bytes = path.read_bytes()

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", failing_replace)
    # the failure itself reaches the caller, not another error in its place
    assert_refused(
        lambda: save_model(MLP(2, [5, 1], seed=1), path), OSError, "disk full (simulated)"
    )
    assert path.read_bytes() == old_bytes
    assert leftovers(tmp_path) == []


def test_a_write_failing_half_way_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.json"
    save_model(MLP(2, [5, 1], seed=0), path)
    old_bytes = path.read_bytes()

    def failing_fsync(fd: int) -> None:  # the bytes are written, not yet on disk
        raise OSError("I/O error (simulated)")

    monkeypatch.setattr(atomic.os, "fsync", failing_fsync)
    assert_refused(
        lambda: save_model(MLP(2, [5, 1], seed=1), path), OSError, "I/O error (simulated)"
    )
    assert path.read_bytes() == old_bytes
    assert leftovers(tmp_path) == []


def test_a_failing_serialisation_leaves_the_old_file_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.json"
    save_model(MLP(2, [5, 1], seed=0), path)
    old_bytes = path.read_bytes()
    model = MLP(2, [5, 1], seed=1)
    model.layers[0].neurons[0].w[0].data = float("nan")  # refused by name, before any write
    with pytest.raises(ValueError) as caught:
        save_model(model, path)
    assert str(caught.value) == (  # the parameter by name, and what to do about it
        "layers.0.neurons.0.weight.0 is nan: a model whose parameters are not all finite is "
        "not saved (training diverged: try a smaller learning rate)."
    )
    assert path.read_bytes() == old_bytes
    assert leftovers(tmp_path) == []


def test_the_file_is_strict_json_so_metadata_that_is_not_finite_is_refused(
    tmp_path: Path,
) -> None:
    path = tmp_path / "model.json"
    save_model(MLP(2, [5, 1], seed=0), path)
    old_bytes = path.read_bytes()
    # An inf loss (bce of a saturated output) would be written as Infinity: not JSON.
    # json's own words, not this package's: they differ by Python version and encoder
    with pytest.raises(ValueError, match=r"^Out of range float values are not JSON compliant"):
        save_model(MLP(2, [5, 1], seed=1), path, metadata={"final_loss": float("inf")})
    assert path.read_bytes() == old_bytes
    assert leftovers(tmp_path) == []


def write_json(path: Path, document: object) -> Path:
    path.write_text(json.dumps(document))
    return path


def good_document() -> dict[str, object]:
    model = MLP(2, [5, 1], seed=0)
    return {
        "format": "tinygrad_xor.mlp",
        "version": 1,
        "architecture": architecture(model),
        "state": model.state_dict(),
    }


def refusal(path: Path) -> str:
    """What load_model says of the model file at `path`: a ModelFileError, a ValueError."""
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    assert type(caught.value) is ModelFileError, caught.value  # not a subclass either
    assert isinstance(caught.value, ValueError)  # docs/api.md: "(a `ValueError`)"
    return str(caught.value)


def test_a_model_file_may_have_up_to_10_million_bytes(tmp_path: Path) -> None:
    """load_model reads files of up to 10 MB; a byte more is refused without being read."""
    path = tmp_path / "model.json"
    save_model(MLP(2, [5, 1]), path)
    text = path.read_text()
    path.write_text(text + " " * (10_000_000 - len(text.encode())))  # trailing spaces: valid JSON
    assert load_model(path)[0].state_dict() == MLP(2, [5, 1]).state_dict()
    with path.open("a") as file:
        file.write(" ")
    assert refusal(path) == (
        f"{path} is 10000001 bytes, more than the 10000000 a file may have. "
        "A model file is a small JSON file."
    )


def test_bad_files_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError) as missing:
        load_model(tmp_path / "missing.json")
    # docs/api.md: "missing.json: no such file. Save one first with --save."
    assert (
        str(missing.value)
        == f"{tmp_path / 'missing.json'}: no such file. Save one first with --save."
    )

    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text('{"format": "tinygrad_xor.mlp", "state": {')
    assert refusal(corrupt) == (  # json's own words in the middle, then what it means
        f"{corrupt}: not valid JSON (Expecting property name enclosed in double quotes: "
        "line 1 column 42 (char 41)); the file is damaged or not a model file."
    )

    listed = write_json(tmp_path / "list.json", [1, 2, 3])
    assert refusal(listed) == (
        f"{listed}: not a tinygrad_xor model file (expected \"format\": 'tinygrad_xor.mlp')."
    )

    folder = tmp_path / "folder.json"
    folder.mkdir()
    assert refusal(folder) == (
        f"{folder} is a directory, not a file to read. A model file is a small JSON file."
    )

    latin = tmp_path / "latin.json"
    latin.write_bytes(b'{"format": "caf\xe9"}')  # not UTF-8
    assert refusal(latin) == (
        f"{latin}: cannot read it ('utf-8' codec can't decode byte 0xe9 in position 15: "
        "invalid continuation byte)."
    )

    newer = write_json(tmp_path / "newer.json", good_document() | {"version": 2})
    assert refusal(newer) == (
        f"{newer}: model file version 2; this version of tinygrad_xor reads version 1."
    )

    shape_mismatch = good_document()
    shape_mismatch["state"] = MLP(2, [3, 1], seed=0).state_dict()
    shape = write_json(tmp_path / "shape.json", shape_mismatch)
    assert refusal(shape) == (  # the first five names missing, then "..."
        f"{shape}: the parameters do not fit its architecture: 13 parameters for a network of "
        "21; missing ['layers.0.neurons.3.weight.0', 'layers.0.neurons.3.weight.1', "
        "'layers.0.neurons.3.bias', 'layers.0.neurons.4.weight.0', "
        "'layers.0.neurons.4.weight.1', ...], unexpected []. "
        "Was it saved from a model with other sizes or bias setting?"
    )

    bad_arch = good_document()
    bad_arch["architecture"] = {**architecture(MLP(2, [5, 1])), "activation": "softmax"}
    softmax = write_json(tmp_path / "arch.json", bad_arch)
    assert refusal(softmax) == (
        f"{softmax}: corrupt architecture: unknown activation 'softmax'; "
        "choose one of: sigmoid, tanh, relu, linear."
    )

    not_number = good_document()
    state = dict(MLP(2, [5, 1], seed=0).state_dict())
    state["layers.1.neurons.0.bias"] = "0.1"  # type: ignore[assignment]
    not_number["state"] = state
    text = write_json(tmp_path / "text.json", not_number)
    assert refusal(text) == (
        f"{text}: corrupt state: 'layers.1.neurons.0.bias' must be a finite number, got str '0.1'."
    )

    state_inf = good_document()
    state_inf["state"] = {**MLP(2, [5, 1]).state_dict(), "layers.1.neurons.0.bias": float("inf")}
    infinite = write_json(tmp_path / "inf.json", state_inf)
    assert refusal(infinite) == (
        f"{infinite}: corrupt state: 'layers.1.neurons.0.bias' must be a finite number, got inf."
    )

    listed_state = write_json(tmp_path / "state.json", good_document() | {"state": [0.1]})
    assert refusal(listed_state) == (
        f"{listed_state}: corrupt state: expected an object of name -> number."
    )
    listed_arch = write_json(tmp_path / "arch_list.json", good_document() | {"architecture": [2]})
    assert refusal(listed_arch) == (
        f"{listed_arch}: corrupt architecture: expected an object, got list."
    )


NOT_FIT = "the parameters do not fit its architecture:"
OTHER_SIZES = "Was it saved from a model with other sizes or bias setting?"


@pytest.fixture
def no_building(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if load_model builds an MLP: a bad file must be refused before that."""

    def must_not_build(*args: object, **kwargs: object) -> MLP:
        raise AssertionError(f"load_model built MLP(*{args}, **{kwargs}) from a bad file")

    monkeypatch.setattr(checkpoint, "MLP", must_not_build)


TOO_LARGE = (
    "parameters, the most a model file may hold; the file is damaged, or the network far too "
    "large for a scalar engine."
)


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"sizes": [300000, 1]}, f"nin 2 and sizes [300000, 1] make more than 100000 {TOO_LARGE}"),
        # the second layer
        ({"sizes": [5, 100000]}, f"nin 2 and sizes [5, 100000] make more than 100000 {TOO_LARGE}"),
        (
            {"nin": 10**30},
            "nin a whole number of about 10**30 and sizes [5, 1] make more than 100000 "
            f"{TOO_LARGE}",
        ),
        # a list too long to show whole is cut at 80 characters
        (
            {"sizes": [1] * 200_000, "nin": 1, "bias": False},
            f"nin 1 and sizes {repr([1] * 200_000)[:77]}... make more than 100000 {TOO_LARGE}",
        ),
        ({"sizes": [5, 0]}, "every size in sizes must be a whole number >= 1, got 0."),
        ({"sizes": []}, "sizes must be a non-empty list, got []."),
        ({"sizes": 5}, "sizes must be a non-empty list, got 5."),
        (
            {"init": ["torch"]},
            "init must be one of: torch, uniform01, xavier; got list ['torch'].",
        ),
    ],
)
def test_a_bad_architecture_is_refused_before_anything_is_built(
    tmp_path: Path, no_building: None, changes: dict[str, object], said: str
) -> None:
    document = good_document()
    document["architecture"] = {**architecture(MLP(2, [5, 1])), **changes}
    path = write_json(tmp_path / "model.json", document)
    assert refusal(path) == f"{path}: corrupt architecture: {said}"


def test_too_many_parameters_is_refused_in_one_whole_message(
    tmp_path: Path, no_building: None
) -> None:
    document = good_document()
    document["architecture"] = {**architecture(MLP(2, [5, 1])), "sizes": [300000, 1]}
    path = write_json(tmp_path / "model.json", document)
    assert refusal(path) == (
        f"{path}: corrupt architecture: nin 2 and sizes [300000, 1] make more than 100000 "
        "parameters, the most a model file may hold; the file is damaged, or the network far "
        "too large for a scalar engine."
    )


@pytest.mark.parametrize(
    ("seed", "shown"), [(False, "bool False"), ("", "str ''"), (0.0, "float 0.0"), (-1, "-1")]
)
def test_a_seed_that_is_not_a_whole_number_from_0_is_refused_even_when_falsy(
    tmp_path: Path, no_building: None, seed: object, shown: str
) -> None:
    document = good_document()
    document["architecture"] = {**architecture(MLP(2, [5, 1])), "seed": seed}
    path = write_json(tmp_path / "model.json", document)
    assert refusal(path) == (
        f"{path}: corrupt architecture: seed must be a whole number >= 0, got {shown}."
    )


def test_a_newer_model_file_says_which_version_this_tinygrad_xor_reads(tmp_path: Path) -> None:
    newer = write_json(tmp_path / "model.json", good_document() | {"version": 2})
    with pytest.raises(ModelFileError) as caught:
        load_model(newer)
    assert str(caught.value) == (
        f"{newer}: model file version 2; this version of tinygrad_xor reads version 1."
    )


@pytest.mark.parametrize(("bias", "count"), [(True, (2 + 1) * 5 + (5 + 1) * 1), (False, 15)])
def test_the_bound_counts_every_weight_and_bias(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bias: bool, count: int
) -> None:
    model = MLP(2, [5, 1], bias=bias)
    path = tmp_path / "model.json"
    save_model(model, path)
    monkeypatch.setattr(checkpoint, "MAX_PARAMETERS", count)
    assert load_model(path)[0].state_dict() == model.state_dict()  # exactly at the bound
    monkeypatch.setattr(checkpoint, "MAX_PARAMETERS", count - 1)
    assert refusal(path) == (
        f"{path}: corrupt architecture: nin 2 and sizes [5, 1] make more than {count - 1} "
        f"{TOO_LARGE}"
    )


def test_state_that_does_not_fit_is_refused_before_anything_is_built(
    tmp_path: Path, no_building: None
) -> None:
    too_few = good_document()
    too_few["state"] = MLP(2, [3, 1], seed=0).state_dict()
    few = write_json(tmp_path / "few.json", too_few)
    assert refusal(few) == (
        f"{few}: {NOT_FIT} 13 parameters for a network of 21; missing "
        "['layers.0.neurons.3.weight.0', 'layers.0.neurons.3.weight.1', "
        "'layers.0.neurons.3.bias', 'layers.0.neurons.4.weight.0', "
        f"'layers.0.neurons.4.weight.1', ...], unexpected []. {OTHER_SIZES}"
    )
    renamed = good_document()
    state = dict(MLP(2, [5, 1], seed=0).state_dict())
    state["layers.1.neurons.0.bias_"] = state.pop("layers.1.neurons.0.bias")
    renamed["state"] = state
    one = write_json(tmp_path / "renamed.json", renamed)
    assert refusal(one) == (
        f"{one}: {NOT_FIT} 21 parameters for a network of 21; missing "
        "['layers.1.neurons.0.bias'], unexpected ['layers.1.neurons.0.bias_']. "
        f"{OTHER_SIZES}"
    )
    # Past five names the list says there are more.
    all_renamed = good_document()
    all_renamed["state"] = {
        f"{name}_": v for name, v in MLP(2, [5, 1], seed=0).state_dict().items()
    }
    every = write_json(tmp_path / "all_renamed.json", all_renamed)
    assert refusal(every) == (
        f"{every}: {NOT_FIT} 21 parameters for a network of 21; missing "
        "['layers.0.neurons.0.weight.0', 'layers.0.neurons.0.weight.1', "
        "'layers.0.neurons.0.bias', 'layers.0.neurons.1.weight.0', "
        "'layers.0.neurons.1.weight.1', ...], unexpected "
        "['layers.0.neurons.0.weight.0_', 'layers.0.neurons.0.weight.1_', "
        "'layers.0.neurons.0.bias_', 'layers.0.neurons.1.weight.0_', "
        f"'layers.0.neurons.1.weight.1_', ...]. {OTHER_SIZES}"
    )
    # Five names exactly are all listed, with nothing more to say: a 2-1-1 network has five.
    five = good_document()
    five["architecture"] = architecture(MLP(2, [1, 1]))
    five["state"] = {f"{name}_": v for name, v in MLP(2, [1, 1]).state_dict().items()}
    five_renamed = write_json(tmp_path / "five_renamed.json", five)
    assert refusal(five_renamed) == (
        f"{five_renamed}: {NOT_FIT} 5 parameters for a network of 5; missing "
        "['layers.0.neurons.0.weight.0', 'layers.0.neurons.0.weight.1', "
        "'layers.0.neurons.0.bias', 'layers.1.neurons.0.weight.0', 'layers.1.neurons.0.bias'], "
        "unexpected ['layers.0.neurons.0.weight.0_', 'layers.0.neurons.0.weight.1_', "
        "'layers.0.neurons.0.bias_', 'layers.1.neurons.0.weight.0_', "
        f"'layers.1.neurons.0.bias_']. {OTHER_SIZES}"
    )
    # A name is shown by its first 80 characters (of its repr), however long it is.
    long_name = good_document()
    state = dict(MLP(2, [5, 1], seed=0).state_dict())
    state["x" * 200] = state.pop("layers.1.neurons.0.bias")
    long_name["state"] = state
    long = write_json(tmp_path / "long_name.json", long_name)
    assert refusal(long) == (
        f"{long}: {NOT_FIT} 21 parameters for a network of 21; missing "
        f"['layers.1.neurons.0.bias'], unexpected [{repr('x' * 200)[:80]}]. {OTHER_SIZES}"
    )
    # Six, one past five: the sixth is left out and the list says so (a 3-1-1 network has six).
    six = good_document()
    six["architecture"] = architecture(MLP(3, [1, 1]))
    six["state"] = {f"{name}_": v for name, v in MLP(3, [1, 1]).state_dict().items()}
    six_renamed = write_json(tmp_path / "six_renamed.json", six)
    assert refusal(six_renamed) == (
        f"{six_renamed}: {NOT_FIT} 6 parameters for a network of 6; missing "
        "['layers.0.neurons.0.weight.0', 'layers.0.neurons.0.weight.1', "
        "'layers.0.neurons.0.weight.2', 'layers.0.neurons.0.bias', "
        "'layers.1.neurons.0.weight.0', ...], unexpected "
        "['layers.0.neurons.0.weight.0_', 'layers.0.neurons.0.weight.1_', "
        "'layers.0.neurons.0.weight.2_', 'layers.0.neurons.0.bias_', "
        f"'layers.1.neurons.0.weight.0_', ...]. {OTHER_SIZES}"
    )


def test_numbers_too_large_for_a_float_are_clear_errors(tmp_path: Path) -> None:
    # 10**400 is valid JSON, and an int in Python: float() of it overflows.
    huge_int = good_document()
    huge_int["state"] = {**MLP(2, [5, 1]).state_dict(), "layers.1.neurons.0.bias": 10**400}
    huge = write_json(tmp_path / "huge.json", huge_int)
    assert refusal(huge) == (
        f"{huge}: corrupt state: 'layers.1.neurons.0.bias' must be a finite number, got a whole "
        "number of about 10**400, too large for a float."
    )

    # Past 4300 digits, json.loads itself refuses the number with a plain ValueError.
    longer = tmp_path / "longer.json"
    longer.write_text(huge.read_text().replace("1" + "0" * 400, "1" + "0" * 5000))
    assert refusal(longer) == (
        f"{longer}: not valid JSON ({json_refusal(longer, ValueError)}); the file is damaged or "
        "not a model file."
    )

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    assert refusal(deep) == (
        f"{deep}: not valid JSON ({json_refusal(deep, RecursionError)}); the file is damaged "
        "or not a model file."
    )


def json_refusal(path: Path, kind: type[Exception]) -> str:
    """What json.loads itself says of the text at `path` (its words vary by Python version)."""
    with pytest.raises(kind) as caught:
        json.loads(path.read_text())
    return str(caught.value)


@pytest.mark.parametrize(("version", "shown"), [(True, "True"), (1.0, "1.0"), ("1", "'1'")])
def test_the_version_must_be_the_whole_number_1(
    tmp_path: Path, version: object, shown: str
) -> None:
    path = write_json(tmp_path / "model.json", good_document() | {"version": version})
    assert refusal(path) == (
        f"{path}: model file version {shown}; this version of tinygrad_xor reads version 1."
    )


@pytest.mark.parametrize(
    ("key", "said"),
    [
        ("nin", "nin must be a whole number >= 1, got NoneType None."),
        ("sizes", "sizes must be a non-empty list, got None."),
        (
            "activation",
            "activation must be one of: sigmoid, tanh, relu, linear; got NoneType None.",
        ),
        (
            "output_activation",
            "output_activation must be one of: sigmoid, tanh, relu, linear; got NoneType None.",
        ),
        ("bias", "bias must be True or False, got NoneType None."),
        ("init", "init must be one of: torch, uniform01, xavier; got NoneType None."),
    ],
)
def test_an_architecture_missing_a_key_is_a_model_file_error_naming_it(
    tmp_path: Path, no_building: None, key: str, said: str
) -> None:
    """A missing key reads as null and is refused as such, never as a bare KeyError."""
    document = good_document()
    document["architecture"] = {
        name: value for name, value in architecture(MLP(2, [5, 1])).items() if name != key
    }
    path = write_json(tmp_path / "model.json", document)
    assert refusal(path) == f"{path}: corrupt architecture: {said}"


def test_an_architecture_without_a_seed_loads_as_a_model_of_no_seed(tmp_path: Path) -> None:
    document = good_document()
    document["architecture"] = {
        name: value for name, value in architecture(MLP(2, [5, 1])).items() if name != "seed"
    }
    loaded, _ = load_model(write_json(tmp_path / "model.json", document))
    assert loaded.seed is None and loaded.state_dict() == document["state"]
