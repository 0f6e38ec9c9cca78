"""encode(): the same bytes as model_dump_json().encode(), for every kind of record the processor writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel

from deskwatch.processors.encode import encode
from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.stage1 import Stage1
from deskwatch.schemas import DeadLetter, EventBatch, WorkstationEvent
from deskwatch.schemas.command import CommandAction
from tests.processors.stage2.build import at, command, signal
from tests.processors.stage2.test_state import STAGE

T0 = datetime(2026, 11, 23, 8, tzinfo=UTC)


def _stage1_outputs() -> list[BaseModel]:
    events = [
        WorkstationEvent.model_validate({
            "@timestamp": T0 + timedelta(seconds=i), "event": {"code": "7", "provider": "disk", "id": f"e{i}"},
            "host": {"name": "pc-1"}, "log": {"level": "error"}, "labels": {"channel": "System"},
            "message": r"The device, \Device\Harddisk0\DR0, has a bad block. é ✓ \"quoted\"",
        })
        for i in range(3)
    ]
    result = Stage1(load_default_pack(), {}, {}).process(EventBatch(host="pc-1", events=events), None, T0)
    assert result.signals and result.digests  # the disk rule matched: real outputs, not empty lists
    return [*result.signals, *result.digests, result.new_state]


def _stage2_outputs() -> list[BaseModel]:
    first = STAGE.on_signal(None, signal(0), at(0))
    opened = STAGE.on_signal(first.state, signal(1, "pc-2"), at(1))
    ack = command(CommandAction.ACK, 2, key=opened.incidents[0].group_key)
    acked = STAGE.on_command(opened.state, ack, at(2))
    assert opened.incidents and opened.changes and acked.changes
    return [opened.state, *opened.incidents, *opened.changes, ack, acked.state, *acked.changes]


OUTPUTS: dict[str, Callable[[], list[BaseModel]]] = {
    "stage1": _stage1_outputs,
    "stage2": _stage2_outputs,
    "dead-letter": lambda: [DeadLetter.of(reason="invalid_envelope", detail="x", stage="stage1",
                                          source="events", position="0:1", original=b"\xff{")],
}


@pytest.mark.parametrize("kind", list(OUTPUTS), ids=list(OUTPUTS))
def test_encode_is_model_dump_json(kind: str) -> None:
    models = OUTPUTS[kind]()
    assert models
    for model in models:
        assert encode(model) == model.model_dump_json().encode(), type(model).__name__


# encoder(): orjson where the schema is plain, with pydantic's bytes.

from datetime import timezone  # noqa: E402
from typing import Any, Literal  # noqa: E402

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from pydantic import AwareDatetime, ConfigDict, Field, TypeAdapter, field_serializer  # noqa: E402

from deskwatch.processors.encode import encoder, plain  # noqa: E402
from deskwatch.processors.host_table import ContentShard  # noqa: E402
from deskwatch.processors.stage1 import IdBucket  # noqa: E402
from deskwatch.schemas.digest import EventDigest  # noqa: E402
from deskwatch.schemas.signal import Signal  # noqa: E402

PLAIN_MODELS = [EventDigest, Signal, ContentShard, IdBucket]


@pytest.mark.parametrize("model", PLAIN_MODELS, ids=lambda m: m.__name__)
def test_the_per_event_records_take_the_orjson_path(model: type[BaseModel]) -> None:
    assert plain(model.__pydantic_core_schema__)
    assert encoder(model) is not encode


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Serialized(_Strict):
    name: str

    @field_serializer("name")
    def _shout(self, value: str) -> str:
        return value.upper()


class _Aliased(_Strict):
    name: str = Field(serialization_alias="Name")


class _Floating(_Strict):
    ratio: float


class _Naive(_Strict):
    at: Any


class _ByAlias(_Strict):
    model_config = ConfigDict(extra="forbid", serialize_by_alias=True)
    name: str = Field(alias="n")


class _IntKeys(_Strict):
    ids: dict[int, str]


class _Extra(BaseModel):
    model_config = ConfigDict(extra="allow")


class _NestedSerialized(_Strict):
    inner: _Serialized


@pytest.mark.parametrize("model", [_Serialized, _Aliased, _Floating, _Naive, _ByAlias, _IntKeys, _Extra,
                                   _NestedSerialized], ids=lambda m: m.__name__)
def test_models_whose_bytes_orjson_might_not_match_keep_pydantic(model: type[BaseModel]) -> None:
    assert encoder(model) is encode


def test_a_value_orjson_refuses_falls_back_to_pydantic() -> None:
    class Big(_Strict):
        n: int
        text: str

    big = Big(n=2**70, text="x")
    assert encoder(Big)(big) == big.model_dump_json().encode()


@pytest.mark.parametrize("kind", ["stage1"])
def test_encoder_is_model_dump_json_on_stage1_outputs(kind: str) -> None:
    for model in OUTPUTS[kind]():
        assert encoder(type(model))(model) == model.model_dump_json().encode(), type(model).__name__


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
_ZONES = st.one_of(st.just(UTC), st.just(timezone.utc),
                   st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m))))
_TIMES = st.one_of(
    st.datetimes(timezones=_ZONES),
    # as pydantic reads them back from a changelog: its own tzinfo class
    st.datetimes(timezones=st.just(UTC)).map(lambda t: TypeAdapter(AwareDatetime).validate_python(t.isoformat())),
    st.datetimes(timezones=_ZONES).map(lambda t: TypeAdapter(AwareDatetime).validate_json(f'"{t.isoformat()}"')),
)
_COUNTS = st.integers(1, 2**63 - 1)


class _Everything(_Strict):
    """Every plain node kind, nested."""

    level: Literal["info", "error"] = "info"
    flag: bool = False
    maybe: int | None = None
    tags: tuple[str, ...] = ()
    names: list[str] = Field(default_factory=list)
    inner: dict[str, IdBucket] = Field(default_factory=dict)


@settings(max_examples=300, deadline=None)
@given(st.builds(EventDigest, digest_id=_TEXT, fingerprint=_TEXT, window_start=_TIMES, repeat_count=_COUNTS,
                 first_seen=_TIMES, last_seen=_TIMES, host=_TEXT, provider=_TEXT, event_code=_TEXT,
                 template=_TEXT, sample_message=_TEXT, sample_event_id=st.none() | _TEXT,
                 site=st.none() | _TEXT, rule_ids=st.lists(_TEXT, max_size=3)),
       st.builds(_Everything, level=st.sampled_from(["info", "error"]), flag=st.booleans(),
                 maybe=st.none() | st.integers(-2**64, 2**64), tags=st.lists(_TEXT, max_size=3).map(tuple),
                 names=st.lists(_TEXT, max_size=3),
                 inner=st.dictionaries(_TEXT, st.builds(IdBucket, ids=st.dictionaries(_TEXT, st.integers(0, 2**62))),
                                       max_size=2)))
def test_encoder_writes_pydantics_bytes(digest: EventDigest, everything: _Everything) -> None:
    assert encoder(EventDigest)(digest) == digest.model_dump_json().encode()
    assert encoder(_Everything) is not encode
    assert encoder(_Everything)(everything) == everything.model_dump_json().encode()
