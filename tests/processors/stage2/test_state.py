"""GroupState is serialisable and bounded; replays change nothing; unknown rules are reported."""

from __future__ import annotations

from deskwatch.processors.stage2 import GroupState, Outcome, Stage2
from deskwatch.processors.stage2.state import HOSTS_CAP, INCIDENT_HOSTS_CAP, SOURCE_IDS_CAP

from .build import Policy, at, run, signal

STAGE = Stage2({"disk-full": Policy(min_events=2)})


def test_state_round_trips_through_json() -> None:
    results = run(
        STAGE,
        [
            ("signal", signal(0), 0),
            ("signal", signal(1, "pc-2"), 1),
            ("tick", None, 31),
            ("signal", signal(40), 40),
        ],
    )
    for result in results:
        assert GroupState.model_validate_json(result.state.model_dump_json()) == result.state


def test_replayed_signal_changes_nothing() -> None:
    first = STAGE.on_signal(None, signal(0), at(0))
    opened = STAGE.on_signal(first.state, signal(1), at(1))
    replay = STAGE.on_signal(opened.state, signal(1), at(2))
    assert replay.state == opened.state and replay.incidents == [] and replay.changes == []
    assert [d.outcome for d in replay.decisions] == [Outcome.DUPLICATE_SIGNAL]


def test_input_state_is_never_mutated() -> None:
    first = STAGE.on_signal(None, signal(0), at(0))
    before = first.state.model_dump_json()
    STAGE.on_signal(first.state, signal(1), at(1))
    assert first.state.model_dump_json() == before


def test_recent_ids_and_hosts_are_capped() -> None:
    stage = Stage2({"disk-full": Policy()})
    state = stage.on_signal(None, signal(0, "h0000"), at(0)).state
    for i in range(1, HOSTS_CAP + 50):
        state = stage.on_signal(state, signal(0, f"h{i:04}"), at(0)).state
    assert len(state.recent_source_ids) == SOURCE_IDS_CAP
    assert len(state.hosts) == HOSTS_CAP and state.incident is not None
    assert (
        state.incident.host_count == HOSTS_CAP and len(state.incident.hosts) == INCIDENT_HOSTS_CAP
    )
    assert state.incident.event_count == HOSTS_CAP + 50


def test_unknown_rule_is_reported_not_applied() -> None:
    result = STAGE.on_signal(None, signal(0, rule="nope"), at(0))
    assert [d.outcome for d in result.decisions] == [Outcome.UNKNOWN_RULE]
    assert result.state == GroupState()


def test_core_imports_no_streaming_or_search_client() -> None:
    import subprocess
    import sys

    code = (
        "import sys, deskwatch.processors.stage2; "
        "print(sorted({m.split('.')[0] for m in sys.modules}"
        " & {'faust', 'kafka', 'aiokafka', 'elasticsearch', 'mode'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_window_cap_drops_the_oldest_and_says_so() -> None:
    from deskwatch.processors.stage2.state import WINDOW_CAP

    stage = Stage2({"disk-full": Policy(min_events=10**6)})
    state = None
    for i in range(WINDOW_CAP + 1):
        result = stage.on_signal(state, signal(i / 1000, sid=f"s{i}"), at(i / 1000))
        state = result.state
    assert state is not None  # for mypy: the group's state after a signal
    assert len(state.window) == WINDOW_CAP and state.window[0].source_id == "s1"
    assert [(d.outcome, d.source_ids) for d in result.decisions] == [
        (Outcome.WINDOW_EXPIRED, ("s0",)),
        (Outcome.PENDING, (f"s{WINDOW_CAP}",)),
    ]


def _decoded_size(state: GroupState, copies: int = 20) -> float:
    """The bytes that decoding ``copies`` distinct copies of ``state`` allocates, per copy: each
    copy's ids and host names differ, as different groups' do (pydantic shares equal strings)."""
    import gc
    import re
    import tracemalloc

    text = state.model_dump_json()
    def copy(k: int) -> str:
        ids = re.sub(r'"[0-9a-f]{6}([0-9a-f]{34})"', lambda m: f'"{k:06x}{m.group(1)}"', text)
        return ids.replace('"pc-', f'"c{k}-pc-')

    jsons = [copy(k) for k in range(copies)]
    gc.collect()
    tracemalloc.start()
    try:
        decoded = [GroupState.model_validate_json(j) for j in jsons]
        gc.collect()
        size, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len({d.window[0].source_id if d.window else d.recent_source_ids[0] for d in decoded}) == copies
    return size / copies


def test_a_group_states_estimated_bytes_follow_what_its_decoding_allocates() -> None:
    """``decoded_bytes`` bounds the worker's cache of group states; its constants were fitted to
    RSS. Here against the allocations themselves: a pending window and an open incident on many
    hosts, each estimated at no less than it allocates and no more than half again."""
    from datetime import timedelta

    from deskwatch.processors.stage2.state import decoded_bytes

    pending = Stage2({"disk-full": Policy(window=timedelta(hours=2), min_hosts=5000, group_by=("site",))})
    opened = Stage2({"disk-full": Policy(window=timedelta(minutes=10), min_events=1, group_by=("site",))})
    for core, hosts, signals in ((pending, 150, 300), (opened, 300, 600)):
        state = None
        for i in range(signals):
            minute = 100 * i / signals
            state = core.on_signal(state, signal(minute, host=f"pc-{i % hosts:05d}"), at(minute)).state
        assert state is not None
        ratio = decoded_bytes(state) / _decoded_size(state)
        assert 1.0 <= ratio <= 1.5, (len(state.window), len(state.hosts), ratio)
