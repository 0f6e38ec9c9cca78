"""Collect the digests an envelope touched: one per fingerprint and dedup window."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deskwatch.processors.construct import constructor
from deskwatch.processors.stage1.state import ContentWindow
from deskwatch.schemas.digest import EventDigest, digest_id
from deskwatch.schemas.event import EventView

SAMPLE_MAX = 2048
_event_digest = constructor(EventDigest)  # one per event: its values are typed already


@dataclass(slots=True)
class _Entry:
    fingerprint: str
    event: EventView
    template: str
    view: dict[str, Any]
    window: ContentWindow


class DigestBook:
    """Remembers, per (fingerprint, window), the first event of the envelope and the latest counts."""

    def __init__(self) -> None:
        # keyed by digest id: fingerprint + window start in ms, computed once per event
        self._entries: dict[str, _Entry] = {}

    def note(
        self,
        fp: str,
        window: ContentWindow,
        event: EventView,
        template: str,
        view: dict[str, Any],
    ) -> None:
        """Record that ``event`` was counted in ``window``."""
        key = digest_id(fp, window.window_start)
        entry = self._entries.get(key)
        if entry is None:
            self._entries[key] = _Entry(fp, event, template, view, window)
        else:
            entry.window = window

    def digests(self) -> list[EventDigest]:
        """One digest per window touched, with the window's cumulative count."""
        return [_digest(key, entry) for key, entry in self._entries.items()]


def _digest(key: str, entry: _Entry) -> EventDigest:
    fp, window, event, view = entry.fingerprint, entry.window, entry.event, entry.view
    return _event_digest(
        digest_id=key,
        fingerprint=fp,
        window_start=window.window_start,
        repeat_count=window.count,
        first_seen=window.first_seen,
        last_seen=window.last_seen,
        host=event.host.name,
        provider=event.event.provider,
        event_code=event.event.code,
        template=entry.template,
        sample_message=event.message[:SAMPLE_MAX],
        sample_event_id=event.event.id,
        level=event.log.level,
        site=view.get("asset.site"),
        directorate=view.get("asset.directorate"),
        os_build=view.get("asset.os_build"),
        device_class=view.get("asset.device_class"),
        rule_ids=list(window.rule_ids),
        group_keys=list(window.group_keys),
    )
