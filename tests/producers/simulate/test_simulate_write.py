"""Writers: JSON lines of WorkstationEvent, an inventory CSV read_inventory reads back, the truth JSON."""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path

from pydantic import TypeAdapter

from deskwatch.producers.inventory import read_inventory
from deskwatch.producers.simulate import (
    InjectedIncident,
    simulate_fleet,
    write_inventory_csv,
    write_jsonl,
    write_truth_json,
)
from deskwatch.schemas import WorkstationEvent

from .conftest import small_spec


def test_writers_round_trip(tmp_path: Path) -> None:
    sim = simulate_fleet(small_spec(31, duration=small_spec(31).duration / 4))
    count = write_jsonl(sim, tmp_path / "events.jsonl")
    lines = (tmp_path / "events.jsonl").read_bytes().splitlines()
    assert count == len(lines) > 1000
    parsed = [WorkstationEvent.model_validate_json(line) for line in lines]
    assert parsed[:2000] == list(islice(sim.events, 2000))
    assert all("@timestamp" in json.loads(line) for line in lines[:50])

    assert write_inventory_csv(sim.assets, tmp_path / "inventory.csv") == len(sim.assets)
    assets, rejections = read_inventory(tmp_path / "inventory.csv")
    assert rejections == [] and assets == sim.assets

    write_truth_json(sim.truth, tmp_path / "truth.json")
    again = TypeAdapter(list[InjectedIncident]).validate_json(
        (tmp_path / "truth.json").read_bytes()
    )
    assert again == sim.truth and len(again) == 9


def test_command_line_writes_the_three_files(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from deskwatch.producers.simulate.__main__ import main

    args = [str(tmp_path), "--seed", "3", "--hours", "2", "--hosts", "80", "--sites", "3",
            "--scenarios", "disk-errors,bluescreen"]  # fmt: skip
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    lines = (tmp_path / "events.jsonl").read_bytes().splitlines()
    assert f"{len(lines)} events" in result.output
    truth = TypeAdapter(list[InjectedIncident]).validate_json(
        (tmp_path / "truth.json").read_bytes()
    )
    assert {t.scenario for t in truth} == {"disk-errors", "bluescreen"}
    assets, rejections = read_inventory(tmp_path / "inventory.csv")
    assert rejections == [] and sum(a.device_class != "server" for a in assets) == 80
