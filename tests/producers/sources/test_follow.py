"""The file follower on real files: appends, CRLF, partial lines, rotation, truncation, resume."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from deskwatch.producers.sources.checkpoint import Checkpoint, CheckpointStore
from deskwatch.producers.sources.follow import Change, FileFollower
from hypothesis import given, settings
from hypothesis import strategies as st


def _follower(path: Path, settle_s: float = 30.0, max_line: int = 1024) -> FileFollower:
    return FileFollower(path, settle_s=settle_s, chunk_bytes=4096, max_line_bytes=max_line)


def _raws(f: FileFollower, now: float = 0.0) -> list[bytes]:
    return [line.raw for line in f.read(now)]


@pytest.mark.parametrize(("content", "expect"), [
    (b"a\nb\n", [b"a", b"b"]),
    (b"a\r\nb\r\n", [b"a", b"b"]),
    (b"a\nb", [b"a"]),
    (b"a\r\nb\r", [b"a"]),
    (b"\n\nx\n", [b"", b"", b"x"]),
], ids=["lf", "crlf", "partial-last-line-held", "partial-crlf-held", "blank-lines"])
def test_lines_and_terminators(tmp_path: Path, content: bytes, expect: list[bytes]) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(content)
    f = _follower(path)
    assert f.open(None, 0.0)
    assert _raws(f) == expect


def test_offsets_cover_the_file_exactly(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(b"one\r\ntwo\nthree\n")
    f = _follower(path)
    f.open(None, 0.0)
    assert [(ln.start, ln.end) for ln in f.read(0.0)] == [(0, 5), (5, 9), (9, 15)]


def test_partial_line_completes_when_the_newline_arrives(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(b"first\nsec")
    f = _follower(path)
    f.open(None, 0.0)
    assert _raws(f) == [b"first"]
    assert _raws(f, 1.0) == []
    with path.open("ab") as out:
        out.write(b"ond\n")
    lines = f.read(2.0)
    assert [(ln.start, ln.raw) for ln in lines] == [(6, b"second")]


def test_partial_line_emitted_after_settle_timeout(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(b"x\nno-newline")
    f = _follower(path, settle_s=5.0)
    f.open(None, 0.0)
    assert _raws(f, 0.0) == [b"x"]
    assert _raws(f, 4.0) == []
    assert _raws(f, 5.0) == [b"no-newline"]


def test_overlong_line_is_cut(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(b"y" * 2500 + b"\n")
    f = _follower(path, max_line=1024)
    f.open(None, 0.0)
    assert [len(r) for r in _raws(f)] == [1024, 1024, 452]


def test_rotation_finishes_old_file_then_reports_rotated(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"a\n")
    f = _follower(path)
    f.open(None, 0.0)
    assert _raws(f) == [b"a"]
    with path.open("ab") as out:
        out.write(b"b\nc-partial")
    path.rename(tmp_path / "app.log.1")
    path.write_bytes(b"new\n")
    assert _raws(f) == [b"b"]  # the old file is read to its end first
    assert f.change() is Change.ROTATED
    assert [ln.raw for ln in f.finish()] == [b"c-partial"]  # rotated: the unterminated line is complete
    f.open(None, 1.0)
    assert _raws(f) == [b"new"]


def test_lines_written_to_the_old_file_after_the_last_read_come_before_the_switch(tmp_path: Path) -> None:
    # The race CI met: the reader found the old file at its end, then the writer renamed it,
    # appended one more line to it and created the new file, all before the rotation check.
    path = tmp_path / "app.log"
    path.write_bytes(b"a\n")
    f = _follower(path)
    f.open(None, 0.0)
    assert _raws(f) == [b"a"]
    assert _raws(f) == []  # at the end of the old file
    path.rename(tmp_path / "app.log.1")
    with (tmp_path / "app.log.1").open("ab") as out:
        out.write(b"late\n")
    path.write_bytes(b"new\n")
    assert f.change() is Change.NONE  # the old file grew since the read: not done with it yet
    assert _raws(f) == [b"late"]
    assert f.change() is Change.ROTATED


def test_truncation_detected(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(b"long line one\nlong line two\n")
    f = _follower(path)
    f.open(None, 0.0)
    assert len(f.read(0.0)) == 2
    with path.open("r+b") as out:
        out.truncate(0)
        out.write(b"z\n")
    assert f.change() is Change.TRUNCATED


def test_no_change_while_appending(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(b"a\n")
    f = _follower(path)
    f.open(None, 0.0)
    f.read(0.0)
    assert f.change() is Change.NONE


def test_resume_at_checkpoint_same_inode(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(b"aa\nbb\ncc\n")
    st = path.stat()
    f = _follower(path)
    f.open(Checkpoint(str(path), st.st_dev, st.st_ino, 3), 0.0)
    assert [(ln.start, ln.raw) for ln in f.read(0.0)] == [(3, b"bb"), (6, b"cc")]


def test_resume_truncated_while_down_restarts_at_zero(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_bytes(b"q\n")
    st = path.stat()
    f = _follower(path)
    f.open(Checkpoint(str(path), st.st_dev, st.st_ino, 500), 0.0)
    assert _raws(f) == [b"q"]


def test_resume_rotated_while_down_finishes_rotated_file_first(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(b"old1\nold2\n")
    st = path.stat()
    path.rename(tmp_path / "app.log.1")
    path.write_bytes(b"new1\n")
    f = _follower(path)
    f.open(Checkpoint(str(path), st.st_dev, st.st_ino, 5), 0.0)
    assert _raws(f) == [b"old2"]
    assert f.change() is Change.ROTATED


def test_checkpoint_store_round_trip_and_atomic_replace(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path / "state", tmp_path / "f.log")
    assert store.load() is None
    store.save(Checkpoint("f.log", 1, 2, 3))
    store.save(Checkpoint("f.log", 1, 2, 40))
    assert store.load() == Checkpoint("f.log", 1, 2, 40)
    assert os.listdir(tmp_path / "state") == [store.path.name]  # no temp file left behind


def _state_after(split: str, buffer: bytes, offset: int, max_line: int) -> tuple[list[tuple[int, int, bytes]], bytes, int]:
    f = FileFollower(Path("unused"), settle_s=30.0, chunk_bytes=4096, max_line_bytes=max_line)
    f._partial, f._offset = buffer, offset
    lines = getattr(f, split)()
    return [tuple(line) for line in lines], f._partial, f._offset


@settings(max_examples=400, deadline=None)
@given(buffer=st.lists(st.sampled_from([b"a", b"bc", b" ", b"\r", b"\n", b"\r\n", b"\n\n", b"x" * 9]),
                       max_size=40).map(b"".join),
       offset=st.integers(0, 2**40), max_line=st.sampled_from([8, 16, 1024]))
def test_bulk_split_gives_the_cutting_loops_lines(buffer: bytes, offset: int, max_line: int) -> None:
    """``_split`` (bytes.split) and ``_split_cutting`` (the find loop it replaced) agree on any buffer:
    lines, their offsets, the held partial line and the next offset, overlong lines included."""
    assert _state_after("_split", buffer, offset, max_line) == _state_after("_split_cutting", buffer, offset, max_line)
