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
from datetime import UTC, datetime
from typing import Final

from deskwatch.processors.stage2.absorb import reconcile
from deskwatch.processors.stage2.draft import Decision, Draft, Stage2Result
from deskwatch.processors.stage2.expire import expire
from deskwatch.processors.stage2.obey import obey
from deskwatch.processors.stage2.observe import observe
from deskwatch.processors.stage2.policy import LifecyclePolicy
from deskwatch.processors.stage2.replay import SourceIdIndex
from deskwatch.processors.stage2.state import EARLIER_CAP, GroupState
from deskwatch.processors.stage2.transition import Outcome
from deskwatch.schemas.command import Command, Silence
from deskwatch.schemas.signal import Signal

ALWAYS: Final = datetime.min.replace(tzinfo=UTC)  # ``tick_due`` of a group every tick can change


class Stage2:
    """Thresholds, lifecycle, absorption and silences for the groups of one partition."""

    def __init__(
        self, policies: Mapping[str, LifecyclePolicy], silences: Mapping[str, Silence] | None = None
    ) -> None:
        """``silences`` is read live (a global table in production), by id order."""
        self._policies = policies
        # Groups of these rules keep a few older incidents: a late claim can still cover them.
        self._absorbable = frozenset(child for p in policies.values() for child in p.absorbs)
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
        observe(draft, policy, signal, self._silences)
        reconcile(draft)
        result = draft.finish()
        self._replays.advance(signal.group_key, ids, result.state.recent_source_ids)
        return result

    def on_tick(self, state: GroupState | None, tick_time: datetime) -> Stage2Result:
        """Apply one tick (its wall time): timeouts, lifetimes, window ends, silence starts/ends."""
        state = state or GroupState()
        due = self.tick_due(state)
        if due is None or tick_time <= due:
            return Stage2Result(state)  # nothing this tick can end: skip the copy
        policy = self._policies[state.rule_id]
        draft = Draft(state, tick_time, self._history(state))
        expire(draft, policy, tick_time, self._silences)
        reconcile(draft)
        return draft.finish()

    def tick_due(self, state: GroupState) -> datetime | None:
        """The time after which a tick can change ``state`` (``on_tick`` leaves it as it is, and
        emits nothing, at any time up to this one); None when no tick can.

        - A live incident: ``ALWAYS`` (its quiet timeout, lifetime, escalation, acknowledgement
          and silences are all read at each tick).
        - Signals pending alone: when the oldest would leave the window (``expire`` drops an
          entry older than the tick's time minus the window). Silences and quiet timeouts concern
          live incidents only, and ``reconcile`` already ran on this very state at its last input
          (it is idempotent). Most groups of a busy fleet are such.
        - Neither, or a rule no longer loaded: None.
        """
        policy = self._policies.get(state.rule_id)
        if policy is None:
            return None
        if state.incident is not None:
            return ALWAYS
        if not state.window:
            return None
        return min(entry.last_seen for entry in state.window) + policy.window

    def tickable(self, state: GroupState) -> bool:
        """Whether some tick can change ``state``: a live incident or signals in its window, under
        a known rule."""
        return self.tick_due(state) is not None

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
