"""Fleet simulator: a seeded, reproducible workstation fleet with injected incidents and their truth."""

from deskwatch.producers.simulate.noise_catalog import NOISE_OVERLAPS
from deskwatch.producers.simulate.scenarios import SCENARIO_SIGNATURES
from deskwatch.producers.simulate.simulate import EventStream, Simulation, simulate_fleet
from deskwatch.producers.simulate.spec import SCENARIO_NAMES, FleetSpec, InjectedIncident, Signature
from deskwatch.producers.simulate.write import write_inventory_csv, write_jsonl, write_truth_json

__all__ = [
    "NOISE_OVERLAPS",
    "SCENARIO_NAMES",
    "SCENARIO_SIGNATURES",
    "EventStream",
    "FleetSpec",
    "InjectedIncident",
    "Signature",
    "Simulation",
    "simulate_fleet",
    "write_inventory_csv",
    "write_jsonl",
    "write_truth_json",
]
