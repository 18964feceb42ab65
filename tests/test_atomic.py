"""The one safe file write, and the bounded read: every special file is refused, a symlink is
followed, permissions are kept, and a failure leaves the old file and no temporary one.

Everything happens inside tmp_path; the FIFO, the device node and the socket are made
there (tests/special_files.py).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from refusals import assert_refused
from special_files import deadline, device, fifo, unix_socket

from tinygrad_xor import atomic
from tinygrad_xor.atomic import (
    TargetError,
    check_folder,
    check_target,
    read_limited,
    write_atomically,
)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


# -- check_target: what may be replaced by a file -----------------------------------


def test_check_target_gives_the_real_path_of_a_new_or_existing_file(tmp_path: Path) -> None:
    new = tmp_path / "new.json"
    assert check_target(new) == new.resolve()
    assert check_target(str(new)) == new.resolve()
    new.write_text("old")
    assert check_target(new) == new.resolve()
    link = tmp_path / "link.json"
    link.symlink_to(new)
    assert check_target(link) == new.resolve()  # the link's target, not the link
    assert names(tmp_path) == ["link.json", "new.json"]  # checking wrote nothing


def test_check_target_refuses_a_directory(tmp_path: Path) -> None:
    # TargetError is a ValueError: a caller catching bad arguments as ValueError catches it too
    with pytest.raises(ValueError) as caught:
        check_target(tmp_path)
    assert str(caught.value) == f"{tmp_path} is a directory; give a file name."


def test_check_target_refuses_a_fifo(tmp_path: Path) -> None:
    path = fifo(tmp_path / "pipe")
    with pytest.raises(TargetError) as caught:
        check_target(path)
    assert str(caught.value) == f"{path} is a FIFO; give the path of a regular file."


@pytest.mark.parametrize("kind", [stat.S_IFCHR, stat.S_IFBLK], ids=["character", "block"])
def test_check_target_refuses_a_device_node(tmp_path: Path, kind: int) -> None:
    path = device(tmp_path / "node", kind)  # only stat() reads it
    with pytest.raises(TargetError) as caught:
        check_target(path)
    assert str(caught.value) == f"{path} is a device; give the path of a regular file."


def test_check_target_refuses_a_socket(tmp_path: Path) -> None:
    with unix_socket(tmp_path / "sock") as path:
        with pytest.raises(TargetError) as caught:
            check_target(path)
        assert str(caught.value) == f"{path} is a socket; give the path of a regular file."


def test_check_target_follows_a_symlink_to_a_special_file(tmp_path: Path) -> None:
    link = tmp_path / "model.json"
    link.symlink_to(fifo(tmp_path / "pipe"))
    # named as given: the link, not the FIFO it leads to
    assert_refused(
        lambda: check_target(link),
        TargetError,
        f"{link} is a FIFO; give the path of a regular file.",
    )


def test_check_target_refuses_a_path_whose_folder_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "model.json"
    with pytest.raises(TargetError) as caught:
        check_target(path)
    assert str(caught.value) == (
        f"{path}: the directory {path.parent} does not exist; create it first."
    )
    assert names(tmp_path) == []


def test_a_missing_folder_is_named_as_given_not_as_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TargetError) as caught:
        check_target(os.path.join("no", "model.json"))
    assert str(caught.value) == (
        f"{os.path.join('no', 'model.json')}: the directory no does not exist; create it first."
    )


def test_with_make_folders_a_missing_folder_is_fine_and_write_atomically_makes_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "no" / "such" / "page.html"
    assert check_target(path, make_folders=True) == path
    assert names(tmp_path) == []  # checking makes nothing
    assert write_atomically(path, b"<html>", make_folders=True) == path
    assert path.read_bytes() == b"<html>" and names(path.parent) == ["page.html"]


def test_without_make_folders_write_atomically_refuses_a_missing_folder(tmp_path: Path) -> None:
    path = tmp_path / "no" / "page.html"
    assert_refused(
        lambda: write_atomically(path, b"<html>"),  # the default: no folders
        TargetError,
        f"{path}: the directory {path.parent} does not exist; create it first.",
    )
    assert names(tmp_path) == []


@pytest.mark.parametrize("make_folders", [False, True])
def test_a_file_where_a_folder_must_be_is_refused_with_or_without_make_folders(
    tmp_path: Path, make_folders: bool
) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("a file")
    for path in (a_file / "page.html", a_file / "sub" / "page.html"):
        with pytest.raises(TargetError) as caught:
            check_target(path, make_folders=make_folders)
        assert str(caught.value) == f"cannot write {path}: {a_file} is a file, not a folder."
    path = a_file / "sub" / "page.html"
    assert_refused(
        lambda: write_atomically(path, b"x", make_folders=make_folders),
        TargetError,
        f"cannot write {path}: {a_file} is a file, not a folder.",
    )
    assert names(tmp_path) == ["notes.txt"]


@pytest.mark.parametrize("given", ["", "out/", f"somewhere{os.sep}"])
def test_check_target_refuses_a_name_that_is_not_a_file_name(given: str) -> None:
    with pytest.raises(TargetError) as caught:
        check_target(given)
    assert str(caught.value) == f"{given!r} is not a file name; give one, like out/model.json."


def test_a_trailing_slash_is_refused_even_when_the_folder_exists(tmp_path: Path) -> None:
    given = f"{tmp_path}{os.sep}"
    assert_refused(
        lambda: check_target(given),
        TargetError,
        f"{given!r} is not a file name; give one, like out/model.json.",
    )


# -- write_atomically ---------------------------------------------------------------


def test_write_atomically_writes_a_new_file_and_replaces_an_old_one(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    assert write_atomically(path, b"first") == path.resolve()
    assert path.read_bytes() == b"first"
    write_atomically(str(path), b"second")
    assert path.read_bytes() == b"second"
    assert names(tmp_path) == ["model.json"]


def test_write_atomically_through_a_symlink_keeps_the_link_and_updates_its_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    target = models / "real.json"
    target.write_bytes(b"old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def recording_replace(src: str, dst: str) -> None:
        replaced.append((os.fspath(src), os.fspath(dst)))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", recording_replace)
    assert write_atomically(link, b"new") == target.resolve()
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == b"new" and link.read_bytes() == b"new"
    # the temporary file was made beside the target (same file system), not beside the link
    ((temporary, destination),) = replaced
    assert Path(temporary).parent == target.resolve().parent
    assert Path(destination) == target.resolve()
    assert names(models) == ["real.json"] and names(tmp_path) == ["link.json", "models"]


def test_write_atomically_keeps_the_permissions_of_an_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "secret.json"
    path.write_bytes(b"old")
    path.chmod(0o600)
    with umask(0o022):  # a new file would get 0644
        write_atomically(path, b"new")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o640)
    write_atomically(path, b"newer")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.parametrize(("mask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_a_new_file_gets_the_umask_default(tmp_path: Path, mask: int, mode: int) -> None:
    path = tmp_path / "new.json"
    with umask(mask):
        write_atomically(path, b"data")
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_a_target_name_of_250_characters_works(tmp_path: Path) -> None:
    # NAME_MAX is 255: a temporary name built from the target's own would not fit.
    path = tmp_path / ("m" * 245 + ".json")
    assert len(path.name) == 250
    write_atomically(path, b"data")
    assert path.read_bytes() == b"data"
    assert names(tmp_path) == [path.name]


@pytest.mark.parametrize("failing", ["replace", "fsync", "fchmod"])
def test_a_failure_mid_write_leaves_the_old_file_and_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    path = tmp_path / "model.json"
    path.write_bytes(b"old")

    def fail(*args: object) -> None:
        raise OSError(f"{failing} failed (simulated)")

    monkeypatch.setattr(atomic.os, failing, fail)
    # the failure itself reaches the caller, not another error in its place
    assert_refused(lambda: write_atomically(path, b"new"), OSError, f"{failing} failed (simulated)")
    assert path.read_bytes() == b"old"
    assert names(tmp_path) == ["model.json"]


def test_ctrl_c_mid_write_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "model.json"
    path.write_bytes(b"old")

    def interrupted(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, b"new")
    assert path.read_bytes() == b"old"
    assert names(tmp_path) == ["model.json"]


def test_write_atomically_refuses_special_files_before_writing(tmp_path: Path) -> None:
    pipe = fifo(tmp_path / "pipe")
    assert_refused(
        lambda: write_atomically(pipe, b"data"),
        TargetError,
        f"{pipe} is a FIFO; give the path of a regular file.",
    )
    assert stat.S_ISFIFO(pipe.stat().st_mode)  # still the FIFO, not replaced
    assert names(tmp_path) == ["pipe"]


def test_write_atomically_refuses_a_device_node_and_leaves_it(tmp_path: Path) -> None:
    node = device(tmp_path / "null")
    assert_refused(
        lambda: write_atomically(node, b"data"),
        TargetError,
        f"{node} is a device; give the path of a regular file.",
    )
    assert stat.S_ISCHR(node.stat().st_mode)
    assert names(tmp_path) == ["null"]


# -- read_limited -------------------------------------------------------------------


def test_read_limited_reads_a_regular_file_up_to_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    path.write_bytes(b"0123456789")
    assert read_limited(path, 10) == b"0123456789"
    assert read_limited(str(path), 100) == b"0123456789"
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert read_limited(empty, 0) == b""


def test_read_limited_refuses_a_file_over_the_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    path.write_bytes(b"x" * 11)
    with pytest.raises(TargetError) as caught:
        read_limited(path, 10)
    assert str(caught.value) == f"{path} is 11 bytes, more than the 10 a file may have."


def test_read_limited_refuses_a_file_that_grows_past_the_limit_while_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "growing.json"
    path.write_bytes(b"x" * 20)
    real_fstat = os.fstat

    def stale_fstat(fd: int) -> os.stat_result:  # the size before the file grew
        fields = list(real_fstat(fd))
        fields[stat.ST_SIZE] = 5
        return os.stat_result(fields)

    monkeypatch.setattr(atomic.os, "fstat", stale_fstat)
    with pytest.raises(TargetError) as caught:
        read_limited(path, 10)
    assert str(caught.value) == f"{path} is more than the 10 bytes a file may have."


def test_read_limited_refuses_a_fifo_without_blocking(tmp_path: Path) -> None:
    pipe = fifo(tmp_path / "pipe")  # no writer: a plain open() would wait forever
    with deadline(5), pytest.raises(TargetError) as caught:
        read_limited(pipe, 100)
    assert str(caught.value) == f"{pipe} is a FIFO, not a file to read."


def test_read_limited_refuses_a_device_node(tmp_path: Path) -> None:
    node = device(tmp_path / "null")
    with deadline(5), pytest.raises(TargetError) as caught:
        read_limited(node, 100)
    assert str(caught.value) == f"{node} is a device, not a file to read."


def test_read_limited_refuses_a_directory(tmp_path: Path) -> None:
    assert_refused(
        lambda: read_limited(tmp_path, 100),
        TargetError,
        f"{tmp_path} is a directory, not a file to read.",
    )


def open_descriptors() -> int:
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("counts descriptors in /proc/self/fd (Linux)")
    return len(os.listdir("/proc/self/fd"))


def test_a_refused_read_leaves_no_descriptor_open(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b"x" * 11)
    refused = [tmp_path, fifo(tmp_path / "pipe"), big]
    before = open_descriptors()
    for _ in range(5):
        for path in refused:
            with pytest.raises(TargetError):
                read_limited(path, 10)
    assert open_descriptors() == before


def test_read_limited_of_a_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_limited(tmp_path / "missing.json", 100)


# -- check_folder -------------------------------------------------------------------


def test_check_folder_takes_a_directory_or_a_new_name_and_refuses_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert check_folder(tmp_path) == tmp_path.resolve()
    assert check_folder(tmp_path / "new" / "plots") == (tmp_path / "new" / "plots").resolve()
    assert names(tmp_path) == []  # checking made nothing
    monkeypatch.chdir(tmp_path)
    assert check_folder("") == tmp_path.resolve()  # "": the current directory
    a_file = tmp_path / "file.txt"
    a_file.write_text("not a directory")
    with pytest.raises(TargetError) as caught:
        check_folder(a_file)
    assert str(caught.value) == f"{a_file} is a file; give a directory."
    link = tmp_path / "link"
    link.symlink_to(a_file)
    # named as given: the link, not the file it leads to
    assert_refused(lambda: check_folder(link), TargetError, f"{link} is a file; give a directory.")


def test_check_folder_refuses_a_new_folder_below_a_file(tmp_path: Path) -> None:
    """train --plot FILE/plots would otherwise train first and fail to write after."""
    a_file = tmp_path / "file.txt"
    a_file.write_text("not a directory")
    for given in (a_file / "plots", a_file / "new" / "plots"):
        with pytest.raises(TargetError) as caught:
            check_folder(given)
        assert str(caught.value) == f"cannot write {given}: {a_file} is a file, not a folder."
    assert names(tmp_path) == ["file.txt"]
