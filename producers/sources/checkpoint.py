"""A tailed file's checkpoint (device, inode, offset), written atomically so a crash never tears it.

Write to a temporary file in the same folder, fsync it, rename it over the old one, fsync the
folder: after ``kill -9`` or a power cut the checkpoint is either the old one or the new one.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path


class CheckpointError(Exception):
    """A checkpoint file exists but cannot be read."""


@dataclass(frozen=True)
class Checkpoint:
    """Resume reading the file with this identity at ``offset`` (start of the oldest unacked line)."""

    path: str
    device: int
    inode: int
    offset: int


class CheckpointStore:
    """One JSON file per tailed path under the state folder."""

    def __init__(self, state_dir: Path, tailed: Path) -> None:
        digest = hashlib.sha256(str(tailed.resolve()).encode()).hexdigest()[:16]
        self.path = state_dir / f"tail-{digest}.json"

    def load(self) -> Checkpoint | None:
        """The stored checkpoint, or None when there is none yet."""
        try:
            data = json.loads(self.path.read_text())
            return Checkpoint(**data)
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            raise CheckpointError(f"unreadable checkpoint {str(self.path)!r}: {exc}") from exc

    def save(self, checkpoint: Checkpoint) -> None:
        """Replace the stored checkpoint atomically (temp file + fsync + rename + folder fsync)."""
        write_atomically(self.path, json.dumps(asdict(checkpoint)).encode())


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
