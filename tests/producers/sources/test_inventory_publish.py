"""Inventory publish on the real broker: assets keyed by host on the inventory topic, bad rows dead-lettered."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from deskwatch.producers.sources.inventory_publish import publish_inventory
from deskwatch.schemas import DeadLetter
from deskwatch.schemas.asset import Asset

from deskwatch.settings import Settings
from deskwatch.topology import DEAD_LETTER, INVENTORY

from .conftest import read_topic

pytestmark = pytest.mark.integration

CSV = """host,site,directorate,os_build,model,device_class
PC-001,Namur,Finances,10.0.19045,Latitude 5420,laptop
PC-002,Liege,Finances,10.0.19045,OptiPlex 7090,workstation
SRV-01,Namur,IT,,PowerEdge,server
PC-001,Mons,Finances,,,
,Mons,IT,,,
"""


def test_assets_keyed_by_host_and_rejects_dead_lettered(broker_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "glpi.csv"
    path.write_text(CSV)
    counts = publish_inventory(path, broker_settings.kafka)
    assert (counts.read, counts.published) == (5, 3)
    assert sum(counts.rejected.values()) == 2 and counts.rejected["duplicate_host"] == 1
    records = read_topic(broker_settings, INVENTORY.name(broker_settings.kafka))
    by_key = {r.key.decode(): Asset.model_validate_json(r.value) for r in records}
    assert sorted(by_key) == ["PC-001", "PC-002", "SRV-01"]
    assert by_key["PC-001"].site == "Namur" and by_key["SRV-01"].device_class == "server"
    letters = [DeadLetter.model_validate_json(r.value) for r in read_topic(broker_settings, DEAD_LETTER.name(broker_settings.kafka))]
    assert Counter(d.reason for d in letters) == counts.rejected
    assert {d.position for d in letters} == {"5", "6"}
