"""Properties: no parser raises on any input, results are deterministic, framing loses nothing,
and year inference lands within the year before the reference."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

from deskwatch.producers.parse import PARSERS, Rejected, frame_records
from deskwatch.producers.parse.parse_time import place_in_year
from deskwatch.schemas.event import WorkstationEvent
from hypothesis import given, settings
from hypothesis import strategies as st

from .samples import make_ctx

CTX = make_ctx("prop", default_host="pc-1")
PREFIXES = [
    b"",
    b"<34>",
    b"<34>1 ",
    b"<34>1 2003-10-11T22:14:15Z h a - - [",
    b"Jun 14 15:16:01 ",
    b"Feb 29 15:16:01 host tag[",
    b"2016-09-28 04:30:30, ",
    b"{",
    b'{"Event": {"System": ',
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
# Objects whose keys are the ones the parsers look for, with values of any JSON type.
KEYS = [
    "@timestamp",
    "event",
    "host",
    "log",
    "message",
    "winlog",
    "Hostname",
    "SourceName",
    "EventID",
    "Level",
    "TimeCreated",
    "Channel",
    "RecordNumber",
    "Event",
    "System",
    "code",
    "provider",
    "name",
    "event.code",
]
json_objects = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8)


def _check(raw: bytes) -> None:
    for fmt, parse in PARSERS.items():
        first = parse(raw, 1, CTX)
        assert isinstance(first, (WorkstationEvent, Rejected)), fmt
        assert parse(raw, 1, CTX) == first, fmt  # pure: same input, same result


@settings(max_examples=300, deadline=None)
@given(prefix=st.sampled_from(PREFIXES), tail=st.binary(max_size=200))
def test_no_parser_raises_on_bytes(prefix: bytes, tail: bytes) -> None:
    _check(prefix + tail)


@settings(max_examples=200, deadline=None)
@given(prefix=st.sampled_from(PREFIXES), tail=st.text(max_size=120))
def test_no_parser_raises_on_text(prefix: bytes, tail: str) -> None:
    _check(prefix + tail.encode("utf-8", "surrogatepass"))


@settings(max_examples=300, deadline=None)
@given(obj=json_objects, nested=st.booleans())
def test_no_parser_raises_on_json_objects(obj: dict[str, object], nested: bool) -> None:
    _check(json.dumps({"Event": {"System": obj}} if nested else obj).encode())


@settings(max_examples=200, deadline=None)
@given(
    lines=st.lists(
        st.sampled_from([b"2016-09-28 04:30:30, Info CBS x", b"  cont", b"", b"\r\n", b"x"]),
        max_size=12,
    )
)
def test_framing_keeps_every_non_blank_line_in_order(lines: list[bytes]) -> None:
    numbered = list(enumerate(lines, 1))
    records = list(frame_records(numbered, "cbs"))
    kept = [line.rstrip(b"\r\n") for line in lines if line.strip()]
    assert b"\n".join(record for _, record in records) == b"\n".join(kept)
    assert [pos for pos, _ in records] == sorted({pos for pos, _ in records})


@settings(max_examples=300, deadline=None)
@given(
    month=st.integers(1, 12),
    day=st.integers(1, 31),
    reference=st.datetimes(
        min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
    ),
)
def test_inferred_year_is_the_latest_not_after_reference(
    month: int, day: int, reference: datetime
) -> None:
    stamp = place_in_year(month, day, time(12), tz=UTC, year=None, reference=reference)
    if stamp is None:
        assert (month, day) in {(2, 30), (2, 31), (4, 31), (6, 31), (9, 31), (11, 31)}
        return
    limit = reference + timedelta(days=1)
    assert stamp <= limit
    later = stamp.replace(year=stamp.year + 1) if (month, day) != (2, 29) else None
    assert later is None or later > limit
