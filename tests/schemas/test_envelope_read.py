"""read_events_record: the msgspec mirror where it reads an envelope as pydantic does, else the model.

Every test compares with ``decode_events_record`` (pydantic) on the same bytes, and says which
records the mirror must take, so that no equality holds only because every record fell back.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from deskwatch.processors.encode import encode
from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.stage1 import Stage1, count_populations
from deskwatch.producers.envelope import EnvelopeLimits, Enveloper
from deskwatch.producers.simulate import FleetSpec, simulate_fleet
from deskwatch.schemas.envelope import (
    EventBatch,
    Tick,
    decode_events_record,
    read_events_record,
)
from deskwatch.schemas.event import EventView, WorkstationEvent, event_json

START = datetime(2026, 11, 23, 8, tzinfo=UTC)


def values(event: EventView) -> tuple[Any, ...]:
    """Every value stage 1 reads from an event, by the attribute names it reads them with."""
    f, h, log = event.event, event.host, event.log
    return (event.timestamp, event.timestamp.utcoffset(), f.id, f.code, f.provider, f.severity,
            f.dataset, h.name, h.id, log.level, log.file_path, event.message, dict(event.labels))


def same_reading(raw: bytes) -> bool:
    """The assertion of every test here; returns whether the mirror took the record."""
    try:
        model = decode_events_record(raw)
    except ValidationError as exc:
        with pytest.raises(ValidationError) as caught:
            read_events_record(raw)
        assert caught.value.errors() == exc.errors()
        return False
    read = read_events_record(raw)
    if isinstance(model, Tick):
        assert read == model
        return False
    assert not isinstance(read, Tick)
    assert (read.host, read.source) == (model.host, model.source)
    assert [values(e) for e in read.events] == [values(e) for e in model.events]
    return not isinstance(read, EventBatch)


def fleet_envelopes(**spec: Any) -> list[bytes]:
    """A simulated fleet's envelopes, as the producer writes them (by alias, without nulls)."""
    sim = simulate_fleet(FleetSpec(**{"seed": 5, "start": START, "duration": timedelta(hours=1),
                                      "hosts": 40, "noise_events_per_host_per_hour": 30, **spec}))
    packer = Enveloper(EnvelopeLimits(max_events=50, max_bytes=900_000, linger_s=600), "test")
    batches = []
    for event in sim.events:
        now = event.timestamp.timestamp()
        batches.extend(packer.due(now))
        full = packer.add(event, len(event.message) + 200, now)
        if full is not None:
            batches.append(full)
    batches.extend(packer.drain())
    return [b.model_dump_json(by_alias=True, exclude_none=True).encode() for b in batches]


@pytest.mark.parametrize("spec", [{}, {"utc_offset_hours": 5.5, "seed": 4}], ids=["utc-fleet", "offset-fleet"])
def test_the_mirror_takes_every_simulated_envelope_and_reads_it_as_pydantic_does(spec: dict[str, Any]) -> None:
    envelopes = fleet_envelopes(**spec)
    assert len(envelopes) > 20
    assert all(same_reading(raw) for raw in envelopes)


def test_an_event_is_written_back_as_the_same_json_from_the_mirror_and_from_the_model() -> None:
    """What a dead letter of one event carries (stage 1's too-old events): its JSON, which reads
    back as the very event, whichever reader stage 1 took it from."""
    checked = 0
    for raw in fleet_envelopes(seed=3, hosts=10)[:20]:
        mirrored, model = read_events_record(raw), decode_events_record(raw)
        assert not isinstance(mirrored, EventBatch | Tick) and isinstance(model, EventBatch)
        for a, b in zip(mirrored.events, model.events, strict=True):
            assert event_json(a) == event_json(b)
            assert WorkstationEvent.model_validate_json(event_json(a)) == b
            checked += 1
    assert checked > 100


def test_stage1_decides_the_same_on_the_mirror_as_on_the_models() -> None:
    sim = simulate_fleet(FleetSpec(seed=9, start=START, duration=timedelta(hours=1), hosts=30,
                                   noise_events_per_host_per_hour=40))
    rules = load_default_pack()
    envelopes = fleet_envelopes(seed=9, hosts=30, noise_events_per_host_per_hour=40)
    outputs = []
    for read in (read_events_record, decode_events_record):
        stage = Stage1(rules, {a.host: a for a in sim.assets}, count_populations(sim.assets, rules))
        states: dict[str, Any] = {}
        out: list[Any] = []
        for n, raw in enumerate(envelopes):
            batch = read(raw)
            assert not isinstance(batch, Tick)
            result = stage.apply(states, batch, START + timedelta(seconds=n))
            out.append((result.decisions, [encode(s) for s in result.signals],
                        [encode(d) for d in result.digests], result.counters))
        outputs.append((out, {host: encode(state) for host, state in states.items()}))
    assert outputs[0] == outputs[1]
    assert sum(len(signals) for _, signals, _, _ in outputs[0][0]) > 0  # rules matched: not a trivial run


