"""Stage 1's core: one host envelope in, decisions, signals, digests and the new host state out.

Pure: no faust or kafka, time passed in. Per event: exact dedup by id, enrichment from the
inventory, rule matching, content dedup by fingerprint within the rule's dedup window (a change
event's fingerprint also names its change: ``fingerprint.with_change``), then the event is folded
into its rule groups' signals. One call per envelope, one state write.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from deskwatch.processors.fingerprint import with_change
from deskwatch.processors.rules import Rule, RuleSet, group_key, group_values
from deskwatch.processors.rules.host_change import ChangeDefinition
from deskwatch.processors.stage1.coalesce import Coalescer, SignalDraft
from deskwatch.processors.stage1.decision import (
    DecisionKind,
    EventDecision,
    Stage1Counters,
    Stage1Result,
)
from deskwatch.processors.stage1.deduplicate import ContentOutcome, count_content
from deskwatch.processors.stage1.digest import DigestBook
from deskwatch.processors.stage1.enrich import asset_view, enrich_with, population_of
from deskwatch.processors.stage1.identify import identify
from deskwatch.processors.stage1.state import HostState, HostStateStore, StateLimits
from deskwatch.processors.stage1.work import Floors, RuleGroup, Work, event_id_of
from deskwatch.schemas.asset import Asset
from deskwatch.schemas.envelope import EnvelopeView
from deskwatch.schemas.event import EventView

# Hosts whose last new state's floors are remembered (see bound.py); forgotten all at once when full.
# The memo refers to those states weakly: it keeps no state alive that the state cache dropped.
FLOORS_MAX = 100_000

_KIND = {
    (ContentOutcome.FIRST, True): DecisionKind.NEW,
    (ContentOutcome.FIRST, False): DecisionKind.NO_RULE,
    (ContentOutcome.EXPIRED, True): DecisionKind.WINDOW_EXPIRED,
    (ContentOutcome.EXPIRED, False): DecisionKind.WINDOW_EXPIRED,
    (ContentOutcome.REPEAT, True): DecisionKind.DUPLICATE_CONTENT,
    (ContentOutcome.REPEAT, False): DecisionKind.DUPLICATE_CONTENT,
    (ContentOutcome.EARLIER, True): DecisionKind.WINDOW_EXPIRED,
    (ContentOutcome.EARLIER, False): DecisionKind.WINDOW_EXPIRED,
}


class Stage1:
    """The per-host core; build once per rule set and inventory snapshot, call per envelope."""

    def __init__(
        self,
        rules: RuleSet,
        inventory: Mapping[str, Asset],
        populations: Mapping[str, int],
        limits: StateLimits | None = None,
        floors_max: int = FLOORS_MAX,
        changes: Sequence[ChangeDefinition] = (),
    ) -> None:
        self._rules = rules
        # event code -> the change definitions that may name an event with it (with_change says why)
        self._changes: dict[str, list[ChangeDefinition]] = {}
        for definition in changes:
            for code in definition.codes:
                self._changes.setdefault(code, []).append(definition)
        self._floors_max = floors_max
        self._inventory = inventory
        self._populations = populations
        self._limits = limits or StateLimits()
        self._bucket_ms = round(self._limits.id_bucket.total_seconds() * 1000)
        # host -> (the last state made for it, its floors): a memo of a function of that very
        # object (checked by identity), so results never depend on it, only the cost does. A weak
        # reference: a state evicted from the cache (a host at its id cap is ~0.8 MiB decoded)
        # is freed, and a dead reference is never the state a caller passes.
        self._floors: dict[str, tuple[weakref.ref[HostState], Floors]] = {}
        # host -> (its inventory row, that row's part of every view): checked by identity too.
        self._asset_views: dict[str, tuple[Asset | None, dict[str, Any]]] = {}

    def process(self, batch: EnvelopeView, state: HostState | None, now: datetime) -> Stage1Result:
        """Decide every event of one envelope; ``state`` is not modified."""
        memo = self._floors.get(batch.host)
        work = Work.start(batch.host, state, self._bucket_ms, memo[1] if memo and state is not None and memo[0]() is state else None)
        coalescer, book, counters = Coalescer(), DigestBook(), Stage1Counters()
        decisions = []
        for event in batch.events:
            decision = self._decide(event, batch.source, work, coalescer, book, now)
            decisions.append(decision)
            counters.count(decision)
        signals, digests = coalescer.signals(), book.digests()
        counters.signals, counters.digests = len(signals), len(digests)
        new_state, floors = work.finish(self._limits)
        if len(self._floors) >= self._floors_max:
            self._floors.clear()
        self._floors[batch.host] = (weakref.ref(new_state), floors)
        return Stage1Result(new_state, decisions, signals, digests, counters)

    def apply(self, store: HostStateStore, batch: EnvelopeView, now: datetime) -> Stage1Result:
        """Read the host's state, process the envelope, write the state once (only if it changed)."""
        state = store.get(batch.host)
        result = self.process(batch, state, now)
        if result.new_state != state:
            store[batch.host] = result.new_state
        return result

    def _decide(
        self,
        event: EventView,
        source: str,
        work: Work,
        co: Coalescer,
        book: DigestBook,
        now: datetime,
    ) -> EventDecision:
        eid = event_id_of(event, source)
        dropped = work.admit(eid, event.timestamp, now, self._limits)
        if dropped is not None:
            return dropped
        view = enrich_with(event, self._asset_view(event.host.name))
        fp, template = identify(event)
        if event.event.code in self._changes:
            fp = self._change_fingerprint(fp, event.event.code, view)
        hits = [self._group(rule, view) for rule in self._rules.matching(view)]
        window = min((g.rule.dedup_window for g in hits), default=self._limits.default_dedup_window)
        keys = tuple(g.key for g in hits)
        rule_ids = tuple(g.rule.id for g in hits)
        previous = work.content.get(fp)
        outcome, kept, counted = count_content(previous, event.timestamp, window, rule_ids, keys)
        work.count(fp, kept)
        book.note(fp, counted, event, template, view)
        repeat = outcome is ContentOutcome.REPEAT
        for hit in hits:
            self._fold(co, hit, eid, event, fp, view, repeat, recovery=False)
            work.remember_hit(hit, event.timestamp)
        recovered = self._recover(event, eid, fp, view, work, co, rule_ids)
        kind = _KIND[(outcome, bool(hits))]
        return EventDecision(eid, kind, _reason(kind, counted.count), fp, rule_ids, keys, recovered)

    def _recover(
        self,
        event: EventView,
        eid: str,
        fp: str,
        view: dict[str, Any],
        work: Work,
        co: Coalescer,
        matched: tuple[str, ...],
    ) -> tuple[str, ...]:
        if not work.hits:
            return ()  # no hit: nothing on this host can recover
        recovered = []
        for rule in self._rules.resolving(view):
            if rule.id in matched or not work.may_hold_hit(rule.id):
                continue  # no hit of this rule: its group need not be worked out
            group = self._group(rule, view)
            if not work.recover(group.key, event.timestamp):
                continue  # no hit of the group before it, or one closed before it: noise, not news
            self._fold(co, group, eid, event, fp, view, repeat=False, recovery=True)
            recovered.append(group.key)
        return tuple(recovered)

    def _change_fingerprint(self, fp: str, code: str, view: dict[str, Any]) -> str:
        """A change event's fingerprint names its change: the first definition that names one."""
        for definition in self._changes[code]:
            name = definition.name(view)
            if name is not None:
                return with_change(fp, f"{definition.id}:{name}")
        return fp

    def _group(self, rule: Rule, view: dict[str, Any]) -> RuleGroup:
        rule_view = _extracted(rule, view)
        group = group_values(rule.group_by, rule_view)
        distinct = rule_view.get(rule.count_distinct) if rule.count_distinct else None
        return RuleGroup(
            rule, group, group_key(rule.id, group), None if distinct is None else str(distinct)
        )

    def _fold(
        self,
        co: Coalescer,
        hit: RuleGroup,
        eid: str,
        event: EventView,
        fp: str,
        view: dict[str, Any],
        repeat: bool,
        recovery: bool,
    ) -> None:
        draft = co.current(hit.rule.id, hit.key, recovery) or co.open(
            SignalDraft(
                rule_id=hit.rule.id,
                rule_version=hit.rule.version,
                group_key=hit.key,
                group=hit.group,
                host=event.host.name,
                device_class=view.get("asset.device_class"),
                population=population_of(hit.group, self._populations),
                recovery=recovery,
                fingerprint=fp,
                provider=event.event.provider,
                event_code=event.event.code,
                first_seen=event.timestamp,
                last_seen=event.timestamp,
                sample_message=event.message,
            )
        )
        draft.add(eid, event.timestamp, repeat, hit.distinct_value)

    def _asset(self, host: str) -> Asset | None:
        return self._inventory.get(host) or self._inventory.get(host.casefold())

    def _asset_view(self, host: str) -> dict[str, Any]:
        """The host's asset part of a view, made again only when its inventory row changed."""
        asset = self._asset(host)
        memo = self._asset_views.get(host)
        if memo is not None and memo[0] is asset:
            return memo[1]
        if len(self._asset_views) >= FLOORS_MAX:
            self._asset_views.clear()
        view = asset_view(asset)
        self._asset_views[host] = (asset, view)
        return view


def _extracted(rule: Rule, view: dict[str, Any]) -> dict[str, Any]:
    """The view plus the rule's extracted fields (first matching alternative per field)."""
    if not rule.extract:
        return view
    extra: dict[str, str] = {}
    for extraction in rule.extract:
        if extraction.field not in extra:
            value = extraction.apply(view)
            if value is not None:
                extra[extraction.field] = value
    return {**view, **extra} if extra else view


_REASONS = {  # built once: _reason runs for every event
    DecisionKind.NEW: "first time in its dedup window; matched a rule",
    DecisionKind.NO_RULE: "first time in its dedup window; matched no rule",
    DecisionKind.WINDOW_EXPIRED: "seen before, but its dedup window had ended: new window",
}


def _reason(kind: DecisionKind, count: int) -> str:
    if kind is DecisionKind.DUPLICATE_CONTENT:
        return f"same content within its dedup window (repeat {count})"
    return _REASONS[kind]
