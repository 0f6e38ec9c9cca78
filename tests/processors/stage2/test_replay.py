"""SourceIdIndex: the same answer as ``source_id in ids``, however a group's lists come and go."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from deskwatch.processors.stage2 import Outcome, Stage2
from deskwatch.processors.stage2.replay import SourceIdIndex
from deskwatch.processors.stage2.state import SOURCE_IDS_CAP, GroupState

from .build import Policy, at, signal

# One step on one of three groups: a new signal id (remembered on a fork, as stage 2 does), a
# look-up of an id (maybe an old one: a replay), going back to an older state of the group (a
# retry), or the state decoded again (an equal list, another object).
STEP = st.tuples(
    st.sampled_from(["new", "look", "older", "decoded"]),
    st.integers(0, 2),
    st.integers(0, 400),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(STEP, max_size=300), st.integers(1, 3), st.integers(1, 8))
def test_the_index_answers_as_the_list_does(steps: list[tuple[str, int, int]], groups: int, min_ids: int) -> None:
    index = SourceIdIndex(groups=groups, min_ids=min_ids)
    history: dict[str, list[GroupState]] = {f"g{n}": [GroupState(group_key=f"g{n}")] for n in range(3)}
    counter = 0
    for op, group, number in steps:
        key = f"g{group}"
        states = history[key]
        state = states[-1]
        if op == "new":
            counter += 1
            fresh = f"id-{counter}"
            assert not index.seen(key, state.recent_source_ids, fresh)
            forked = state.fork()
            forked.remember(fresh)
            index.advance(key, state.recent_source_ids, forked.recent_source_ids)
            states.append(forked)
        elif op == "look":
            wanted = f"id-{number % (counter + 2)}"
            assert index.seen(key, state.recent_source_ids, wanted) is (wanted in state.recent_source_ids)
        elif op == "older":
            states.append(states[number % len(states)])
        else:
            states.append(GroupState.model_validate_json(state.model_dump_json()))
    for key, states in history.items():
        for state in states:
            for n in range(counter + 2):
                assert index.seen(key, state.recent_source_ids, f"id-{n}") is (f"id-{n}" in state.recent_source_ids)


def test_a_set_follows_its_group_past_the_cap() -> None:
    index = SourceIdIndex(groups=1, min_ids=2)
    state = GroupState(recent_source_ids=[f"id-{n}" for n in range(SOURCE_IDS_CAP)])
    assert index.seen("g", state.recent_source_ids, "id-0")
    forked = state.fork()
    forked.remember("id-new")
    index.advance("g", state.recent_source_ids, forked.recent_source_ids)
    assert index.seen("g", forked.recent_source_ids, "id-new")
    assert not index.seen("g", forked.recent_source_ids, "id-0"), "the oldest left the list and the set"
    assert index.seen("g", state.recent_source_ids, "id-0"), "the older state still holds it"


def test_stage2_drops_a_replayed_signal_of_a_long_group_and_a_retry_gives_the_same_result() -> None:
    stage = Stage2({"disk-full": Policy(min_hosts=1000)})  # never opens: every signal is held
    signals = [signal(n / 10, f"pc-{n}") for n in range(200)]
    state = None
    states = []
    for n, s in enumerate(signals):
        state = stage.on_signal(state, s, at(n / 10)).state
        states.append(state)
    replayed = stage.on_signal(state, signals[150], at(30))
    assert [d.outcome for d in replayed.decisions] == [Outcome.DUPLICATE_SIGNAL]
    retried = stage.on_signal(states[99], signals[100], at(10))  # from an older state: not a replay
    assert retried.state == states[100]
    assert [d.outcome for d in stage.on_signal(states[99], signals[99], at(10)).decisions] == [
        Outcome.DUPLICATE_SIGNAL
    ]


def test_a_list_replaced_other_than_by_one_append_does_not_inherit_the_set() -> None:
    index = SourceIdIndex(groups=2, min_ids=1)
    a, b, c, y, z = "id-a", "id-b", "id-c", "id-y", "id-z"
    before = [a, b, c]
    assert index.seen("g", before, c)
    after = [b, y, z]  # as long as one append past a cap of 3 would make it, but c is gone
    index.advance("g", before, after)
    assert not index.seen("g", after, c) and index.seen("g", after, y)
