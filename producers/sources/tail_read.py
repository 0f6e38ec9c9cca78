"""The tail's reading half: follow the file, encode its lines, pack envelopes, decide when to send.

No Kafka and no checkpoint here. Each ``step`` returns a ``Chunk``: the operations of one read, in
line order (an envelope opened at a line, an envelope complete, a dead letter, the read end, a
file switch), which ``FileTail`` replays on its ``PendingLines`` and its publisher. The same reader
runs in the tail's own process or in a child process (``tail_process``), so the bookkeeping that
guards the checkpoint is one code path either way; only whole envelopes cross the process boundary.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from deskwatch.producers.envelope import EnvelopeLimits, WireBatch, WireEnveloper
from deskwatch.producers.parse.contract import Rejected, SourceContext
from deskwatch.producers.parse.encode import encoder_for
from deskwatch.producers.sources.checkpoint import Checkpoint
from deskwatch.producers.sources.follow import NO_LINES, Change, FileFollower, Lines

from deskwatch.settings import TailSettings

# Operation codes, the first item of each operation tuple (plain ints: a chunk is pickled whole).
OPENED: Final = 0  # (OPENED, device, inode, offset): a file was opened; reading starts at offset
OPEN: Final = 1  # (OPEN, host, start): the line at start is the first of host's new envelope
SEND: Final = 2  # (SEND, WireBatch): host's envelope is complete, send it
DEAD: Final = 3  # (DEAD, start, position, raw, Rejected): the line at start is a dead letter
SKIP: Final = 4  # (SKIP, end): every byte before end is read and ticketed
IDLE: Final = 5  # (IDLE,): at end of file, nothing new: settle what was sent
SWITCH: Final = 6  # (SWITCH, change): rotated or truncated, all before it sent: flush, switch


@dataclass(frozen=True)
class TailOptions:
    """What to tail and how to read it."""

    path: Path
    fmt: str
    context: SourceContext
    limits: EnvelopeLimits
    until_eof: bool = False  # stop at the end of the file instead of following it


@dataclass(slots=True)
class Chunk:
    """What one read step produced: operations in line order, and this step's own counts."""

    ops: list[tuple[Any, ...]] = field(default_factory=list)
    read: int = 0
    accepted: int = 0
    position: int = 0  # the follower's offset after the step (progress)
    lines: bool = False  # the step read lines (else it was at the end of the file)
    finished: bool = False  # the reader is done: end of file with ``until_eof``, or stopped

    @property
    def only_idle(self) -> bool:
        """Nothing but an ``IDLE``: a quiet poll (a reader process sends one per quiet spell)."""
        return len(self.ops) == 1 and self.ops[0][0] == IDLE and not self.finished


