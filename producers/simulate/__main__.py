"""``python -m deskwatch.producers.simulate OUT``: write a simulated fleet's files for a benchmark.

Writes ``events.jsonl`` (WorkstationEvent JSON lines), ``inventory.csv`` and ``truth.json`` into
OUT and prints how many events were generated and how fast.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from pathlib import Path

import click

from deskwatch.producers.simulate.simulate import simulate_fleet
from deskwatch.producers.simulate.spec import SCENARIO_NAMES, FleetSpec
from deskwatch.producers.simulate.write import write_inventory_csv, write_jsonl, write_truth_json


@click.command()
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=0, show_default=True)
@click.option("--start", default="2026-11-23T05:00:00+00:00", show_default=True,
              help="event time of the first second, ISO 8601 with an offset")  # fmt: skip
@click.option("--hours", default=24.0, show_default=True)
@click.option("--sites", default=12, show_default=True)
@click.option(
    "--hosts", type=int, default=None, help="total clients (overrides the per-site range)"
)
@click.option(
    "--noise-rate", default=4.0, show_default=True, help="events per host per office hour"
)
@click.option("--scenarios", default="all", show_default=True,
              help=f"'all', '' for none, or a comma list of: {', '.join(SCENARIO_NAMES)}")  # fmt: skip
def main(out: Path, seed: int, start: str, hours: float, sites: int, hosts: int | None,
         noise_rate: float, scenarios: str) -> None:  # fmt: skip
    """Simulate a fleet into OUT (events.jsonl, inventory.csv, truth.json)."""
    chosen: list[str] | str = (
        "all" if scenarios == "all" else [s for s in scenarios.split(",") if s]
    )
    spec = FleetSpec.model_validate({
        "seed": seed, "start": datetime.fromisoformat(start), "duration": timedelta(hours=hours),
        "sites": sites, "hosts": hosts, "noise_events_per_host_per_hour": noise_rate,
        "scenarios": chosen,
    })  # fmt: skip
    began = time.perf_counter()
    sim = simulate_fleet(spec)
    out.mkdir(parents=True, exist_ok=True)
    write_inventory_csv(sim.assets, out / "inventory.csv")
    write_truth_json(sim.truth, out / "truth.json")
    planned = time.perf_counter()
    count = write_jsonl(sim, out / "events.jsonl")
    streamed = time.perf_counter() - planned
    click.echo(f"{len(sim.hosts)} hosts, {len(sim.truth)} injected ({', '.join(sim.skipped) or 'none'}"
               f" skipped), {count} events in {streamed:.1f} s ({count / max(streamed, 1e-9):,.0f}"
               f" events/s; planning {planned - began:.1f} s) → {out}")  # fmt: skip


if __name__ == "__main__":
    main()
