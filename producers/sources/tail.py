"""Tail one file into the events topic with a checkpoint that never passes an unacknowledged line.

The loop: read complete lines, parse, put each into its host's envelope (or dead-letter it), send
due envelopes, learn from the publisher how far the broker acknowledged, and save the checkpoint
(start of the oldest unacknowledged line) at most once per ``checkpoint_interval_s``. Rotation and
truncation flush everything first, so a checkpoint only ever names one file.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog
from deskwatch.producers.envelope import EnvelopeLimits, WireBatch, WireEnveloper
from deskwatch.producers.ingest import IngestCounts, send_rejected
from deskwatch.producers.parse.contract import Rejected, SourceContext
from deskwatch.producers.parse.encode import encoder_for
from deskwatch.producers.publish import Publisher
from deskwatch.producers.sources.checkpoint import Checkpoint, CheckpointStore
from deskwatch.producers.sources.follow import NO_LINES, Change, FileFollower, Lines
from deskwatch.producers.sources.pending import PendingLines

from deskwatch.settings import TailSettings

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TailOptions:
    """What to tail and how to read it."""

    path: Path
    fmt: str
    context: SourceContext
    limits: EnvelopeLimits
    until_eof: bool = False  # stop at the end of the file instead of following it


class FileTail:
    """Follows one path and publishes its lines; ``run`` returns the counts after a final flush."""

    def __init__(self, options: TailOptions, settings: TailSettings, publisher: Publisher,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._opt = options
        self._settings = settings
        self._publisher = publisher
        self._clock = clock
        self._encode = encoder_for(options.fmt)  # each line straight to its host and JSON bytes
        self._store = CheckpointStore(settings.state_dir, options.path)
        self._follower = FileFollower(options.path, settings.partial_line_settle_s,
                                      settings.chunk_bytes, settings.max_line_bytes)
        self._enveloper = WireEnveloper(options.limits, options.context.source)
        self._pending = PendingLines()
        self._saved: Checkpoint | None = None
        self._saved_at = 0.0
        self.counts = IngestCounts(source=options.context.source)

    def run(self, should_stop: Callable[[], bool],
            on_progress: Callable[[IngestCounts, int], None] | None = None) -> IngestCounts:
        """Follow until ``should_stop()`` (or end of file with ``until_eof``); flush, checkpoint, return."""
        opened = self._open(self._store.load())
        while not should_stop():
            now = self._clock()
            lines = self._follower.read(now) if opened else NO_LINES
            if lines:
                self._handle(lines, now)
            self._tick(now, drained=not lines)
            if lines:
                if on_progress is not None:
                    on_progress(self.counts, self._follower.position)
                continue
            if not opened:
                opened = self._open(None)
            elif self._at_end(now):
                break
            time.sleep(self._settings.poll_interval_s)
        self._flush_all()
        self._follower.close()
        return self.counts

    @property
    def checkpoint_file(self) -> Path:
        path: Path = self._store.path
        return path

    def _open(self, checkpoint: Checkpoint | None) -> bool:
        opened: bool = self._follower.open(checkpoint, self._clock())
        if opened:
            self._pending = PendingLines(start=self._follower.position)
            log.info("tail opened", path=str(self._opt.path), inode=self._follower.inode,
                     offset=self._follower.position)
        return opened

    def _handle(self, lines: Lines, now: float) -> None:
        """Encode a chunk's lines into their hosts' envelopes (or dead letters), counted once per chunk."""
        # inode:offset, not the offset alone: a rotated file's first line must not share the id of
        # the identical first line of the file before it (downstream dedup would drop it).
        prefix, encode, ctx = f"{self._follower.inode}:", self._encode, self._opt.context
        pending, add = self._pending, self._enveloper.add_encoded
        opened, accepted, blank = pending.open_hosts, 0, 0
        for start, raw in zip(lines.starts, lines.raws):
            if not raw or raw.isspace():  # the test of line.strip(), without copying every line
                blank += 1
                continue
            position = prefix + str(start)
            result = encode(raw, position, ctx)
            if isinstance(result, Rejected):
                send_rejected(self._publisher, self.counts.rejected, ctx.source, position, raw, result)
                pending.add_dead_letter(start, start)  # the read end moves with the chunk, below
                continue
            accepted += 1
            host = result[0]
            if host not in opened:
                pending.open_envelope(host, start)
            full = add(host, result[1], len(raw), now)
            if full is not None:
                self._send(full)
        pending.skip(lines.end)  # every line of the chunk is ticketed, blank or sent
        self.counts.read += len(lines) - blank
        self.counts.accepted += accepted

    def _send(self, batch: WireBatch) -> None:
        self._publisher.send_batch(batch, self._pending.envelope_sent(batch.host))

    def _tick(self, now: float, drained: bool) -> None:
        # Adaptive: caught up with the writer (a read found nothing new), no open envelope can
        # grow before the next poll, so all are sent now instead of after a linger. Reading a
        # backlog, envelopes close by count and bytes, or all at once past max_open_events
        # (bounded memory): a linger there would send one-event envelopes when many hosts
        # interleave. In between (new lines, not a full chunk), the linger bounds a host's wait.
        if drained and self._settings.drain_when_caught_up:
            for batch in self._enveloper.drain():
                self._send(batch)
        elif not self._follower.behind:
            for batch in self._enveloper.due(now):
                self._send(batch)
        elif self._enveloper.pending_events >= self._settings.max_open_events:
            for batch in self._enveloper.drain():
                self._send(batch)
        self._pending.confirm(self._publisher.confirmed())
        if now - self._saved_at >= self._settings.checkpoint_interval_s:
            self._save(now)

    def _at_end(self, now: float) -> bool:
        """At end of file: settle acks, follow rotation/truncation; True when the run should end."""
        if self._pending.unconfirmed and not self._pending.unsent:
            self._publisher.flush()  # idle: settle what send_batch's own backpressure settled silently
            self._pending.confirm_all()
        change = self._follower.change()
        if change is Change.NONE:
            if self._opt.until_eof:
                self._handle(self._follower.finish(), now)
            return self._opt.until_eof
        if change is Change.ROTATED:
            self._handle(self._follower.finish(), now)
        log.info("tail switching file", path=str(self._opt.path), change=change.value)
        self._flush_all()
        self._open(None)
        self._save(now)
        return False

    def _flush_all(self) -> None:
        for batch in self._enveloper.drain():
            self._send(batch)
        self._publisher.flush()
        self._pending.confirm_all()
        self._save(self._clock())

    def _save(self, now: float) -> None:
        if not self._follower.inode:
            return
        checkpoint = Checkpoint(str(self._opt.path), self._follower.device, self._follower.inode,
                                self._pending.checkpoint())
        if checkpoint != self._saved:
            self._store.save(checkpoint)
            self._saved = checkpoint
        self._saved_at = now
