"""Completion markers decide whether a fetch is skipped; unpacking keeps executable bits."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from deskwatch.stack.fetch import MARKER, is_complete, unpack_zip


def folder_with(tmp_path: Path, files: list[str], listed: list[str] | None) -> Path:
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    if listed is not None:
        (tmp_path / MARKER).write_text(json.dumps({"files": listed}))
    return tmp_path


@pytest.mark.parametrize(
    ("files", "listed", "expected"),
    [
        (["libs/a.jar", "libs/b.jar"], ["libs/a.jar", "libs/b.jar"], True),
        (["libs/a.jar", "libs/b.jar"], None, False),
        (["libs/a.jar"], ["libs/a.jar", "libs/b.jar"], False),
        ([], [], False),
    ],
    ids=["complete", "no-marker", "file-missing", "empty-marker"],
)
def test_is_complete(
    tmp_path: Path, files: list[str], listed: list[str] | None, expected: bool
) -> None:
    assert is_complete(folder_with(tmp_path, files, listed)) is expected


def test_unpack_zip_keeps_exec_bits_and_drops_the_top_folder(tmp_path: Path) -> None:
    archive = tmp_path / "es.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        script = zipfile.ZipInfo("elasticsearch-1.0/bin/elasticsearch")
        script.external_attr = 0o755 << 16
        zf.writestr(script, "#!/bin/sh\n")
        config = zipfile.ZipInfo("elasticsearch-1.0/config/jvm.options")
        config.external_attr = 0o644 << 16
        zf.writestr(config, "-Xss1m\n")
    target = tmp_path / "dist" / "elasticsearch"
    target.parent.mkdir()
    unpack_zip(archive, target)
    assert os.access(target / "bin" / "elasticsearch", os.X_OK)
    assert not os.access(target / "config" / "jvm.options", os.X_OK)
    assert sorted(p.name for p in target.parent.iterdir()) == ["elasticsearch"]
