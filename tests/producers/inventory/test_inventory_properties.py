"""Properties of read_inventory: whatever the rows hold, it never raises and loses no row."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from deskwatch.producers.inventory import InventoryError, read_inventory

HEADER = ["host", "site", "directorate", "os_build", "model", "device_class"]
cells = st.text(alphabet=st.characters(codec="utf-8"), max_size=12)
rows = st.lists(st.lists(cells, min_size=0, max_size=8), max_size=15)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | cells,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(HEADER), inner, max_size=6)
    ),
    max_leaves=10,
)


def _blank(row: list[str]) -> bool:
    return all(not cell.strip() for cell in row)


@settings(max_examples=150, deadline=None)
@given(rows)
def test_every_csv_row_becomes_an_asset_or_a_rejection(data: list[list[str]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(HEADER)
    writer.writerows(data)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "inventory.csv"
        path.write_text(text.getvalue(), encoding="utf-8")
        assets, rejections = read_inventory(path)
    # csv drops rows with no field at all; rows of blank cells are not rows of data either.
    expected = sum(1 for row in data if row and not _blank(row))
    assert len(assets) + len(rejections) == expected
    assert all(r.row >= 2 for r in rejections)


@settings(max_examples=150, deadline=None)
@given(st.lists(json_values, max_size=10))
def test_every_json_item_becomes_an_asset_or_a_rejection(items: list[object]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "inventory.json"
        path.write_text(json.dumps(items), encoding="utf-8")
        try:
            assets, rejections = read_inventory(path)
        except InventoryError:  # the wrong file altogether: no object has a host value
            assert not any(isinstance(i, dict) and not _blank_value(i.get("host")) for i in items)
            return
    blank = sum(1 for i in items if isinstance(i, dict) and all(map(_blank_value, i.values())))
    assert len(assets) + len(rejections) == len(items) - blank


def _blank_value(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())
