"""Which fields the saved objects name, and which of those the Elasticsearch mappings do not declare.

Kibana objects must reference only mapped fields (design.md): a misspelt field shows an empty
column or a broken panel only once someone opens it, so this check runs in the tests instead.
"""

from __future__ import annotations

import json
import re
from typing import Any

from deskwatch.sinks.elasticsearch.mappings import PROPERTIES, Kind
from deskwatch.sinks.kibana.build import DATA_VIEWS, SEARCH_REF

_KQL_FIELD = re.compile(r"([A-Za-z_@][\w.@]*)\s*:")
_RECORDS = "___records___"


def field_types(kind: Kind) -> dict[str, str]:
    """Dotted field name -> mapping type (an alias has its target's type; multi-fields included)."""
    flat: dict[str, dict[str, Any]] = {}

    def walk(properties: dict[str, Any], prefix: str) -> None:
        for name, spec in properties.items():
            if "properties" in spec:
                walk(spec["properties"], f"{prefix}{name}.")
                continue
            flat[f"{prefix}{name}"] = spec
            for sub, sub_spec in spec.get("fields", {}).items():
                flat[f"{prefix}{name}.{sub}"] = sub_spec

    walk(PROPERTIES[kind], "")
    return {name: flat[spec["path"]]["type"] if spec.get("type") == "alias" else spec.get("type", "object")
            for name, spec in flat.items()}


# Elasticsearch's metadata fields: every index has them, Kibana shows them in every data view.
META_FIELDS = frozenset({"_index", "_id"})


def declared(kind: Kind, field: str) -> bool:
    """Whether ``field`` is mapped (or a metadata field), counting ``<flattened>.<any key>`` as mapped."""
    types = field_types(kind)
    if field in types or field in META_FIELDS:
        return True
    return any(field.startswith(f"{name}.") for name, t in types.items() if t == "flattened")


def kql_fields(query: str) -> set[str]:
    """Field names a KQL query tests (``field : value``)."""
    return set(_KQL_FIELD.findall(query))


def _view_of(obj: dict[str, Any], ref_name: str) -> str | None:
    return next((r["id"] for r in obj["references"] if r["name"] == ref_name), None)


def referenced_fields(obj: dict[str, Any]) -> dict[str, set[str]]:
    """Data view id -> the fields this object names in it (time field, columns, sort, queries, Lens)."""
    attrs, found = obj["attributes"], {}
    if obj["type"] == "index-pattern":
        found[obj["id"]] = {attrs["timeFieldName"]}
    elif obj["type"] == "search":
        source = json.loads(attrs["kibanaSavedObjectMeta"]["searchSourceJSON"])
        names = set(attrs["columns"]) | {s[0] for s in attrs["sort"]} | kql_fields(source["query"]["query"])
        names |= {f["meta"]["key"] for f in source.get("filter", [])}
        found[_view_of(obj, SEARCH_REF) or "?"] = names
    elif obj["type"] == "lens":
        state = attrs["state"]
        for layer_id, layer in state["datasourceStates"]["formBased"]["layers"].items():
            view = _view_of(obj, f"indexpattern-datasource-layer-{layer_id}") or "?"
            cols = {c["sourceField"] for c in layer["columns"].values() if c.get("sourceField") != _RECORDS}
            found.setdefault(view, set()).update(cols | kql_fields(state["query"]["query"]))
    return found


def missing_fields(objects: list[dict[str, Any]]) -> dict[str, set[str]]:
    """Object id -> the fields it names that its data view's mapping lacks (empty dict = all good)."""
    missing: dict[str, set[str]] = {}
    for obj in objects:
        for view, names in referenced_fields(obj).items():
            kind = DATA_VIEWS[view][0] if view in DATA_VIEWS else None
            bad = {n for n in names if kind is None or not declared(kind, n)}
            if bad:
                missing[obj["id"]] = bad
    return missing
