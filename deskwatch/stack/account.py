"""The unprivileged account Elasticsearch runs as (it refuses root), and the paths it must reach."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from pathlib import Path

from deskwatch.stack.errors import EngineUserError


def engine_account(name: str) -> pwd.struct_passwd | None:
    """The account to run engines as: ``name`` (created if missing) under root, else None (us)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    command = ["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", name]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise EngineUserError(f"cannot create the engine user: {' '.join(command)}: {done.stderr}")
    return pwd.getpwnam(name)


def can_traverse(mode: int, owner: int, group: int, user: pwd.struct_passwd) -> bool:
    """Whether ``user`` may enter a folder with these mode bits and ownership (pure)."""
    if owner == user.pw_uid:
        return bool(mode & stat.S_IXUSR)
    if group == user.pw_gid:
        return bool(mode & stat.S_IXGRP)
    return bool(mode & stat.S_IXOTH)


def check_reachable(path: Path, user: pwd.struct_passwd) -> None:
    """Fail with the blocking folder named when ``user`` cannot traverse a parent of ``path``."""
    for folder in reversed(path.resolve().parents):
        info = folder.stat()
        if not can_traverse(info.st_mode, info.st_uid, info.st_gid, user):
            raise EngineUserError(
                f"the engine user {user.pw_name!r} cannot traverse {folder} "
                f"(mode {stat.filemode(info.st_mode)}), so it cannot reach {path}; "
                "choose a stack home outside it, e.g. DESKWATCH_STACK__HOME=/var/lib/deskwatch"
            )


def give_to(user: pwd.struct_passwd | None, *paths: Path) -> None:
    """Make ``user`` own every file under ``paths`` (no-op when we already run as ``user``)."""
    if user is None:
        return
    for top in paths:
        os.chown(top, user.pw_uid, user.pw_gid)
        for root, dirs, files in os.walk(top):
            for name in dirs + files:
                os.chown(os.path.join(root, name), user.pw_uid, user.pw_gid, follow_symlinks=False)
