"""Fuzz target: ``read_evtx`` over damaged copies of the sample .evtx files, written to tmp files.

Damage kinds: bytes flipped (file header, a chunk header, record data), the file cut at any
offset, the file header or a chunk header zeroed, a chunk repeated, garbage after the magic.
Every file must yield only events and ``Rejected`` records, and never raise.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Final

from deskwatch.producers.parse import Rejected, read_evtx

from reliability.outcome import Outcome
from reliability.parsers import CTX, _measured
from reliability.seeds import evtx_samples

HEADER: Final = 4096
CHUNK: Final = 65536
KEEP_CHUNKS: Final = 2  # the samples cut to their first chunks, so 10,000 files take minutes


def _flip(data: bytearray, rng: random.Random, start: int, end: int) -> None:
    for _ in range(rng.randint(1, 16)):
        data[rng.randrange(start, min(end, len(data)))] ^= 1 << rng.randrange(8)


def _damage(base: bytes, rng: random.Random) -> tuple[str, bytes]:
    data, chunks = bytearray(base), max(1, (len(base) - HEADER) // CHUNK)
    chunk = HEADER + rng.randrange(chunks) * CHUNK
    kind = rng.choice(("flip_header", "flip_chunk_header", "flip_records", "cut", "zero_header",
                       "zero_chunk_header", "repeat_chunk", "garbage"))
    if kind == "flip_header":
        _flip(data, rng, 0, 128)
    elif kind == "flip_chunk_header":
        _flip(data, rng, chunk, chunk + 512)
    elif kind == "flip_records":
        _flip(data, rng, chunk + 512, chunk + CHUNK)
    elif kind == "cut":
        del data[rng.randrange(len(data)):]
    elif kind == "zero_header":
        data[:HEADER] = bytes(HEADER)
    elif kind == "zero_chunk_header":
        data[chunk: chunk + 512] = bytes(512)
    elif kind == "repeat_chunk":
        data += data[chunk: chunk + CHUNK]
    else:
        data[8:] = rng.randbytes(rng.randint(0, 3 * CHUNK))
    return kind, bytes(data)


def fuzz_evtx(count: int, seed: int = 0) -> Outcome:
    """``count`` damaged files; inputs = files, events/dead letters = what each file yielded."""
    outcome, rng = Outcome("read_evtx damaged", per_record=True), random.Random(seed)
    outcome.notes.append("inputs = files; events and dead letters = records they yielded")
    bases = [p.read_bytes()[: HEADER + KEEP_CHUNKS * CHUNK] for p in evtx_samples()]
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="dw-fuzz-evtx-") as folder:
        path = Path(folder) / "damaged.evtx"
        for _ in range(count):
            kind, data = _damage(rng.choice(bases), rng)
            path.write_bytes(data)
            outcome.inputs += 1
            _measured(outcome, _reader(path, kind, data, outcome))
    outcome.seconds = time.monotonic() - started
    return outcome


def _reader(path: Path, kind: str, data: bytes, outcome: Outcome) -> Callable[[], None]:
    def run() -> None:
        yielded = 0
        try:
            for _, _, result in read_evtx(path, CTX):
                yielded += 1
                if isinstance(result, Rejected):
                    outcome.dead[result.reason] += 1
                else:
                    outcome.events += 1
        except Exception as exc:  # the property under test: nothing escapes
            outcome.crash(kind, data, exc)
        if yielded == 0:
            outcome.refused[f"silent_{kind}"] += 1  # counted so a reader sees them; not a pass/fail
    return run
