"""GroupState.fork: a copy safe to mutate, equal to what model_copy(update=...) made."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from deskwatch.processors.fields_set import every_field_set, share_nested
from deskwatch.processors.stage2.state import SOURCE_IDS_CAP, GroupState, WindowEntry

from .build import at, signal
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
        lambda s: s.opening.clear(),
        lambda s: s.earlier.append(s.incident),
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
    assert state.seen("latest") and not state.seen("never")


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
