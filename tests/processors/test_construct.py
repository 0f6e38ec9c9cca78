"""constructor(): the same model instance as validation gives, for stage 1's per-event models;
replacer(): the same copy as model_copy(update=...) gives, for stage 2's incidents."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, PrivateAttr

from deskwatch.processors.stage1 import ContentWindow, HostState, IdBucket, RuleHit
from deskwatch.processors.fields_set import every_field_set
from deskwatch.processors.construct import ConstructError, constructor, replacer
from deskwatch.processors.stage2 import GroupState
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.incident import ChangeReason, Incident, IncidentStatus, Severity

T = datetime(2026, 11, 29, 9, tzinfo=UTC)

CASES: list[tuple[str, type[BaseModel], dict[str, Any]]] = [
    ("window", ContentWindow, dict(window_start=T, window_s=600, first_seen=T, last_seen=T,
                                   count=2, rule_ids=("r",), group_keys=("r|host.name=a",),
                                   earlier=((1_764_403_800_000_000, 3, 1_764_403_800_000_000, 1_764_404_000_123_456),))),
    ("window_defaults", ContentWindow, dict(window_start=T, window_s=1, first_seen=T,
                                            last_seen=T, count=1)),
    ("hit", RuleHit, dict(rule_id="r", first_seen=T, last_seen=T, count=3)),
    ("closed_hit", RuleHit, dict(rule_id="r", first_seen=T, last_seen=T, count=3, recovered_at=T)),
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



def test_an_unknown_name_in_place_of_a_field_does_not_claim_every_field_set() -> None:
    values = dict(CASES[0][2])
    del values["group_keys"]
    odd = constructor(ContentWindow)(**values, other=1)
    assert odd.__pydantic_fields_set__ == set(values) | {"other"}


# replacer: model_copy(update=...) without its generic steps.
_INCIDENT = Incident(id="i", rule_id="r", group_key="r|site=a", title="t", first_seen=T, last_seen=T,
                     event_count=1, revision=1, hosts=["a"])
_CHANGE = IncidentChange(incident_id="i", revision=2, rule_id="r", rule_version=1, group_key="g",
                         from_status=IncidentStatus.OPEN, to_status=IncidentStatus.RESOLVED,
                         reason=ChangeReason.RECOVERY_EVENT, severity=Severity.LOW, at=T)
REPLACED: list[tuple[str, BaseModel, dict[str, Any]]] = [
    ("incident", _INCIDENT, dict(event_count=5, hosts=["a", "b"], host_count=2, revision=2, updated_at=T)),
    ("incident_nothing", _INCIDENT, {}),
    ("change", _CHANGE, dict(notify=False)),
    ("window", ContentWindow(**CASES[1][2]), dict(count=3, rule_ids=("x",))),
]


@pytest.mark.parametrize("case", REPLACED, ids=[c[0] for c in REPLACED])
def test_replaced_equals_model_copy(case: tuple[str, BaseModel, dict[str, Any]]) -> None:
    _, instance, values = case
    replaced = replacer(type(instance))(instance, **values)
    copied = instance.model_copy(update=values)
    assert type(replaced) is type(instance) and replaced is not instance
    assert replaced == copied
    assert list(replaced.__dict__) == list(copied.__dict__)
    assert replaced.model_fields_set == copied.model_fields_set
    assert replaced.model_dump_json() == copied.model_dump_json()
    assert instance.model_dump() == case[1].model_dump(), "the original is left as it was"


def test_a_replaced_shared_fields_set_stays_shared_and_an_own_one_is_never_mutated() -> None:
    every = every_field_set(Incident)
    full = Incident.model_validate_json(_INCIDENT.model_dump_json())  # decoded: every field set
    object.__setattr__(full, "__pydantic_fields_set__", every)
    assert replacer(Incident)(full, event_count=2).__pydantic_fields_set__ is every
    own = _INCIDENT.__pydantic_fields_set__
    before = set(own)
    copied = replacer(Incident)(_INCIDENT, flapping=True)
    assert copied.__pydantic_fields_set__ == before | {"flapping"} and own == before
    assert copied.__pydantic_fields_set__ is not own


def test_a_mutable_model_copy_gets_its_own_fields_set() -> None:
    state = GroupState(rule_id="r")
    copied = replacer(GroupState)(state, group_key="g")
    copied.episodes = 3  # assignment adds to the copy's set only
    assert "episodes" in copied.model_fields_set and "episodes" not in state.model_fields_set


def test_replacer_refuses_what_constructor_refuses() -> None:
    with pytest.raises(ConstructError, match="private"):
        replacer(_Private)
