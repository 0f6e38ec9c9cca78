"""Inventory counts per group: the denominators of fleet-relative rules ("≥ 60 % of a site")."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Literal

from deskwatch.schemas.asset import Asset

GroupField = Literal["site", "directorate", "os_build", "model", "device_class"]


def populations(assets: Iterable[Asset], by: GroupField) -> dict[str, int]:
    """Hosts per value of ``by``, sorted by value; assets without a value are not counted."""
    counts = Counter(value for asset in assets if (value := getattr(asset, by)) is not None)
    return dict(sorted(counts.items()))


def site_populations(assets: Iterable[Asset]) -> dict[str, int]:
    """Hosts per site."""
    return populations(assets, "site")


def directorate_populations(assets: Iterable[Asset]) -> dict[str, int]:
    """Hosts per directorate."""
    return populations(assets, "directorate")
