"""Stage2: the pure core of stage 2 — one call per input record, state in, state and effects out.

A faust agent keyed by group key calls it and writes back ``result.state``, forwards
``result.incidents`` to ``incidents``, ``result.changes`` to ``incident-changes`` and
``result.commands`` to ``commands`` (keyed by each command's ``group_key``).

Time: lifecycles run on event time (signals) and tick time; ``now`` is the record's log
timestamp (not the wall clock), so a replay sees the same ``now``. It stamps revisions and
outgoing commands, and silences are evaluated at it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from deskwatch.processors.stage2.absorb import ChildKeys, reconcile
from deskwatch.processors.stage2.draft import Decision, Draft, Stage2Result
from deskwatch.processors.stage2.expire import expire, tick_due
from deskwatch.processors.stage2.obey import obey
from deskwatch.processors.stage2.observe import observe
from deskwatch.processors.stage2.policy import LifecyclePolicy
from deskwatch.processors.stage2.replay import SourceIdIndex
from deskwatch.processors.stage2.state import EARLIER_CAP, GroupState
from deskwatch.processors.stage2.transition import Outcome
from deskwatch.schemas.command import Command, Silence
from deskwatch.schemas.signal import Signal


class Stage2:
    """Thresholds, lifecycle, absorption and silences for the groups of one partition."""

    def __init__(
        self, policies: Mapping[str, LifecyclePolicy], silences: Mapping[str, Silence] | None = None
    ) -> None:
        """``silences`` is read live (a global table in production), by id order."""
        self._policies = policies
        # Groups of these rules keep a few older incidents: a late claim can still cover them.
        self._absorbable = frozenset(child for p in policies.values() for child in p.absorbs)
        self._children = ChildKeys(policies)
        self._silences: Mapping[str, Silence] = silences if silences is not None else {}
        self._replays = SourceIdIndex()

    def on_signal(self, state: GroupState | None, signal: Signal, now: datetime) -> Stage2Result:
        """Apply one signal; a replayed ``source_id`` or an unknown rule changes nothing."""
        state = state or GroupState()
        policy = self._policies.get(signal.rule_id)
        if policy is None:
            return _unchanged(
                state, Outcome.UNKNOWN_RULE, signal, f"rule {signal.rule_id!r} is not loaded"
            )
        ids = state.recent_source_ids
        if self._replays.seen(signal.group_key, ids, signal.source_id):
            return _unchanged(state, Outcome.DUPLICATE_SIGNAL, signal, "")
        draft = Draft(state, now, self._history(state))
        observe(draft, policy, signal, self._silences, self._children)
        reconcile(draft)
        result = draft.finish()
        self._replays.advance(signal.group_key, ids, result.state.recent_source_ids)
        return result

    def on_tick(self, state: GroupState | None, tick_time: datetime) -> Stage2Result:
        """Apply one tick (its wall time): timeouts, lifetimes, window ends, silence starts/ends."""
        state = state or GroupState()
        policy = self._policies.get(state.rule_id)
        if policy is None:
            return Stage2Result(state)  # no rule, no timer
        if state.incident is None or not self.silences_active(tick_time):
            due = tick_due(state, policy)
            if due is None or tick_time < due:
                return Stage2Result(state)  # nothing this tick can end: skip the copy
        draft = Draft(state, tick_time, self._history(state))
        expire(draft, policy, tick_time, self._silences)
        reconcile(draft)
        return draft.finish()

    def tick_due(self, state: GroupState) -> datetime | None:
        """The first time at which a tick can change ``state`` by its timers (expire.tick_due); None
        when none can (as for a rule no longer loaded). A live incident can besides be silenced by
        any tick at which a silence is active (``silences_active``)."""
        policy = self._policies.get(state.rule_id)
        return None if policy is None else tick_due(state, policy)

    def silences_active(self, at: datetime) -> bool:
        """Whether any silence is active at ``at``: then a tick may silence any live incident. (A
        silence expired meanwhile by the table's follower thread reads as none.)"""
        silences = self._silences
        return any(s is not None and s.active_at(at) for s in map(silences.get, list(silences)))

    def tickable(self, state: GroupState) -> bool:
        """Whether some tick can change ``state``: a live incident or signals in its window, under
        a known rule. ``on_tick`` returns any other state untouched, with nothing to emit."""
        return state.rule_id in self._policies and (state.incident is not None or bool(state.window))

    def on_command(self, state: GroupState | None, command: Command, now: datetime) -> Stage2Result:
        """Apply one command; one that cannot apply returns a decision saying why."""
        state = state or GroupState()
        draft = Draft(state, now, self._history(state))
        obey(draft, command, self._silences)
        reconcile(draft, command.actor)
        return draft.finish()


    def _history(self, state: GroupState) -> int:
        absorbable = state.parent is not None or state.rule_id in self._absorbable
        return EARLIER_CAP if absorbable else 0


def _unchanged(state: GroupState, outcome: Outcome, signal: Signal, detail: str) -> Stage2Result:
    return Stage2Result(state, decisions=[Decision(outcome, None, (signal.source_id,), detail)])