class TailReader:
    """Reads one followed path into chunks of operations; ``step`` per poll, ``finish`` to stop."""

    def __init__(self, options: TailOptions, settings: TailSettings) -> None:
        self._opt = options
        self._settings = settings
        self._encode = encoder_for(options.fmt)  # each line straight to its host and JSON bytes
        self._follower = FileFollower(options.path, settings.partial_line_settle_s,
                                      settings.chunk_bytes, settings.max_line_bytes)
        self._enveloper = WireEnveloper(options.limits, options.context.source)
        self._open_hosts: set[str] = set()  # hosts with an open envelope (an OPEN, no SEND yet)
        self._opened = False

    def start(self, checkpoint: Checkpoint | None, now: float) -> Chunk:
        """Open the file where ``checkpoint`` says (or at 0; later if the path is not there)."""
        chunk = Chunk()
        self._open(checkpoint, now, chunk)
        return chunk

    def step(self, now: float) -> Chunk:
        """Read once: lines into envelopes, due ones out; at end of file, rotation, truncation."""
        chunk = Chunk()
        lines = self._follower.read(now) if self._opened else NO_LINES
        if lines:
            self._handle(lines, now, chunk)
        self._send_due(now, not lines, chunk)
        chunk.lines = bool(lines)
        if not lines:
            if not self._opened:
                self._open(None, now, chunk)
            else:
                self._at_end(now, chunk)
        chunk.position = self._follower.position
        return chunk

    def finish(self) -> Chunk:
        """Stop: every open envelope out, the file closed; unread lines stay past the checkpoint."""
        chunk = Chunk(finished=True)
        self._drain(chunk)
        self._follower.close()
        chunk.position = self._follower.position
        return chunk

    def _open(self, checkpoint: Checkpoint | None, now: float, chunk: Chunk) -> None:
        self._opened = self._follower.open(checkpoint, now)
        if self._opened:
            f = self._follower
            chunk.ops.append((OPENED, f.device, f.inode, f.position))

    def _handle(self, lines: Lines, now: float, chunk: Chunk) -> None:
        """Encode a chunk's lines into their hosts' envelopes (or dead letters), counted once."""
        # inode:offset, not the offset alone: a rotated file's first line must not share the id of
        # the identical first line of the file before it (downstream dedup would drop it).
        prefix, encode, ctx = f"{self._follower.inode}:", self._encode, self._opt.context
        ops, opened, add = chunk.ops, self._open_hosts, self._enveloper.add_encoded
        accepted, blank = 0, 0
        for start, raw in zip(lines.starts, lines.raws, strict=False):
            if not raw or raw.isspace():  # the test of line.strip(), without copying every line
                blank += 1
                continue
            position = prefix + str(start)
            result = encode(raw, position, ctx)
            if isinstance(result, Rejected):
                ops.append((DEAD, start, position, raw, result))
                continue
            accepted += 1
            host = result[0]
            if host not in opened:
                opened.add(host)
                ops.append((OPEN, host, start))
            full = add(host, result[1], len(raw), now)
            if full is not None:
                self._sent(full, ops)
        ops.append((SKIP, lines.end))  # every line of the chunk is ticketed, blank or sent
        chunk.read += len(lines) - blank
        chunk.accepted += accepted

    def _sent(self, batch: WireBatch, ops: list[tuple[Any, ...]]) -> None:
        self._open_hosts.discard(batch.host)
        ops.append((SEND, batch))

    def _send_due(self, now: float, drained: bool, chunk: Chunk) -> None:
        # Adaptive: caught up with the writer (a read found nothing new), no open envelope can
        # grow before the next poll, so all are sent now instead of after a linger. Reading a
        # backlog, envelopes close by count and bytes, or the oldest past max_open_events
        # (bounded memory): a linger there would send one-event envelopes when many hosts
        # interleave. In between (new lines, not a full chunk), the linger bounds a host's wait,
        # and max_open_events still bounds them all (a long linger, a writer never paused).
        enveloper = self._enveloper
        if drained and self._settings.drain_when_caught_up:
            batches = enveloper.drain()
        else:
            batches = [] if self._follower.behind else enveloper.due(now)
            batches += enveloper.past_bound(self._settings.max_open_events)
        for batch in batches:
            self._sent(batch, chunk.ops)

    def _drain(self, chunk: Chunk) -> None:
        for batch in self._enveloper.drain():
            self._sent(batch, chunk.ops)

    def _at_end(self, now: float, chunk: Chunk) -> None:
        """At end of file: settle (IDLE), follow rotation or truncation; ``until_eof`` finishes."""
        chunk.ops.append((IDLE,))
        change = self._follower.change()
        if change is Change.NONE:
            if self._opt.until_eof:
                self._handle(self._follower.finish(), now, chunk)
                self._drain(chunk)
                self._follower.close()
                chunk.finished = True
            return
        if change is Change.ROTATED:
            self._handle(self._follower.finish(), now, chunk)
        self._drain(chunk)  # a checkpoint names one file: all of this one is sent before the switch
        chunk.ops.append((SWITCH, change.value))
        self._open(None, now, chunk)
