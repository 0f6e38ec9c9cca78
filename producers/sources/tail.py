"""Tail one file into the events topic with a checkpoint that never passes an unacknowledged line.

The loop: a ``TailReader`` reads complete lines, encodes each into its host's envelope (or a dead
letter) and says which envelopes are due; this side replays those operations on ``PendingLines``
and the publisher, learns how far the broker acknowledged, and saves the checkpoint (start of the
oldest unacknowledged line) at most once per ``checkpoint_interval_s``. Rotation and truncation
flush everything first, so a checkpoint only ever names one file.

With ``TailSettings.parse_process`` the reader runs in a child process (``tail_process``): reading
and encoding there, sending and bookkeeping here, on two cores instead of one GIL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import structlog
from deskwatch.producers.envelope import WireBatch
from deskwatch.producers.ingest import IngestCounts, send_rejected
from deskwatch.producers.parse.contract import Rejected
from deskwatch.producers.publish import Publisher
from deskwatch.producers.sources.checkpoint import Checkpoint, CheckpointStore
from deskwatch.producers.sources.pending import PendingLines
from deskwatch.producers.sources.tail_process import ReaderProcess
from deskwatch.producers.sources.tail_read import (DEAD, IDLE, OPEN, OPENED, SEND, SKIP, SWITCH,
                                                    Chunk, TailOptions, TailReader)

from deskwatch.settings import TailSettings

__all__ = ["FileTail", "TailOptions"]

log = structlog.get_logger(__name__)


class ChunkSource(Protocol):
    """Where chunks come from: the reader in this process, or in a child process."""

    def start(self, checkpoint: Checkpoint | None) -> Chunk | None:
        """Open the file; the first chunk, or None when it comes later."""

    def next(self, stopping: bool) -> Chunk | None:
        """The next chunk (the last one has ``finished``), or None when there is none yet."""

    def close(self) -> None:
        """Release the reader (end the child process)."""


class LocalReader:
    """The reader in this process: one step per call, a poll interval's sleep after a quiet one."""

    def __init__(self, reader: TailReader, poll_interval_s: float,
                 clock: Callable[[], float]) -> None:
        self._reader, self._poll, self._clock = reader, poll_interval_s, clock
        self._quiet = False

    def start(self, checkpoint: Checkpoint | None) -> Chunk:
        return self._reader.start(checkpoint, self._clock())

    def next(self, stopping: bool) -> Chunk:
        if stopping:
            return self._reader.finish()
        if self._quiet:
            time.sleep(self._poll)
        chunk = self._reader.step(self._clock())
        self._quiet = not chunk.lines
        return chunk

    def close(self) -> None:
        return None


class FileTail:
    """Follows one path and publishes its lines; ``run`` returns the counts after a final flush."""

    def __init__(self, options: TailOptions, settings: TailSettings, publisher: Publisher,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._opt = options
        self._settings = settings
        self._publisher = publisher
        self._clock = clock
        self._store = CheckpointStore(settings.state_dir, options.path)
        self._pending = PendingLines()
        self._device = self._inode = 0
        self._saved: Checkpoint | None = None
        self._saved_at = 0.0
        self.counts = IngestCounts(source=options.context.source)
        self._apply_op: dict[int, Callable[..., None]] = {
            OPENED: self._opened, OPEN: self._open_envelope, SEND: self._send, DEAD: self._dead,
            SKIP: self._skip, IDLE: self._idle, SWITCH: self._switch}

    def run(self, should_stop: Callable[[], bool],
            on_progress: Callable[[IngestCounts, int], None] | None = None) -> IngestCounts:
        """Follow until ``should_stop()`` (or end of file with ``until_eof``); flush, checkpoint."""
        source = self._source()
        try:
            chunk = source.start(self._store.load())
            while True:
                if chunk is not None:
                    self._apply(chunk)
                    if chunk.lines and on_progress is not None:
                        on_progress(self.counts, chunk.position)
                self._tick(self._clock())
                if chunk is not None and chunk.finished:
                    break
                chunk = source.next(should_stop())
        finally:
            source.close()
        self._flush_all()
        return self.counts

    @property
    def checkpoint_file(self) -> Path:
        path: Path = self._store.path
        return path

    def _source(self) -> ChunkSource:
        s = self._settings
        if s.parse_process:  # the child reads time.monotonic: an injected clock is for this one
            child: ChunkSource = ReaderProcess(self._opt, s)
            return child
        return LocalReader(TailReader(self._opt, s), s.poll_interval_s, self._clock)

    def _apply(self, chunk: Chunk) -> None:
        """Replay one chunk's operations in line order, then its counts."""
        apply = self._apply_op
        for op in chunk.ops:
            apply[op[0]](*op[1:])
        self.counts.read += chunk.read
        self.counts.accepted += chunk.accepted

    def _opened(self, device: int, inode: int, offset: int) -> None:
        self._device, self._inode = device, inode
        self._pending = PendingLines(start=offset)
        log.info("tail opened", path=str(self._opt.path), inode=inode, offset=offset)
        self._save(self._clock())

    def _open_envelope(self, host: str, start: int) -> None:
        self._pending.open_envelope(host, start)

    def _skip(self, end: int) -> None:
        self._pending.skip(end)

    def _send(self, batch: WireBatch) -> None:
        self._publisher.send_batch(batch, self._pending.envelope_sent(batch.host))

    def _dead(self, start: int, position: str, raw: bytes, why: Rejected) -> None:
        source = self._opt.context.source
        send_rejected(self._publisher, self.counts.rejected, source, position, raw, why)
        self._pending.add_dead_letter(start, start)  # the read end moves with the chunk's SKIP

    def _idle(self) -> None:
        if self._pending.unconfirmed and not self._pending.unsent:
            # idle: settle what send_batch's own backpressure settled silently
            self._publisher.flush()
            self._pending.confirm_all()

    def _switch(self, change: str) -> None:
        log.info("tail switching file", path=str(self._opt.path), change=change)
        self._flush_all()  # the reader sent every envelope of the old file just before this

    def _tick(self, now: float) -> None:
        self._pending.confirm(self._publisher.confirmed())
        if now - self._saved_at >= self._settings.checkpoint_interval_s:
            self._save(now)

    def _flush_all(self) -> None:
        self._publisher.flush()
        self._pending.confirm_all()
        self._save(self._clock())

    def _save(self, now: float) -> None:
        if not self._inode:
            return
        checkpoint = Checkpoint(str(self._opt.path), self._device, self._inode,
                                self._pending.checkpoint())
        if checkpoint != self._saved:
            self._store.save(checkpoint)
            self._saved = checkpoint
        self._saved_at = now
