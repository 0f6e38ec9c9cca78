"""Silences: matching incidents are tracked but marked silenced, and their changes do not notify."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deskwatch.processors.stage2 import Stage2
from deskwatch.schemas.command import Matcher, Silence
from deskwatch.schemas.incident import ChangeReason

from .build import Policy, at, run, signal, silence


def _regex(sid: str, name: str, pattern: str, op: str = "=~") -> Silence:
    return Silence(
        id=sid,
        matchers=[Matcher(name=name, value=pattern, op=op)],  # type: ignore[arg-type]
        starts_at=at(0),
        ends_at=at(60),
        created_by="bob",
    )


# (id, silence, hosts of the incident, silenced?)
MATCHES = [
    ("rule-id", silence("s", 0, 60, rule_id="disk-full"), ["pc-1"], True),
    ("other-rule", silence("s", 0, 60, rule_id="cpu-hot"), ["pc-1"], False),
    ("group-field", silence("s", 0, 60, site="paris"), ["pc-1"], True),
    ("group-field-dotted", silence("s", 0, 60, **{"group.site": "paris"}), ["pc-1"], True),
    ("group-field-other", silence("s", 0, 60, site="lyon"), ["pc-1"], False),
    ("host-single", silence("s", 0, 60, host="pc-1"), ["pc-1"], True),
    ("host-not-all", silence("s", 0, 60, host="pc-1"), ["pc-1", "pc-2"], False),
    ("host-regex-all", _regex("s", "host", r"pc-\d"), ["pc-1", "pc-2"], True),
    ("not-regex", _regex("s", "site", "par.*", "!~"), ["pc-1"], False),
    ("all-matchers-needed", silence("s", 0, 60, site="paris", rule_id="cpu-hot"), ["pc-1"], False),
    ("not-yet-active", silence("s", 30, 60, site="paris"), ["pc-1"], False),
]


@pytest.mark.parametrize(
    ("sil", "hosts", "silenced"), [m[1:] for m in MATCHES], ids=[m[0] for m in MATCHES]
)
def test_matchers(sil: Silence, hosts: list[str], silenced: bool) -> None:
    stage = Stage2({"disk-full": Policy()}, {sil.id: sil})
    result = run(stage, [("signal", signal(1, h), 1) for h in hosts])[-1]
    assert result.state.incident is not None
    assert result.state.incident.silenced_by == ("s" if silenced else None)


def test_silence_on_then_off_by_ticks_and_notify_follows() -> None:
    silences = {"maint": silence("maint", 5, 20, site="paris")}
    steps = [
        ("signal", signal(0), 0),
        ("tick", None, 5),
        ("signal", signal(10), 10),
        ("tick", None, 20),
    ]
    results = run(Stage2({"disk-full": Policy()}, silences), steps)
    assert [c.notify for c in results[0].changes] == [True]
    assert [(c.reason, c.notify) for c in results[1].changes] == [(ChangeReason.SILENCED, False)]
    assert results[2].incidents[0].silenced_by == "maint" and results[2].changes == []
    assert [(c.reason, c.notify) for c in results[3].changes] == [(ChangeReason.UNSILENCED, True)]
    assert results[3].incidents[0].silenced_by is None
    assert results[-1].state.incident is not None and results[-1].state.incident.event_count == 2


def test_incident_opening_inside_a_silence_never_notifies() -> None:
    silences = {"maint": silence("maint", 0, 20, site="paris")}
    result = run(Stage2({"disk-full": Policy()}, silences), [("signal", signal(1), 1)])[-1]
    assert [(c.reason, c.notify) for c in result.changes] == [
        (ChangeReason.OPENED, False),
        (ChangeReason.SILENCED, False),
    ]
    assert [c.revision for c in result.changes] == [1, 2] and result.incidents[0].revision == 2


def test_silence_table_is_read_live() -> None:
    silences: dict[str, Silence] = {}
    stage = Stage2({"disk-full": Policy()}, silences)
    first = stage.on_signal(None, signal(0), at(0))
    silences["late"] = silence("late", 0, 60, site="paris")
    tick = stage.on_tick(first.state, at(1))
    assert [c.reason for c in tick.changes] == [ChangeReason.SILENCED]


class _Vanishing(dict[str, Silence]):
    """A silences table whose entry is expired by another thread between listing and reading."""

    def __iter__(self) -> Iterator[str]:
        keys = list(super().__iter__())
        self.clear()
        return iter(keys)


def test_a_silence_expired_while_a_tick_reads_the_table_is_none() -> None:
    policy = Policy()
    steps = [("signal", signal(0, "pc-1", count=3), 0)]
    state = run(Stage2({"disk-full": policy}), steps)[-1].state
    stage = Stage2({"disk-full": policy}, _Vanishing(m=silence("m", 0, 60, site="paris")))
    assert stage.silences_active(at(5)) is False
    result = stage.on_tick(state, at(5))
    assert result.state.incident is not None and result.state.incident.silenced_by is None
