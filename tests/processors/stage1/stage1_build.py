"""Factories for stage-1 tests: events, envelopes, an inventory and a Stage1 over the default pack."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from deskwatch.processors.rules import RuleSet, load_default_pack
from deskwatch.processors.stage1 import Stage1, StateLimits, count_populations
from deskwatch.schemas.asset import Asset
from deskwatch.schemas.envelope import EventBatch
from deskwatch.schemas.event import WorkstationEvent

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=1)
PACK = load_default_pack()
DISK_MSG = r"The device, \Device\Harddisk0\DR0, has a bad block."

INVENTORY = {
    "PC-LYON-01": Asset(
        host="PC-LYON-01",
        site="lyon",
        directorate="finance",
        os_build="22631",
        device_class="workstation",
    ),
    "PC-LYON-02": Asset(host="PC-LYON-02", site="lyon", directorate="finance", os_build="22631"),
    "LT-LYON-03": Asset(
        host="LT-LYON-03", site="lyon", directorate="hr", os_build="19045", device_class="laptop"
    ),
    "PC-METZ-01": Asset(host="PC-METZ-01", site="metz", directorate="hr", os_build="22631"),
}

_ids = itertools.count()


def event(
    code: str = "7",
    provider: str = "disk",
    message: str = DISK_MSG,
    *,
    host: str = "PC-LYON-01",
    at: datetime = T0,
    eid: str | None = "auto",
    labels: dict[str, str] | None = None,
    level: str = "error",
) -> WorkstationEvent:
    """One event; ``eid='auto'`` gives a fresh unique id, None leaves it unset."""
    return WorkstationEvent.model_validate(
        {
            "@timestamp": at,
            "event": {
                "id": f"id-{next(_ids)}" if eid == "auto" else eid,
                "code": code,
                "provider": provider,
            },
            "host": {"name": host},
            "log": {"level": level},
            "message": message,
            "labels": labels or {},
        }
    )


def batch(*events: WorkstationEvent, host: str | None = None) -> EventBatch:
    """An envelope of these events (host from the first event unless given)."""
    return EventBatch(host=host or events[0].host.name, source="test", events=list(events))


def make_stage(
    rules: RuleSet = PACK, limits: StateLimits | None = None, **inventory: Any
) -> Stage1:
    """A Stage1 over the test inventory (or the one given) and its populations."""
    assets = inventory.get("assets", INVENTORY)
    return Stage1(rules, assets, count_populations(assets.values(), rules), limits)
