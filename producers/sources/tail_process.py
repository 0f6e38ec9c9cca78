"""The tail's reader in a child process: reading and encoding there, sending and checkpoints here.

One process cannot pass ~0.5 of the raw send loop's rate: encoding a line costs about as much CPU
as sending it, on one GIL. Here the child runs ``TailReader`` (read, split, encode, envelope) and
sends each step's ``Chunk`` through a pipe: a few operations per envelope, never an object per
event, with the envelopes' bytes in a shared-memory ``EnvelopeRing`` (11 % less CPU in the child
than pickling them into the pipe, medians of 5 alternated runs). The parent replays the chunks
exactly as it replays the in-process reader's: checkpoint, dead letters, counts are one code path.

Decisions:
- ``os.fork``, not spawn: a spawned interpreter imports deskwatch again (about a second of CPU and
  wall before the first line); a forked one starts in milliseconds with every module loaded. The
  parent has threads by then (kafka-python's sender, the progress bar's refresher), so the child
  touches nothing of theirs: no Kafka, no logging, no stdout or stderr (a lock one of them held at
  the fork stays held in the child). It reports through the pipe and leaves with ``os._exit``.
- The child dies with its parent: ``PR_SET_PDEATHSIG`` (Linux: when the thread that forked it
  ends), and the pipe's end of file wherever the child next polls or writes.
- The child ignores SIGINT and SIGTERM: the parent gets them (a terminal or a service manager may
  signal the whole group) and stops the child through the pipe; the child's last chunk then
  carries every open envelope.
"""

from __future__ import annotations

import ctypes
import gc
import os
import signal
import time
import traceback
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from collections.abc import Callable
from typing import NoReturn

from deskwatch.producers.envelope import WireBatch
from deskwatch.producers.sources.checkpoint import Checkpoint
from deskwatch.producers.sources.envelope_ring import EnvelopeRing
from deskwatch.producers.sources.tail_read import SEND, Chunk, TailOptions, TailReader

from deskwatch.settings import TailSettings

_PR_SET_PDEATHSIG = 1
_STOP = b"stop"
_REAP_TIMEOUT_S = 10.0
_MESSAGE_BYTES = 1 << 20
_RING_BYTES = 16 << 20
_RING_SEND = -1  # (_RING_SEND, host, source, count, start, end): a SEND whose bytes are in the ring


class TailProcessError(Exception):
    """The tail's reader process failed, or ended before its last chunk."""


class ReaderProcess:
    """A ``TailReader`` in a forked child; ``next`` returns its chunks as they arrive."""

    def __init__(self, options: TailOptions, settings: TailSettings) -> None:
        self._options, self._settings = options, settings
        self._conn: Connection | None = None
        self._pid = 0
        self._stop_sent = False
        self._ring: EnvelopeRing | None = None

    def start(self, checkpoint: Checkpoint | None) -> None:
        """Fork the reader; its first chunk (the file opened) comes through ``next``."""
        parent_end, child_end = Pipe(duplex=True)
        ring = self._ring = EnvelopeRing(_RING_BYTES)
        parent_pid = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child never returns from here, whatever happens
            try:
                parent_end.close()
                _child(child_end, ring, self._options, self._settings, checkpoint, parent_pid)
            finally:
                os._exit(1)
        child_end.close()  # else the parent would never see the child's end of file
        self._conn, self._pid = parent_end, pid

    @property
    def pid(self) -> int:
        """The child's process id (0 before ``start``)."""
        return self._pid

    def next(self, stopping: bool) -> Chunk | None:
        """The child's next chunk, or None after a poll interval without one; asks it to stop."""
        conn = self._connection()
        if stopping and not self._stop_sent:
            self._stop_sent = True
            try:
                conn.send_bytes(_STOP)
            except OSError:  # it already ended: its last chunk, or its error, is in the pipe
                pass
        if not conn.poll(self._settings.poll_interval_s):
            return None
        try:
            message = conn.recv()
        except EOFError:
            raise TailProcessError(f"the tail's reader process {self._pid} ended without finishing "
                                   f"({self._reap()})") from None
        if isinstance(message, str):
            raise TailProcessError(
                f"the tail's reader process {self._pid} failed ({self._reap()}):\n{message}")
        return self._unpacked(message)

    def close(self) -> None:
        """Close the pipe (a child still reading sees its end and exits) and reap the child."""
        if self._conn is not None:
            self._conn.close()
        if self._pid:
            self._reap()
        if self._ring is not None:
            self._ring.close()
            self._ring = None

    def _unpacked(self, chunk: Chunk) -> Chunk:
        """The chunk with its envelopes' bytes copied out of the ring, and their room released."""
        ring, ops, end = self._ring, chunk.ops, None
        for i, op in enumerate(ops):
            if op[0] == _RING_SEND and ring is not None:
                _, host, source, count, start, end = op
                ops[i] = (SEND, WireBatch(host, source, count, ring.take(start, end)))
        if end is not None and ring is not None:
            ring.release(end)
        return chunk

    def _connection(self) -> Connection:
        if self._conn is None:
            raise TailProcessError("the tail's reader process was not started")
        return self._conn

    def _reap(self) -> str:
        """Wait for the child (killing it past a timeout); how it ended, in words."""
        pid, self._pid = self._pid, 0
        if not pid:
            return "already reaped"
        deadline = time.monotonic() + _REAP_TIMEOUT_S
        while (done := os.waitpid(pid, os.WNOHANG))[0] == 0:
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                done = os.waitpid(pid, 0)
                break
            time.sleep(0.01)
        status = done[1]
        if os.WIFSIGNALED(status):
            return f"killed by {signal.Signals(os.WTERMSIG(status)).name}"
        return f"exit status {os.waitstatus_to_exitcode(status)}"


