"""encode_jsonl: the typed-dict pass gives parse_jsonl's verdict, reasons and bytes, line for line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from deskwatch.producers.parse import Rejected, parse_jsonl
from deskwatch.producers.parse.contract import SourceContext
from deskwatch.producers.parse.encode_jsonl import (
    SchemaMirrorError,
    _encode_fast,
    encode_jsonl,
    typed_dict_schema,
)
from deskwatch.producers.simulate import FleetSpec, simulate_fleet
from deskwatch.schemas import EventBatch, WorkstationEvent, decode_events_record
from hypothesis import given, settings
from hypothesis import strategies as st

from .samples import GOOD_JSONL, REFERENCE, ValidatedName, jsonl_line, make_ctx, through_models

CTX = make_ctx("agent.jsonl")


def _through_models(raw: bytes, position: int | str, ctx: SourceContext = CTX) -> tuple[str, bytes] | Rejected:
    """The reference: parse_jsonl, then the model's own serialiser (what WireEnveloper did)."""
    return through_models(raw, position, ctx)


LINES = {
    "plain": jsonl_line(),
    "crlf": jsonl_line() + b"\r\n",
    "senders-original-dataset-id": jsonl_line(event={**GOOD_JSONL["event"], "id": "abc", "original": "o", "dataset": "d"}),
    "explicit-nulls": jsonl_line(event={**GOOD_JSONL["event"], "id": None, "original": None, "severity": None}),
    "no-log-no-labels": json.dumps({k: v for k, v in GOOD_JSONL.items() if k != "log"}).encode(),
    "host-with-spaces": jsonl_line(host={"name": "  pc-7  ", "id": "x"}),
    "offset-timestamp": jsonl_line(**{"@timestamp": "2024-03-04T08:15:02.123456789+02:00"}),
    "escapes-and-unicode": jsonl_line(message='quote " backslash \\ é \u2028 \t', labels={"k\"": "v\n"}),
    "raw-utf8": json.dumps({**GOOD_JSONL, "message": "é ü 漢"}, ensure_ascii=False).encode(),
    "duplicate-keys": b'{"message": "a", ' + jsonl_line()[1:],
    "labels": jsonl_line(labels={"channel": "System", "site": "x"}),
    "log-offset": jsonl_line(log={"level": "info", "offset": 12, "file_path": "C:\\x.log"}),
    # Where the two JSON readers could disagree: the fallback must make the results equal.
    "int-beyond-64-bits": jsonl_line(schema_version=2**70),
    "log-offset-beyond-64-bits": jsonl_line(log={"level": "info", "offset": 2**66}),
    "lone-surrogate-escape": jsonl_line(message="\ud800"),  # json.dumps writes it as the escape \ud800
    "nan-literal": jsonl_line().replace(b'"message"', b'"labels": {"x": NaN}, "message"'),
    "utf8-bom": b"\xef\xbb\xbf" + jsonl_line(),
    "invalid-utf8": jsonl_line(message="x").replace(b'"x"', b'"\xff"'),
    # Rejections: parse_jsonl's reasons and details, unchanged.
    "truncated": b'{"@timestamp": ',
    "number": b"42",
    "null-host": jsonl_line(host=None),
    "blank-host": jsonl_line(host={"name": "   "}),
    "host-as-string": jsonl_line(host="pc-1"),
    "host-name-number": jsonl_line(host={"name": 7}),
    "naive-timestamp": jsonl_line(**{"@timestamp": "2024-03-04T08:15:02"}),
    "bad-level": jsonl_line(log={"level": "loud"}),
    "no-code": jsonl_line(event={"provider": "x"}),
    "null-code": jsonl_line(event={"provider": "x", "code": None}),
    "extra-field": jsonl_line(surprise=1),
    "extra-event-field": jsonl_line(event={**GOOD_JSONL["event"], "surprise": 1}),
    "message-too-long": jsonl_line(message="x" * 70_000),
}


@pytest.mark.parametrize("raw", list(LINES.values()), ids=list(LINES))
def test_same_verdict_and_bytes_as_the_models(raw: bytes) -> None:
    for position in (12, "1234:56"):
        assert encode_jsonl(raw, position, CTX) == _through_models(raw, position)


@pytest.mark.parametrize(("name", "fast"), [
    ("plain", True), ("explicit-nulls", True), ("no-log-no-labels", True), ("int-beyond-64-bits", False),
    ("lone-surrogate-escape", False), ("truncated", False), ("bad-level", False),
], ids=lambda v: str(v))
def test_which_lines_take_the_typed_dict_pass(name: str, fast: bool) -> None:
    """The equality above must not hold only because every line fell back to parse_jsonl."""
    assert (_encode_fast(LINES[name], 1, CTX) is not None) is fast


def test_simulated_fleet_lines_and_their_envelope_decode() -> None:
    sim = simulate_fleet(FleetSpec(seed=3, start=REFERENCE, hosts=40, noise_events_per_host_per_hour=4))
    lines = list(sim.events.json_lines())[:400]
    assert len(lines) == 400
    encoded = [encode_jsonl(raw, n, CTX) for n, raw in enumerate(lines)]
    assert encoded == [_through_models(raw, n) for n, raw in enumerate(lines)]
    host, value = encoded[0]  # type: ignore[misc]
    envelope = b'{"kind":"events","schema_version":1,"host":"%s","source":"s","events":[%s]}' % (host.encode(), value)
    decoded = decode_events_record(envelope)  # what the processor's stage 1 calls on each record
    assert isinstance(decoded, EventBatch) and decoded.events == [parse_jsonl(lines[0], 0, CTX)]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["message", "labels", "log", "host", "event", "@timestamp", "x"]),
                       st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=12),
                                    lambda inner: st.dictionaries(st.text(max_size=6), inner, max_size=3),
                                    max_leaves=8), max_size=6))
def test_any_object_gets_the_models_verdict(fields: dict[str, Any]) -> None:
    raw = json.dumps({**GOOD_JSONL, **fields}).encode()
    assert encode_jsonl(raw, 5, CTX) == _through_models(raw, 5)


def test_a_schema_with_a_validator_is_not_mirrored() -> None:
    with pytest.raises(SchemaMirrorError):
        typed_dict_schema(ValidatedName.__pydantic_core_schema__)


def test_the_event_schema_is_mirrored() -> None:
    """The fast pass is live for today's schema (a schema change that disables it shows here)."""
    assert typed_dict_schema(WorkstationEvent.__pydantic_core_schema__)["type"] == "typed-dict"


@settings(max_examples=300, deadline=None)
@given(message=st.text(max_size=40), labels=st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=3),
       stamp=st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=45)),
                                                     timezone(timedelta(hours=-3))])),
       severity=st.none() | st.integers(0, 1000), offset=st.none() | st.integers(0, 2**64))
def test_any_text_time_and_number_give_the_models_bytes(
    message: str, labels: dict[str, str], stamp: datetime, severity: int | None, offset: int | None
) -> None:
    raw = json.dumps({**GOOD_JSONL, "@timestamp": stamp.isoformat(), "message": message, "labels": labels,
                      "event": {**GOOD_JSONL["event"], "severity": severity},
                      "log": {"level": "info", "offset": offset}}, ensure_ascii=False).encode()
    assert encode_jsonl(raw, "9:1", CTX) == _through_models(raw, "9:1")
