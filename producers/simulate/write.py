"""Write a simulation to files: events as JSON lines, the inventory as CSV, the truth as JSON."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from pathlib import Path

from pydantic import TypeAdapter

from deskwatch.producers.simulate.simulate import Simulation
from deskwatch.producers.simulate.spec import InjectedIncident
from deskwatch.schemas.asset import Asset

INVENTORY_COLUMNS = ("host", "site", "directorate", "os_build", "model", "device_class")
_TRUTH = TypeAdapter(list[InjectedIncident])


def write_jsonl(sim: Simulation, path: str | Path) -> int:
    """Write every event as one ``WorkstationEvent`` JSON line; returns how many were written."""
    count = 0
    with Path(path).open("wb") as out:
        for line in sim.events.json_lines():
            out.write(line)
            out.write(b"\n")
            count += 1
    return count


def write_inventory_csv(assets: Iterable[Asset], path: str | Path) -> int:
    """Write assets as a CSV that ``read_inventory`` reads back; returns the row count."""
    count = 0
    with Path(path).open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(INVENTORY_COLUMNS)
        for asset in assets:
            writer.writerow(
                ["" if (v := getattr(asset, c)) is None else v for c in INVENTORY_COLUMNS]
            )
            count += 1
    return count


def write_truth_json(truth: list[InjectedIncident], path: str | Path) -> None:
    """Write the ground truth as a JSON array of ``InjectedIncident``."""
    Path(path).write_bytes(_TRUTH.dump_json(truth, indent=2) + b"\n")
