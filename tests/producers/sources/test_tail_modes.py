"""The tail publishes the same envelopes, dead letters, counts and checkpoint whether its reader
runs in this process or in a child process (a recorder that acknowledges at once: no broker)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from deskwatch.producers.envelope import EnvelopeLimits, WireBatch
from deskwatch.producers.parse.contract import SourceContext
from deskwatch.producers.sources.checkpoint import CheckpointStore
from deskwatch.producers.sources.tail import FileTail, TailOptions
from deskwatch.producers.sources.tail_read import OPEN, SEND, TailReader
from deskwatch.schemas import DeadLetter

from deskwatch.settings import TailSettings


class AckingRecorder:
    """Keeps what is sent; the broker acknowledges every send at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, bytes]] = []
        self.letters: list[tuple[str, Any, bytes]] = []
        self._last: Any = None

    def send_batch(self, batch: WireBatch, watermark: Any = None) -> None:
        self.sent.append((batch.host, batch.count, batch.value))
        self._last = watermark if watermark is not None else self._last

    def send_dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append((letter.reason, letter.position, letter.original))

    def confirmed(self) -> Any:
        return self._last

    def flush(self, timeout_s: float = 60.0) -> Any:
        return self._last


def _content(n: int) -> bytes:
    """Lines of 13 hosts, CRLF endings, blank and bad lines, a last line without its newline."""
    out = []
    for i in range(n):
        if i % 97 == 5:
            out.append(b"not json %d\r\n" % i)
        elif i % 89 == 3:
            out.append(b"   \n")
        else:
            line = orjson.dumps({"@timestamp": "2026-11-29T08:00:00Z",
                                 "event": {"code": "7", "provider": "disk"},
                                 "host": {"name": f"PC-{i % 13}"},
                                 "message": f"line {i} " + "x" * (i % 50)})
            out.append(line + (b"\r\n" if i % 2 else b"\n"))
    return b"".join(out) + b'{"unterminated": true'


# (id, lines, chunk bytes: several chunks per file, or one)
CASES = [("small chunks", 3000, 4096), ("one chunk", 300, 1_048_576)]


@pytest.mark.parametrize(("lines", "chunk"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_both_readers_publish_the_same(tmp_path: Path, lines: int, chunk: int) -> None:
    path = tmp_path / "app.jsonl"
    path.write_bytes(_content(lines))
    results = []
    for parse_process in (False, True):
        state = tmp_path / f"state-{parse_process}"
        settings = TailSettings(state_dir=state, chunk_bytes=chunk, max_open_events=200,
                                parse_process=parse_process)
        ctx = SourceContext(source=str(path), reference_time=datetime(2026, 11, 29, tzinfo=UTC))
        options = TailOptions(path, "jsonl", ctx, EnvelopeLimits(40, 900_000, 60.0), until_eof=True)
        recorder = AckingRecorder()
        counts = FileTail(options, settings, recorder).run(lambda: False)  # type: ignore[arg-type]
        saved = CheckpointStore(state, path).load()
        results.append((recorder.sent, recorder.letters, counts, saved and saved.offset))
    in_process, child = results
    assert in_process[0] and in_process[1]  # envelopes and dead letters were published
    assert child == in_process
    assert in_process[3] == path.stat().st_size  # at the end, past the unterminated line too


def test_a_backlog_past_its_bound_sends_the_oldest_envelopes_as_it_is_read(tmp_path: Path) -> None:
    """Envelopes that close by neither count nor bytes (13 interleaved hosts, limits out of reach):
    each read that leaves 200 events open or more sends the oldest envelopes until 180 or fewer
    stay open, the others still open; the end of the file sends the rest. Hosts leave in the order
    they opened."""
    path = tmp_path / "app.jsonl"
    path.write_bytes(_content(3000))
    settings = TailSettings(state_dir=tmp_path / "state", chunk_bytes=4096, max_open_events=200)
    ctx = SourceContext(source=str(path), reference_time=datetime(2026, 11, 29, tzinfo=UTC))
    reader = TailReader(TailOptions(path, "jsonl", ctx, EnvelopeLimits(10**6, 10**9, 60.0), until_eof=True),
                        settings)
    reader.start(None, 0.0)
    opened: list[str] = []
    accepted = sent = sends_before_the_end = 0
    while True:
        chunk = reader.step(0.0)
        for op in chunk.ops:
            if op[0] == OPEN:
                opened.append(op[1])
            elif op[0] == SEND:
                assert op[1].host == opened.pop(0)  # the oldest open envelope
                sent += op[1].count
        accepted += chunk.accepted
        if chunk.finished:
            break
        if any(op[0] == SEND for op in chunk.ops):
            sends_before_the_end += 1
            assert 0 < accepted - sent <= 180 and opened  # not every envelope: the newest stay open
        assert accepted - sent < 200
    assert sends_before_the_end > 5 and not opened and sent == accepted > 2_500


def test_a_tail_that_keeps_up_with_its_writer_still_bounds_its_open_events(tmp_path: Path) -> None:
    """Reads that find new lines but never a full chunk (a writer never paused, never ahead): with
    a linger of a minute and no drain when caught up, only ``max_open_events`` closes envelopes."""
    path = tmp_path / "app.jsonl"
    path.write_bytes(b"")
    settings = TailSettings(state_dir=tmp_path / "state", max_open_events=200, drain_when_caught_up=False)
    ctx = SourceContext(source=str(path), reference_time=datetime(2026, 11, 29, tzinfo=UTC))
    reader = TailReader(TailOptions(path, "jsonl", ctx, EnvelopeLimits(10**6, 10**9, 60.0)), settings)
    reader.start(None, 0.0)
    lines = _content(3000).split(b"\n")[:-1]  # whole lines only
    accepted = sent = 0
    with path.open("ab") as out:
        for start in range(0, len(lines), 60):
            out.write(b"\n".join(lines[start:start + 60]) + b"\n")
            out.flush()
            chunk = reader.step(1.0)  # one second in: no envelope reaches its linger
            accepted += chunk.accepted
            sent += sum(op[1].count for op in chunk.ops if op[0] == SEND)
            assert accepted - sent < 200
    assert sent > 2_000
