"""The fleet: names an AD admin would give, classes, builds, servers per site, spec validation."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from pydantic import ValidationError

from deskwatch.producers.simulate import simulate_fleet
from deskwatch.producers.simulate.fleet import CLIENT_BUILDS, SERVER_BUILDS

from .conftest import small_spec

NAME = re.compile(r"^(?P<dir>[A-Z]{3})-(?P<site>[A-Z]{3}\d*)-(?P<kind>WS\d{4}|LT\d{4}|SRV\d{2})$")
CLASS_OF = {"WS": "workstation", "LT": "laptop", "SRV": "server"}


def test_host_names_sites_and_classes_agree() -> None:
    sim = simulate_fleet(small_spec(41, servers_per_site=2))
    assert len({a.host for a in sim.assets}) == len(sim.assets)
    for asset in sim.assets:
        match = NAME.match(asset.host)
        assert match, asset.host
        assert match["site"] == asset.site and match["dir"] == asset.directorate
        assert CLASS_OF[match["kind"].rstrip("0123456789")] == asset.device_class
        assert asset.os_build and re.match(r"^10\.0\.\d{5}\.\d+$", asset.os_build)
    servers = Counter(a.site for a in sim.assets if a.device_class == "server")
    assert set(servers.values()) == {2} and len(servers) == 6


@pytest.mark.parametrize(
    ("overrides", "clients"),
    [
        pytest.param({"hosts": 1234}, 1234, id="hosts-override"),
        pytest.param({"hosts_per_site": (10, 10)}, 60, id="fixed-per-site"),
    ],
)
def test_client_counts(overrides: dict[str, object], clients: int) -> None:
    sim = simulate_fleet(small_spec(42, **overrides))
    assert sum(h.device_class != "server" for h in sim.hosts) == clients


def test_laptop_share_is_respected_roughly() -> None:
    sim = simulate_fleet(small_spec(43, hosts=5000, laptop_share=0.4))
    share = sum(h.device_class == "laptop" for h in sim.hosts) / 5000
    assert 0.37 < share < 0.43


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        pytest.param(
            {"scenarios": ["disk-errors", "meteor"]}, "unknown scenarios", id="unknown-scenario"
        ),
        pytest.param({"hosts_per_site": (9, 3)}, "hosts_per_site", id="inverted-range"),
        pytest.param({"work_hours": (19, 7)}, "work_hours", id="inverted-hours"),
        pytest.param({"laptop_share": 1.5}, "laptop_share", id="share-above-one"),
        pytest.param(
            {"start": small_spec(0).start.replace(tzinfo=None)}, "timezone", id="naive-start"
        ),
    ],
)
def test_bad_specs_are_refused(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        small_spec(0, **overrides)


@pytest.mark.parametrize("table", [CLIENT_BUILDS, SERVER_BUILDS], ids=["clients", "servers"])
def test_build_weights_are_percentages(table: tuple[tuple[str, int, tuple[int, ...]], ...]) -> None:
    assert sum(weight for _, weight, _ in table) == 100


def test_os_builds_follow_their_weights() -> None:
    sim = simulate_fleet(small_spec(44, hosts=4000))
    clients = [h for h in sim.hosts if h.device_class != "server"]
    share = sum(h.os_build.startswith("10.0.19045.") for h in clients) / len(clients)
    assert 0.42 < share < 0.48
