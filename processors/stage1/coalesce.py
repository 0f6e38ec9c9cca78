"""Coalesce an envelope's rule hits into signals: one per rule, group and run of hit/recovery."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from deskwatch.processors.construct import constructor
from deskwatch.schemas.identity import parts_digest
from deskwatch.schemas.signal import Signal

SAMPLE_MAX = 1024
VALUES_MAX = 64
# Every value a draft holds is typed already (times from validated events, counts >= 1).
_signal = constructor(Signal)


@dataclass(slots=True)
class SignalDraft:
    """A signal being built from the events of one envelope."""

    rule_id: str
    rule_version: int
    group_key: str
    group: dict[str, str]
    host: str
    device_class: str | None
    population: int | None
    recovery: bool
    fingerprint: str
    provider: str
    event_code: str
    first_seen: datetime
    last_seen: datetime
    sample_message: str
    event_ids: list[str] = field(default_factory=list)
    deduplicated: int = 0
    values: dict[str, None] = field(default_factory=dict)

    def add(self, event_id: str, when: datetime, repeat: bool, value: str | None) -> None:
        """Fold one more event in."""
        self.event_ids.append(event_id)
        self.first_seen = min(self.first_seen, when)
        self.last_seen = max(self.last_seen, when)
        self.deduplicated += repeat
        if value is not None and len(self.values) < VALUES_MAX:
            self.values[value] = None

    def build(self) -> Signal:
        """The finished signal; ``source_id`` hashes what it carries, so a replay is recognisable."""
        return _signal(
            rule_id=self.rule_id,
            rule_version=self.rule_version,
            group_key=self.group_key,
            group=self.group,
            host=self.host,
            device_class=self.device_class,
            fingerprint=self.fingerprint,
            provider=self.provider,
            event_code=self.event_code,
            first_seen=self.first_seen,
            last_seen=self.last_seen,
            count=len(self.event_ids),
            distinct=len(set(self.event_ids)),
            deduplicated=self.deduplicated,
            recovery=self.recovery,
            population=self.population,
            sample_message=self.sample_message[:SAMPLE_MAX],
            values=list(self.values),
            source_id=self._source_id(),
        )

    def _source_id(self) -> str:
        head = (self.rule_id, self.group_key, "recovery" if self.recovery else "hit")
        return parts_digest((part.encode() for part in (*head, *sorted(self.event_ids))), person=b"deskwatch-sig")


class Coalescer:
    """Collects drafts in order; a flip between hit and recovery in one group starts a new one."""

    def __init__(self) -> None:
        self._drafts: list[SignalDraft] = []
        self._current: dict[tuple[str, str], SignalDraft] = {}

    def current(self, rule_id: str, group_key: str, recovery: bool) -> SignalDraft | None:
        """The open draft for this rule and group, if it is of the same kind."""
        draft = self._current.get((rule_id, group_key))
        return draft if draft is not None and draft.recovery == recovery else None

    def open(self, draft: SignalDraft) -> SignalDraft:
        """Start a new draft for its rule and group."""
        self._drafts.append(draft)
        self._current[(draft.rule_id, draft.group_key)] = draft
        return draft

    def signals(self) -> list[Signal]:
        """All signals, in the order their first event came."""
        return [draft.build() for draft in self._drafts]
