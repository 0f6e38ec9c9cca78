"""The shipped Kibana saved objects: structure, references, and fields the ES mappings declare."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from deskwatch.sinks.elasticsearch.mappings import Kind, mapping_fields
from deskwatch.sinks.kibana.build import DATA_VIEWS, NDJSON, saved_objects, to_ndjson, view_title
from deskwatch.sinks.kibana.check import (
    declared,
    field_types,
    kql_fields,
    missing_fields,
    referenced_fields,
)
from deskwatch.sinks.kibana.upload import shipped_objects

OBJECTS = [json.loads(line) for line in NDJSON.read_bytes().splitlines()]
IDS = [o["id"] for o in OBJECTS]
AGGREGATABLE = {"keyword", "date", "long", "integer", "boolean", "flattened"}


def test_shipped_file_is_the_builders_output() -> None:
    assert NDJSON.read_bytes() == to_ndjson(saved_objects()), "run: python -m deskwatch.sinks.kibana.build"


def test_every_kind_of_object_is_shipped() -> None:
    by_type: dict[str, list[str]] = {}
    for o in OBJECTS:
        by_type.setdefault(o["type"], []).append(o["id"])
    assert set(by_type["index-pattern"]) == set(DATA_VIEWS)
    assert len(by_type["search"]) == 5 and len(by_type["lens"]) == 4 and by_type["dashboard"] == ["deskwatch-overview"]
    assert len(set(IDS)) == len(IDS), "ids are unique"


@pytest.mark.parametrize("obj", OBJECTS, ids=IDS)
def test_object_structure_and_references(obj: dict[str, Any]) -> None:
    assert set(obj) == {"type", "id", "attributes", "references", "coreMigrationVersion", "typeMigrationVersion"}
    assert obj["attributes"]["title"]
    known = {(o["type"], o["id"]) for o in OBJECTS}
    for ref in obj["references"]:
        assert (ref["type"], ref["id"]) in known, f"dangling reference {ref}"
    meta = obj["attributes"].get("kibanaSavedObjectMeta", {})
    if "searchSourceJSON" in meta:
        json.loads(meta["searchSourceJSON"])
    if obj["type"] == "dashboard":
        panels = json.loads(obj["attributes"]["panelsJSON"])
        names = {r["name"] for r in obj["references"]}
        assert {f"{p['panelIndex']}:{p['panelRefName']}" for p in panels} == names and len(panels) == 5


@pytest.mark.parametrize("view_id", list(DATA_VIEWS), ids=list(DATA_VIEWS))
def test_data_view_time_field_is_a_date(view_id: str) -> None:
    view = next(o for o in OBJECTS if o["id"] == view_id)
    kind, infix = DATA_VIEWS[view_id][0], DATA_VIEWS[view_id][3]
    assert view["attributes"]["title"] == f"deskwatch-{infix}{kind.value}"
    assert field_types(kind)[view["attributes"]["timeFieldName"]] == "date"


def test_every_referenced_field_is_mapped() -> None:
    assert missing_fields(OBJECTS) == {}


@pytest.mark.parametrize("obj", [o for o in OBJECTS if o["type"] == "lens"],
                         ids=[o["id"] for o in OBJECTS if o["type"] == "lens"])
def test_lens_columns_use_aggregatable_fields(obj: dict[str, Any]) -> None:
    view = obj["references"][0]["id"]
    types = field_types(DATA_VIEWS[view][0])
    for column in obj["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]["layer1"]["columns"].values():
        if column["operationType"] in ("terms", "date_histogram", "sum"):
            assert types[column["sourceField"]] in AGGREGATABLE, column


BROKEN = [
    ("column", lambda o: o["attributes"]["columns"].append("hostname")),
    ("sort", lambda o: o["attributes"]["sort"].append(["severity_rank", "asc"])),
    ("query", lambda o: o["attributes"]["kibanaSavedObjectMeta"].update(
        searchSourceJSON=json.dumps({"query": {"query": 'state : "open"', "language": "kuery"}, "filter": []}))),
]


@pytest.mark.parametrize(("where", "breaks"), BROKEN, ids=[b[0] for b in BROKEN])
def test_the_check_catches_an_unmapped_field(where: str, breaks: Any) -> None:
    broken = copy.deepcopy(next(o for o in OBJECTS if o["id"] == "deskwatch-open-by-severity"))
    breaks(broken)
    assert list(missing_fields([broken])) == ["deskwatch-open-by-severity"], where


@pytest.mark.parametrize(("kind", "field", "ok"), [
    (Kind.INCIDENTS, "group.asset.site", True), (Kind.INCIDENTS, "groups.site", False),
    (Kind.EVENTS, "host.name", True), (Kind.EVENTS, "host", False), (Kind.INCIDENTS, "title.keyword", True),
], ids=["flattened-key", "not-flattened", "object-leaf", "object-itself", "multi-field"])
def test_declared(kind: Kind, field: str, ok: bool) -> None:
    assert declared(kind, field) is ok


def test_field_names_agree_with_the_sinks_mapping_fields() -> None:
    for kind in Kind:
        assert set(field_types(kind)) == mapping_fields(kind)


def test_kql_fields_and_referenced_fields() -> None:
    assert kql_fields('status : "open" or group.asset.site : * and @timestamp: x') == {
        "status", "group.asset.site", "@timestamp"}
    lens = next(o for o in OBJECTS if o["id"] == "deskwatch-top-sites")
    assert referenced_fields(lens) == {"deskwatch-events": {"site", "repeat_count"}}


def test_prefix_rewrites_only_data_view_titles() -> None:
    moved = [json.loads(line) for line in shipped_objects("acme").splitlines()]
    assert [o["attributes"]["title"] for o in moved if o["type"] == "index-pattern"] == [
        "acme-incidents", "acme-events", "acme-incident-history", "acme-dead-letters", "acme-whatif-*-incidents"]
    assert view_title("deskwatch-whatif-incidents", "acme") == "acme-whatif-*-incidents"
    assert [o["id"] for o in moved] == IDS
    assert shipped_objects() == NDJSON.read_bytes()
