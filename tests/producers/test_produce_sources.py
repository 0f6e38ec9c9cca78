"""`deskwatch produce` reads files, standard input and every log inside a zip archive."""

from __future__ import annotations

import zipfile
from pathlib import Path

from deskwatch.producers.cli import _sources


def test_a_zip_yields_each_member_except_macos_resource_forks(tmp_path: Path) -> None:
    archive = tmp_path / "capture.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("capture.json", b'{"a": 1}\n{"a": 2}\n')
        z.writestr("__MACOSX/._capture.json", b"\x00\x05\x16\x07")
        z.writestr("nested/", b"")
    found = [(name, size) for name, _, size in _sources(archive)]
    assert found == [(f"{archive}!capture.json", 18)]
    (_, opener, _), = _sources(archive)
    with opener() as stream:
        assert stream.peek(4)[:4] == b'{"a"' and stream.read() == b'{"a": 1}\n{"a": 2}\n'


def test_a_plain_file_is_one_source(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"x\n")
    (name, opener, size), = _sources(log)
    assert (name, size) == (str(log), 2)
    with opener() as stream:
        assert stream.read() == b"x\n"
