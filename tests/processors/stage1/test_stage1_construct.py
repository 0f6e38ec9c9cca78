"""constructor(): the same model instance as validation gives, for stage 1's per-event models."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, PrivateAttr

from deskwatch.processors.stage1 import ContentWindow, HostState, IdBucket, RuleHit
from deskwatch.processors.stage1.construct import ConstructError, constructor, every_field_set, share_fields_set
from deskwatch.schemas.digest import EventDigest

T = datetime(2026, 11, 29, 9, tzinfo=UTC)

CASES: list[tuple[str, type[BaseModel], dict[str, Any]]] = [
    ("window", ContentWindow, dict(window_start=T, window_s=600, first_seen=T, last_seen=T,
                                   count=2, rule_ids=("r",), group_keys=("r|host.name=a",))),
    ("window_defaults", ContentWindow, dict(window_start=T, window_s=1, first_seen=T,
                                            last_seen=T, count=1)),
    ("hit", RuleHit, dict(rule_id="r", first_seen=T, last_seen=T, count=3)),
    ("host_state", HostState, dict(host="a", watermark=T, id_horizon_ms=5, id_buckets={0: IdBucket(ids={"e": 1})},
                                   content={}, hits={})),
    ("id_bucket", IdBucket, dict(ids={"e": 1, "f": 2})),
    ("digest", EventDigest, dict(digest_id="f-1", fingerprint="f", window_start=T, repeat_count=1,
                                 first_seen=T, last_seen=T, host="a", provider="p",
                                 event_code="7", template="t", rule_ids=[], group_keys=[])),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_built_equals_validated_and_model_construct(case: tuple[str, type[BaseModel], dict[str, Any]]) -> None:
    _, model, values = case
    built = constructor(model)(**values)
    validated = model(**values)
    assert type(built) is model
    assert built == validated == model.model_construct(**values)
    assert list(built.__dict__) == list(validated.__dict__)  # field order, defaults included
    assert built.model_fields_set == model.model_construct(**values).model_fields_set
    assert built.model_dump_json() == validated.model_dump_json()


def test_a_missing_required_or_factory_field_is_refused() -> None:
    with pytest.raises(ConstructError, match="id_buckets"):
        constructor(HostState)(host="a", content={}, hits={})


class _Private(BaseModel):
    x: int
    _cache: int = PrivateAttr(default=0)


def test_a_model_with_private_attributes_is_refused() -> None:
    with pytest.raises(ConstructError, match="private"):
        constructor(_Private)


def test_fully_set_frozen_instances_share_one_fields_set_and_copies_leave_it_alone() -> None:
    window = constructor(ContentWindow)
    values = CASES[0][2]
    first, second = window(**values), window(**values)
    every = every_field_set(ContentWindow)
    assert first.__pydantic_fields_set__ is second.__pydantic_fields_set__ is every
    assert every == set(ContentWindow.model_fields)
    partial = window(**CASES[1][2])  # defaults left out: its own set, naming what was given
    assert partial.__pydantic_fields_set__ == set(CASES[1][2]) and partial.__pydantic_fields_set__ is not every
    moved = first.model_copy(update={"count": 9})
    assert moved.count == 9 and moved.__pydantic_fields_set__ is not every
    assert every == set(ContentWindow.model_fields), "a copy's update left the shared set as it was"


def test_a_decoded_instance_shares_the_set_only_when_frozen_and_fully_set() -> None:
    decoded = ContentWindow.model_validate_json(window_json := ContentWindow(**CASES[0][2]).model_dump_json())
    share_fields_set(decoded)
    assert decoded.__pydantic_fields_set__ is every_field_set(ContentWindow)
    assert decoded == ContentWindow.model_validate_json(window_json)
    sparse = ContentWindow.model_validate_json(b'{"window_start":"2026-11-29T09:00:00Z","window_s":1,'
                                               b'"first_seen":"2026-11-29T09:00:00Z",'
                                               b'"last_seen":"2026-11-29T09:00:00Z","count":1}')
    share_fields_set(sparse)
    assert sparse.__pydantic_fields_set__ is not every_field_set(ContentWindow)

    class Mutable(BaseModel):
        a: int = 0

    assert every_field_set(Mutable) is None, "assignment adds to a mutable instance's own set"
    mutable = Mutable(a=1)
    own = mutable.__pydantic_fields_set__
    share_fields_set(mutable)
    assert mutable.__pydantic_fields_set__ is own