ENVELOPE: dict[str, Any] = {
    "kind": "events", "schema_version": 1, "host": "PC-1", "source": "tail:/var/log/x",
    "events": [{
        "schema_version": 1, "@timestamp": "2026-11-23T08:00:00.5Z",
        "event": {"id": "e1", "code": "1502", "provider": "Microsoft-Windows-GroupPolicy"},
        "host": {"name": "PC-1"}, "log": {"level": "error"}, "message": "m", "labels": {"a": "b"},
    }],
}


def _with(**event: Any) -> bytes:
    doc = json.loads(json.dumps(ENVELOPE))
    for path, value in event.items():
        *owners, name = path.split("__")
        target = doc["events"][0]
        for owner in owners:
            target = target[owner]
        if value is _DROP:
            del target[name]
        else:
            target[name] = value
    return json.dumps(doc).encode()


_DROP = object()
CASES = {  # record -> does the mirror take it
    "plain": (_with(), True),
    "offset-time": (_with(**{"@timestamp": "2026-11-23T08:00:00+02:00"}), True),
    "tick": (json.dumps({"kind": "tick", "wall_time": "2026-11-23T08:00:00Z", "partition": 3}).encode(), False),
    # valid, but read by pydantic: the mirror would read these otherwise or cannot identify them
    "no-event-id": (_with(event__id=_DROP), False),
    "time-by-field-name": (json.dumps({**ENVELOPE, "events": [
        {("timestamp" if k == "@timestamp" else k): v for k, v in ENVELOPE["events"][0].items()}]}).encode(), False),
    "provider-to-strip": (_with(event__provider=" GroupPolicy "), False),
    "no-log": (_with(log=_DROP), False),
    "seven-digit-fraction": (_with(**{"@timestamp": "2026-11-23T08:00:00.1234567Z"}), False),
    "code-as-number": (_with(event__code=1502), False),
    # invalid: the same ValidationError as decode_events_record
    "no-events": (json.dumps({**ENVELOPE, "events": []}).encode(), False),
    "empty-host": (json.dumps({**ENVELOPE, "host": ""}).encode(), False),
    "unknown-field": (_with(extra=1), False),
    "naive-time": (_with(**{"@timestamp": "2026-11-23T08:00:00"}), False),
    "bad-level": (_with(log={"level": "loud"}), False),
    "not-json": (b'{"kind": "events", ', False),
    "not-utf8": (_with(message="\udcff").replace(b"\\udcff", b"\xff"), False),
}


@pytest.mark.parametrize("case", CASES)
def test_records_the_mirror_leaves_to_pydantic(case: str) -> None:
    raw, taken = CASES[case]
    assert same_reading(raw) is taken


def test_an_event_without_an_id_is_identified_by_its_model() -> None:
    from deskwatch.processors.stage1.work import event_id_of

    batch = read_events_record(_with(event__id=_DROP))
    assert isinstance(batch, EventBatch)
    assert len(event_id_of(batch.events[0], "src")) == 32


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
_TIMES = st.one_of(
    st.datetimes(timezones=st.just(UTC)).map(lambda t: t.isoformat().replace("+00:00", "Z")),
    st.from_regex(r"20[0-9]{2}-[01][0-9]-[0-3][0-9][T ][0-2][0-9]:[0-6][0-9](:[0-6][0-9](\.[0-9]{1,8})?)?"
                  r"(Z|[+-][0-2][0-9]:?[0-5][0-9])?", fullmatch=True),
)
_FIELDS = {
    "@timestamp": _TIMES,
    "event__code": st.one_of(_TEXT, st.integers()),
    "event__provider": _TEXT,
    "event__severity": st.one_of(st.none(), st.integers(-5, 1005)),
    "host__name": _TEXT,
    "log__level": st.sampled_from(["info", "warning", "Info", "loud"]),
    "message": _TEXT,
    "labels": st.dictionaries(_TEXT, st.one_of(_TEXT, st.integers()), max_size=2),
}


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional=_FIELDS), st.integers(1, 3))
def test_any_event_values_read_as_pydantic_reads_them(fields: dict[str, Any], copies: int) -> None:
    doc = json.loads(_with(**fields))
    doc["events"] = ENVELOPE["events"] * (copies - 1) + doc["events"]  # not only the first item is checked
    same_reading(json.dumps(doc).encode())
