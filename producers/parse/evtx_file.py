"""Read a .evtx file with the ``evtx`` package; damaged chunks become rejections, not crashes.

The thin adapter around ``evtx_record``: it owns the file and the Rust iterator, nothing else.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Final

import evtx
from deskwatch.producers.parse.contract import ParseResult, Rejected, SourceContext, quote
from deskwatch.producers.parse.evtx_record import parse_evtx_record

FILE_HEADER_BYTES: Final = 4096
CHUNK_BYTES: Final = 65536
CHUNK_NUMBER: Final = re.compile(r"chunk number (\d+)")


def read_evtx(path: Path, ctx: SourceContext) -> Iterator[tuple[str, bytes, ParseResult]]:
    """Yield ``(position, original bytes, result)`` per record: the position is the record id,
    or ``chunk N`` for a damaged chunk (whose bytes are the file's bytes of that chunk)."""
    try:
        # One thread: the machine is shared, and records then come in file order.
        parser = evtx.PyEvtxParser(str(path), number_of_threads=1)
    except (RuntimeError, OSError) as exc:
        if not Path(path).exists():
            raise
        detail = f"{exc.__class__.__name__}: {quote(exc)}"
        yield "file", _head(path), Rejected("damaged_evtx_file", detail)
        return
    yield from _records(path, parser.records_json(), ctx)
    yield from _truncation(path)


def read_evtx_stream(stream: BinaryIO, ctx: SourceContext) -> Iterator[tuple[str, bytes, ParseResult]]:
    """:func:`read_evtx` of an evtx file that is not one on disk (a zip archive's member, standard
    input): copied first to a private temporary folder (mode 0700), because the reader wants a file
    it can seek in and a damaged chunk's bytes are read back from it; deleted when read."""
    with tempfile.TemporaryDirectory(prefix="deskwatch-evtx-") as folder:
        path = Path(folder) / "copy.evtx"
        with path.open("wb") as copy:
            shutil.copyfileobj(stream, copy, 1 << 20)
        yield from read_evtx(path, ctx)


def _records(
    path: Path, records: Iterator[Any], ctx: SourceContext
) -> Iterator[tuple[str, bytes, ParseResult]]:
    # The iterator goes on after a bad chunk; this bound stops it should it ever repeat one.
    errors_allowed = Path(path).stat().st_size // CHUNK_BYTES + 1
    errors = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except RuntimeError as exc:
            errors += 1
            yield _damaged(path, str(exc), errors)
            if errors >= errors_allowed:
                detail = f"reading stopped after {errors} errors, more than the file has chunks"
                yield "file", b"", Rejected("damaged_evtx_file", detail)
                return
            continue
        if not isinstance(record, dict):  # the stubs allow None: say so rather than skip it
            yield "record", b"", Rejected("damaged_evtx_record", f"reader gave {quote(record)}")
            continue
        original = str(record["data"]).encode()
        position = str(record["event_record_id"])
        yield position, original, parse_evtx_record(original, position, ctx)


def _damaged(path: Path, message: str, count: int) -> tuple[str, bytes, Rejected]:
    found = CHUNK_NUMBER.search(message)
    if found is None:
        return f"error {count}", b"", Rejected("damaged_evtx_record", quote(message, 300))
    number = int(found[1])  # counted from 0, as the chunk's offset below assumes
    offset = FILE_HEADER_BYTES + number * CHUNK_BYTES
    with open(path, "rb") as handle:
        handle.seek(offset)
        chunk = handle.read(CHUNK_BYTES)
    return f"chunk {number}", chunk, Rejected("damaged_evtx_chunk", quote(message, 300))


def _truncation(path: Path) -> Iterator[tuple[str, bytes, Rejected]]:
    # The reader passes over a cut-off last chunk without a word; its size gives it away.
    size = Path(path).stat().st_size
    tail = (size - FILE_HEADER_BYTES) % CHUNK_BYTES if size > FILE_HEADER_BYTES else 0
    if tail:
        with open(path, "rb") as handle:
            handle.seek(size - tail)
            data = handle.read()
        detail = f"the file ends {tail} bytes into a {CHUNK_BYTES}-byte chunk; its records are lost"
        yield "tail", data, Rejected("truncated_evtx_file", detail)


def _head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(FILE_HEADER_BYTES)
