"""Drop folder: every .evtx / .jsonl / .log file dropped in is ingested once, with its own counts.

A file is taken once its size and mtime stayed the same for ``drop_settle_s`` (a copy in progress
is left alone). It is remembered in a ledger keyed by its content hash (JSON lines, fsynced after
the broker acknowledged the whole file), so the same bytes dropped again, or a restart after a
crash between publishing and moving, never publish twice; then it is moved into ``done/``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from deskwatch.producers.envelope import EnvelopeLimits, WireEnveloper
from deskwatch.producers.ingest import IngestCounts, ingest_records
from deskwatch.producers.parse.contract import ParseError, SourceContext
from deskwatch.producers.parse.dispatch import read_file
from deskwatch.producers.parse.encode import encode_lines
from deskwatch.producers.publish import Publisher

from deskwatch.settings import TailSettings

log = structlog.get_logger(__name__)


class Ledger:
    """Content hashes of the files already ingested, appended and fsynced one line per file."""

    def __init__(self, state_dir: Path, folder: Path) -> None:
        digest = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
        self.path = state_dir / f"drop-{digest}.jsonl"
        self._done: set[str] = set()
        if self.path.exists():
            self._done = {json.loads(line)["sha256"] for line in self.path.read_text().splitlines() if line}

    def __contains__(self, sha256: str) -> bool:
        return sha256 in self._done

    def record(self, sha256: str, name: str, outcome: dict[str, object]) -> None:
        """Remember one ingested file (durably, before it is moved)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as out:
            out.write(json.dumps({"sha256": sha256, "name": name, **outcome}) + "\n")
            out.flush()
            os.fsync(out.fileno())
        self._done.add(sha256)


@dataclass(frozen=True)
class DropOutcome:
    """What became of one dropped file."""

    name: str
    status: str  # ingested | already_ingested | unreadable
    counts: IngestCounts | None = None
    detail: str = ""


class DropFolder:
    """Scans a folder and ingests the files that have settled."""

    def __init__(self, folder: Path, settings: TailSettings, publisher: Publisher, limits: EnvelopeLimits,
                 default_host: str | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.folder = folder
        self._settings = settings
        self._publisher = publisher
        self._limits = limits
        self._default_host = default_host
        self._clock = clock
        self._ledger = Ledger(settings.state_dir, folder)
        self._seen: dict[Path, tuple[int, int, float]] = {}  # path -> (size, mtime_ns, first seen then)
        self._kept: set[tuple[Path, int, int]] = set()  # handled files left in place (drop_move_done off)

    def scan(self) -> list[DropOutcome]:
        """Ingest every settled file now; returns one outcome per file handled."""
        return [self._take(path) for path in self._settled()]

    def run(self, should_stop: Callable[[], bool], on_file: Callable[[DropOutcome], None]) -> None:
        """Scan until ``should_stop()``, reporting each file handled."""
        while not should_stop():
            for outcome in self.scan():
                on_file(outcome)
            time.sleep(self._settings.poll_interval_s * 5)

    def _settled(self) -> Iterator[Path]:
        now = self._clock()
        for path in sorted(self.folder.iterdir()):
            if not path.is_file() or path.suffix.lower() not in self._settings.drop_extensions:
                continue
            st = path.stat()
            if (path, st.st_size, st.st_mtime_ns) in self._kept:
                continue
            seen = self._seen.get(path)
            if seen is None or seen[:2] != (st.st_size, st.st_mtime_ns):
                self._seen[path] = (st.st_size, st.st_mtime_ns, now)
                if self._settings.drop_settle_s > 0:
                    continue
            elif now - seen[2] < self._settings.drop_settle_s:
                continue
            yield path

    def _take(self, path: Path) -> DropOutcome:
        self._seen.pop(path, None)
        sha = _sha256(path)
        if sha in self._ledger:
            self._finish(path, "done")
            return DropOutcome(path.name, "already_ingested")
        try:
            counts = self._ingest(path)
        except (ParseError, OSError) as exc:  # an unknown format, a file gone: park it, say why
            log.warning("drop file unreadable", file=str(path), error=str(exc))
            self._finish(path, "failed")
            return DropOutcome(path.name, "unreadable", detail=str(exc))
        self._ledger.record(sha, path.name, {"read": counts.read, "published": counts.accepted,
                                             "rejected": dict(counts.rejected)})
        self._finish(path, "done")
        return DropOutcome(path.name, "ingested", counts)

    def _ingest(self, path: Path) -> IngestCounts:
        context = SourceContext(source=str(path), default_host=self._default_host,
                                reference_time=datetime.fromtimestamp(path.stat().st_mtime, UTC))
        enveloper = WireEnveloper(self._limits, context.source)
        # A settled file is a backlog, read as `deskwatch produce` reads one: each line straight to
        # its host and JSON bytes, envelopes closed by count, bytes and max_open_events, not by a
        # linger that expires while the file is read (every 4,096 lines: 2 events an envelope
        # over 5,000 hosts, where these close at 20).
        records = read_file(path, context, "auto", encode_lines)
        return ingest_records(records, context.source, self._publisher, enveloper,
                              max_open_events=self._settings.max_open_events)

    def _finish(self, path: Path, where: str) -> None:
        if not self._settings.drop_move_done and where == "done":
            st = path.stat()
            self._kept.add((path, st.st_size, st.st_mtime_ns))
            return
        target = self.folder / where
        target.mkdir(exist_ok=True)
        os.replace(path, target / path.name)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
