"""GroupState.fork: a copy safe to mutate, equal to what model_copy(update=...) made."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from deskwatch.processors.fields_set import every_field_set, share_nested
from deskwatch.processors.stage2 import Stage2
from deskwatch.processors.stage2.draft import Draft
from deskwatch.processors.stage2.state import SOURCE_IDS_CAP, GroupState, WindowEntry

from deskwatch.schemas.incident import IncidentStatus

from .build import Policy, at, signal
from .test_state import STAGE

Mutation = Callable[[GroupState], None]


def _state() -> GroupState:
    first = STAGE.on_signal(None, signal(0), at(0))
    return STAGE.on_signal(first.state, signal(1, "pc-2"), at(1)).state


@pytest.mark.parametrize(
    "mutate",
    [
        lambda s: s.hosts.append("pc-9"),
        lambda s: s.window.append(WindowEntry.of(signal(3))),
        lambda s: s.device_classes.append("kiosk"),
        lambda s: s.children.append("c"),
        lambda s: s.absorb_targets.append("g"),
        lambda s: s.linked.append("i"),
        lambda s: setattr(s, "opening", []),  # shared lists are replaced, never mutated
        lambda s: setattr(s, "earlier", [*s.earlier, s.incident]),
        lambda s: s.group.update(x="y"),
        lambda s: s.recovered.update({"pc-1": at(5)}),
        lambda s: s.remember("new-id"),
    ],
    ids=["hosts", "window", "device_classes", "children", "absorb_targets", "linked", "opening",
         "earlier", "group", "recovered", "remember"],
)
def test_fork_mutations_leave_the_original(mutate: Mutation) -> None:
    original = _state()
    before = original.model_dump_json()
    forked = original.fork()
    assert forked == original
    mutate(forked)
    assert original.model_dump_json() == before
    assert forked.model_dump_json() != before


def test_fork_shares_the_lists_stage_2_replaces_and_copies_those_it_mutates() -> None:
    state = _state()
    forked = state.fork()
    for name in ("recent_source_ids", "opening", "earlier"):
        assert getattr(forked, name) is getattr(state, name), name
    for name in ("window", "hosts", "device_classes", "children", "absorb_targets", "linked"):
        assert getattr(forked, name) is not getattr(state, name), name


def test_fork_marks_the_same_fields_set_as_model_copy() -> None:
    state = _state()
    lists = ("window", "recent_source_ids", "hosts", "device_classes", "children", "absorb_targets",
             "linked", "opening", "earlier")
    copied = state.model_copy(update={n: list(getattr(state, n)) for n in lists}
                              | {"group": dict(state.group), "recovered": dict(state.recovered)})
    assert state.fork().model_fields_set == copied.model_fields_set


@pytest.mark.parametrize("held", [0, 1, SOURCE_IDS_CAP - 1, SOURCE_IDS_CAP, SOURCE_IDS_CAP + 3],
                         ids=["empty", "one", "below-cap", "at-cap", "over-cap"])
def test_remember_keeps_the_newest_ids_up_to_the_cap(held: int) -> None:
    ids = [f"id-{i}" for i in range(held)]
    state = GroupState(recent_source_ids=ids)
    state.remember("latest")
    assert state.recent_source_ids == (ids + ["latest"])[-SOURCE_IDS_CAP:]
    assert "latest" in state.recent_source_ids and "never" not in state.recent_source_ids


def test_a_decoded_group_shares_its_frozen_models_sets_and_keeps_its_own() -> None:
    decoded = GroupState.model_validate_json(_state().model_dump_json())
    own = decoded.__pydantic_fields_set__
    share_nested(decoded)
    assert decoded.__pydantic_fields_set__ is own, "GroupState is mutable: its set stays its own"
    assert decoded.incident is not None  # for mypy: _state() has opened one
    nested = [decoded.incident, *decoded.window, *decoded.opening]
    assert len(nested) > 1
    for model in nested:
        assert model.__pydantic_fields_set__ is every_field_set(type(model)), type(model).__name__
    assert decoded == _state() and decoded.fork() == decoded


def test_a_late_hit_leaves_the_shared_opening_of_the_input_state() -> None:
    # A late hit before the opening changes ``opening``, which forks share: it is replaced.
    stage = Stage2({"disk-full": Policy(min_hosts=2)})
    state = stage.on_signal(None, signal(5, "pc-1"), at(5)).state
    opened = stage.on_signal(state, signal(6, "pc-2"), at(6)).state
    assert opened.incident is not None and opened.opening
    before = opened.model_dump_json()
    late = stage.on_signal(opened, signal(2, "pc-3"), at(7))
    assert late.state.opening != opened.opening, "the late hit went into the new state's opening"
    assert opened.model_dump_json() == before


def test_a_change_to_an_earlier_incident_leaves_the_shared_earlier_of_the_input_state() -> None:
    resolved = _state().incident
    assert resolved is not None
    older = resolved.model_copy(update={"id": "older", "status": IncidentStatus.RESOLVED})
    last = resolved.model_copy(update={"id": "last", "status": IncidentStatus.RESOLVED})
    state = GroupState(rule_id="disk-full", earlier=[older], last_resolved=last)
    before = state.model_dump_json()
    draft = Draft(state, at(9), history=4)
    draft.touch(older, parent_id="parent")  # an absorb's claim reaching an earlier incident
    assert draft.state.earlier[0].parent_id == "parent"
    assert state.model_dump_json() == before
