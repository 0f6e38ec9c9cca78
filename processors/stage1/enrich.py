"""Enrichment: the event as a flat ``dotted.path -> value`` view, with the host's inventory row.

Rules address any field by its dotted path (``event.code``, ``labels.channel``, ``asset.site``),
so one dict lookup per test is all a match costs. An unknown host has no ``asset.*`` fields
except ``asset.device_class``, which defaults to ``workstation``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Final

from deskwatch.processors.rules import RuleSet
from deskwatch.processors.rules.group import MISSING
from deskwatch.schemas.asset import Asset
from deskwatch.schemas.event import EventView

ASSET_FIELDS: Final = ("site", "directorate", "os_build", "model", "device_class")
DEFAULT_DEVICE_CLASS: Final = "workstation"
FLEET: Final = "*"
_ASSET_PATHS: Final = tuple((f"asset.{name}", name) for name in ASSET_FIELDS)


def enrich(event: EventView, asset: Asset | None) -> dict[str, Any]:
    """The flat view of one event plus its asset; absent values are left out, not None."""
    return enrich_with(event, asset_view(asset))


def asset_view(asset: Asset | None) -> dict[str, Any]:
    """The ``asset.*`` part of a view: once per asset, not once per event (see enrich_with)."""
    if asset is None:
        return {"asset.device_class": DEFAULT_DEVICE_CLASS}
    # An asset's own None device class stays absent: the default is for unknown hosts only.
    values = ((path, getattr(asset, name)) for path, name in _ASSET_PATHS)
    return {path: value for path, value in values if value is not None}


def enrich_with(event: EventView, assets: Mapping[str, Any]) -> dict[str, Any]:
    """:func:`enrich` with the asset's part of the view made already (``asset_view``)."""
    fields, host, log = event.event, event.host, event.log  # once each: this runs per event
    view: dict[str, Any] = {
        "@timestamp": event.timestamp,
        "event.id": fields.id,
        "event.code": fields.code,
        "event.provider": fields.provider,
        "event.severity": fields.severity,
        "event.dataset": fields.dataset,
        "host.name": host.name,
        "host.id": host.id,
        "log.level": log.level,
        "log.file_path": log.file_path,
        "message": event.message,
    }
    for key, value in event.labels.items():
        view[f"labels.{key}"] = value
    view = {key: value for key, value in view.items() if value is not None}
    view.update(assets)  # its keys are none of the above: they come last, as before
    return view


def population_key(group: Mapping[str, str]) -> str | None:
    """Which inventory population a group counts against: ``asset.site=x|...``, ``*`` or None.

    A group that names a host has a population of one and needs no key; a group with an
    unknown asset value has no known population.
    """
    asset_parts = [(f, v) for f, v in group.items() if f.startswith("asset.")]
    if any(value == MISSING for _, value in asset_parts):
        return None
    if not asset_parts:
        return FLEET
    return "|".join(f"{field}={value}" for field, value in asset_parts)


def count_populations(assets: Iterable[Asset], rules: RuleSet) -> dict[str, int]:
    """Inventory counts for every population key the rules' group_by fields can produce."""
    combos = {tuple(f for f in rule.group_by if f.startswith("asset.")) for rule in rules}
    counts: Counter[str] = Counter()
    for asset in assets:
        counts[FLEET] += 1
        view = {f"asset.{name}": getattr(asset, name) for name in ASSET_FIELDS}
        for combo in combos:
            if combo and all(view.get(f) is not None for f in combo):
                counts["|".join(f"{f}={view[f]}" for f in combo)] += 1
    return dict(counts)


def population_of(group: Mapping[str, str], populations: Mapping[str, int]) -> int | None:
    """The inventory size of a group: one for a host's group, else the population table's count."""
    if "host.name" in group:
        return 1
    key = population_key(group)
    return None if key is None else populations.get(key)
