"""Inventory reader: GLPI / Active Directory exports (CSV, JSON) → ``Asset``s and populations."""

from deskwatch.producers.inventory.populations import (
    directorate_populations,
    populations,
    site_populations,
)
from deskwatch.producers.inventory.read import (
    InventoryError,
    RowRejection,
    parse_rows,
    read_inventory,
)

__all__ = [
    "InventoryError",
    "RowRejection",
    "directorate_populations",
    "parse_rows",
    "populations",
    "read_inventory",
    "site_populations",
]
