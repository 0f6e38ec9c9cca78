"""The rule index changes no match: indexed candidates give exactly what testing every rule gives.

Compared over the default pack with simulated fleet events, real Windows event logs (the shared
evtx samples) and generated views; and ``required_values`` is checked to be sound on generated
condition trees (a condition that holds never has a value outside the set it claims).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskwatch.processors.evaluate.loghub import default_data_dir
from deskwatch.processors.rules import Condition, RuleSet, load_default_pack
from deskwatch.processors.stage1 import enrich
from deskwatch.producers.parse import SourceContext
from deskwatch.producers.parse.evtx_file import read_evtx
from deskwatch.producers.simulate import FleetSpec, simulate_fleet
from deskwatch.schemas.event import WorkstationEvent

PACK = load_default_pack()
EVTX = [default_data_dir() / "evtx" / name for name in ("system.evtx", "2-vss_7-System.evtx")]


def full_matching(rules: RuleSet, view: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """Every rule's match and resolve_on, tested one by one, in pack order."""
    matched = [r.id for r in rules if r.match.compile()(view)]
    resolved = [r.id for r in rules if r.resolve_on is not None and r.resolve_on.compile()(view)]
    return matched, resolved


def indexed_matching(rules: RuleSet, view: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    return [r.id for r in rules.matching(view)], [r.id for r in rules.resolving(view)]


def simulated_events() -> list[WorkstationEvent]:
    spec = FleetSpec(seed=11, start=datetime(2026, 11, 23, 8, tzinfo=UTC),
                     duration=timedelta(hours=2), hosts=60)
    return list(simulate_fleet(spec).events)


def evtx_events() -> list[WorkstationEvent]:
    """The shared real System logs; the test fails (not skips) if they are missing."""
    ctx = SourceContext(source="evtx", reference_time=datetime(2024, 1, 1, tzinfo=UTC))
    events = []
    for path in EVTX:
        assert path.is_file(), f"shared evtx sample missing: {path}"
        events += [r for _, _, r in read_evtx(Path(path), ctx) if isinstance(r, WorkstationEvent)]
    return events


SOURCES = [("simulated", simulated_events), ("evtx", evtx_events)]


@pytest.mark.parametrize("load", [s[1] for s in SOURCES], ids=[s[0] for s in SOURCES])
def test_index_gives_the_same_rules_as_full_evaluation(load: Callable[[], list[WorkstationEvent]]) -> None:
    events = load()
    assert len(events) > 100
    views = [enrich(event, None) for event in events]
    hits = 0
    for view in views:
        expected = full_matching(PACK, view)
        assert indexed_matching(PACK, view) == expected, view
        hits += bool(expected[0] or expected[1])
    assert hits > 0, "no event matched any rule: the comparison would prove nothing"


CODES = st.sampled_from(["7", "41", "1000", "7036", "1014", "4625", 7, "x"])
PROVIDERS = st.sampled_from(["disk", "Service Control Manager", "sshd", "Microsoft-Windows-Kernel-Power"])
FIELDS = st.sampled_from(["event.code", "event.provider", "labels.channel"])


def leaves() -> st.SearchStrategy[dict[str, Any]]:
    value = st.one_of(CODES, PROVIDERS)
    return st.one_of(
        st.builds(lambda f, v: {"field": f, "equals": v}, FIELDS, value),
        st.builds(lambda f, v: {"field": f, "in": v}, FIELDS, st.lists(value, min_size=1, max_size=3)),
        st.builds(lambda f, e: {"field": f, "exists": e}, FIELDS, st.booleans()),
        st.builds(lambda f, v, e: {"field": f, "equals": v, "exists": e}, FIELDS, value, st.booleans()),
    )


TREES = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, inner),
    ),
    max_leaves=6,
)
VIEWS = st.fixed_dictionaries(
    {},
    optional={"event.code": CODES, "event.provider": PROVIDERS, "labels.channel": PROVIDERS},
)


@settings(max_examples=600, deadline=None)
@given(TREES, VIEWS)
def test_required_values_are_sound(tree: dict[str, Any], view: dict[str, Any]) -> None:
    condition = Condition.model_validate(tree)
    if not condition.compile()(view):
        return
    for path in ("event.code", "event.provider"):
        required = condition.required_values(path)
        assert required is None or str(view.get(path)) in required, (tree, view)


@settings(max_examples=600, deadline=None)
@given(TREES, VIEWS, st.sets(st.sampled_from(["event.code", "event.provider"])))
def test_a_specialised_condition_decides_as_the_full_one(
    tree: dict[str, Any], view: dict[str, Any], decided: set[str]
) -> None:
    condition = Condition.model_validate(tree)
    known = {path: view[path] for path in decided if path in view}
    rest = condition.specialise(known)
    holds = rest if isinstance(rest, bool) else rest(view)
    assert holds == condition.compile()(view), (tree, view, known)


SPECIALISED = [
    # (code, provider, rule, expected: None = not a candidate, True = decided, "rest" = a test left)
    ("7036", "Service Control Manager", "update-failure-host", None),
    ("20", "Microsoft-Windows-WindowsUpdateClient", "update-failure-host", True),
    ("1", "CBS", "update-failure-host", "rest"),  # still depends on log.level
]


@pytest.mark.parametrize(
    "case", SPECIALISED, ids=[f"{c[2]}@{c[1]}:{c[0]}" for c in SPECIALISED]
)
def test_candidates_are_specialised_to_code_and_provider(case: tuple[str, str, str, Any]) -> None:
    code, provider, rule_id, expected = case
    candidates = PACK._match_index.candidates({"event.code": code, "event.provider": provider})
    found = {rule.id: predicate for rule, predicate in candidates}
    if expected is None:
        assert rule_id not in found
        return
    predicate = found[rule_id]
    assert predicate({}) is True if expected is True else predicate({"log.level": "error"})
    if expected == "rest":
        assert predicate({"log.level": "info"}) is False
