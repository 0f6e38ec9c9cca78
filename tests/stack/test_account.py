"""Who may traverse a folder: the engine user must reach every parent of the stack's paths."""

from __future__ import annotations

import pwd
import stat
from pathlib import Path

import pytest

from deskwatch.stack.account import can_traverse, check_reachable
from deskwatch.stack.errors import EngineUserError

ENGINE = pwd.struct_passwd(("deskwatch", "x", 990, 990, "", "/nonexistent", "/usr/sbin/nologin"))


@pytest.mark.parametrize(
    ("mode", "owner", "group", "expected"),
    [
        (0o755, 0, 0, True),
        (0o700, 0, 0, False),  # /root: the reason the stack lives in /var/lib/deskwatch
        (0o700, 990, 0, True),
        (0o750, 0, 990, True),
        (0o750, 0, 0, False),
        (0o711, 0, 0, True),
        (0o644, 990, 990, False),
    ],
    ids=["world-x", "root-only", "owner", "group", "other-group", "x-only", "owner-no-x"],
)
def test_can_traverse(mode: int, owner: int, group: int, expected: bool) -> None:
    assert can_traverse(stat.S_IFDIR | mode, owner, group, ENGINE) is expected


def test_check_reachable_names_the_blocking_folder(tmp_path: Path) -> None:
    blocked = tmp_path / "private"
    (blocked / "inner").mkdir(parents=True)
    blocked.chmod(0o700)
    tmp_path.chmod(0o755)
    with pytest.raises(EngineUserError, match="cannot traverse") as failure:
        check_reachable(blocked / "inner", ENGINE)
    folder = Path(str(failure.value).split("cannot traverse ")[1].split(" (mode")[0])
    assert not can_traverse(
        folder.stat().st_mode, folder.stat().st_uid, folder.stat().st_gid, ENGINE
    )


def test_check_reachable_passes_for_an_open_path() -> None:
    check_reachable(Path("/usr/share"), ENGINE)