def _child(conn: Connection, ring: EnvelopeRing, options: TailOptions, settings: TailSettings,
           checkpoint: Checkpoint | None, parent_pid: int) -> NoReturn:
    """The forked child's whole life: read until stopped or finished, then ``os._exit``."""
    code = 1
    try:
        _die_with(parent_pid)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        gc.freeze()  # the parent's objects: never scanned by the child's collections, never copied
        reader, alive = TailReader(options, settings), lambda: os.getppid() == parent_pid
        _read(conn, reader, checkpoint, settings.poll_interval_s,
              lambda chunk: _send(conn, chunk, ring, alive))
        code = 0
    except (EOFError, OSError) as exc:
        if not isinstance(exc, (EOFError, BrokenPipeError, ConnectionResetError)):
            _report(conn)  # a file error: the parent says so; a broken pipe: the parent is gone
    except BaseException:  # noqa: BLE001 - whatever it is, the parent must hear it: no silent stop
        _report(conn)
    finally:
        os._exit(code)


def _read(conn: Connection, reader: TailReader, checkpoint: Checkpoint | None, poll_s: float,
          send: Callable[[Chunk], None]) -> None:
    """Step the reader and send its chunks; one quiet chunk per quiet spell, not one per poll."""
    clock = time.monotonic
    send(reader.start(checkpoint, clock()))
    quiet = False
    while True:
        if conn.poll(poll_s if quiet else 0):
            conn.recv_bytes()  # the stop request (an end of file here: the parent is gone)
            chunk = reader.finish()
        else:
            chunk = reader.step(clock())
        if chunk.finished or (chunk.ops and not (quiet and chunk.only_idle)):
            send(chunk)
        if chunk.finished:
            return
        quiet = not chunk.lines


def _send(conn: Connection, chunk: Chunk, ring: EnvelopeRing, alive: Callable[[], bool]) -> None:
    """Send a chunk in messages of about ``_MESSAGE_BYTES`` of envelopes, in order, counts last;
    the envelopes' bytes through the ring (the rare one too large for it, through the pipe).

    A drain (end of file, a stop) closes every open envelope in one step: sent as one
    message, the parent would wait for all of it to be copied before sending the first.
    """
    ops, start, size = chunk.ops, 0, 0
    for i, op in enumerate(ops):
        if op[0] == SEND:
            batch: WireBatch = op[1]
            if ring.fits(len(batch.value)):
                ops[i] = (_RING_SEND, batch.host, batch.source, batch.count,
                          *ring.put(batch.value, alive))
            size += len(batch.value)
            if size >= _MESSAGE_BYTES:
                conn.send(Chunk(ops[start:i + 1]))
                start, size = i + 1, 0
    chunk.ops = ops[start:]
    conn.send(chunk)


def _report(conn: Connection) -> None:
    try:
        conn.send(traceback.format_exc())
    except OSError:
        pass


def _die_with(parent_pid: int) -> None:
    """SIGKILL this process when its parent dies (Linux); gone already: exit now."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # no prctl: the pipe's end of file still ends the child
        pass
    if os.getppid() != parent_pid:
        os._exit(1)
