"""Build deskwatch's Kibana 8.19 saved objects: data views, saved searches, Lens panels, a dashboard.

``python -m deskwatch.sinks.kibana.build`` rewrites ``saved_objects.ndjson`` beside this file (the
shipped package data); a test checks the file matches this builder and that every field an object
names is declared by the Elasticsearch mappings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from deskwatch.sinks.elasticsearch.mappings import Kind

NDJSON = Path(__file__).parent / "saved_objects.ndjson"
CORE_MIGRATION = "8.8.0"
TYPE_MIGRATION = {"index-pattern": "8.0.0", "search": "8.0.0", "lens": "8.9.0", "dashboard": "8.9.0"}
DEFAULT_PREFIX = "deskwatch"
SEARCH_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"

#: data view id -> (index kind, time field, display name, what comes between the prefix and the kind)
DATA_VIEWS: dict[str, tuple[Kind, str, str, str]] = {
    "deskwatch-incidents": (Kind.INCIDENTS, "last_seen", "deskwatch incidents", ""),
    "deskwatch-events": (Kind.EVENTS, "last_seen", "deskwatch events (digests)", ""),
    "deskwatch-incident-history": (Kind.HISTORY, "at", "deskwatch incident history", ""),
    "deskwatch-dead-letters": (Kind.DEAD_LETTERS, "rejected_at", "deskwatch dead letters (rejected inputs)", ""),
    # every what-if shadow's incidents, both sides (`deskwatch rules whatif --shadow NAME`): _index tells them apart
    "deskwatch-whatif-incidents": (Kind.INCIDENTS, "last_seen", "deskwatch what-if incidents (shadow indices)",
                                   "whatif-*-"),
}


def view_title(view_id: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The index pattern a data view reads: ``<prefix>-<kind>``, or the shadows' ``<prefix>-whatif-*-<kind>``."""
    kind, _, _, infix = DATA_VIEWS[view_id]
    return f"{prefix}-{infix}{kind.value}"


def _saved(kind: str, object_id: str, attributes: dict[str, Any], references: list[dict[str, str]]) -> dict[str, Any]:
    return {"type": kind, "id": object_id, "attributes": attributes, "references": references,
            "coreMigrationVersion": CORE_MIGRATION, "typeMigrationVersion": TYPE_MIGRATION[kind]}


def data_view(view_id: str, prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """An index-pattern over ``view_title`` (the alias readers name, or the shadows) with its time field."""
    _, time_field, name, _ = DATA_VIEWS[view_id]
    return _saved("index-pattern", view_id, {"title": view_title(view_id, prefix), "timeFieldName": time_field,
                                             "name": name}, [])


def saved_search(object_id: str, title: str, view_id: str, query: str, columns: list[str],
                 sort: list[list[str]], description: str) -> dict[str, Any]:
    """A Discover saved search: KQL query, columns and sort over one data view."""
    source = {"query": {"query": query, "language": "kuery"}, "filter": [], "indexRefName": SEARCH_REF}
    attributes = {"title": title, "description": description, "columns": columns, "sort": sort, "grid": {},
                  "hideChart": False, "isTextBasedQuery": False,
                  "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(source)}}
    return _saved("search", object_id, attributes, [{"name": SEARCH_REF, "type": "index-pattern", "id": view_id}])


def _terms(field: str, label: str, order_by: str, size: int = 10) -> dict[str, Any]:
    return {"label": label, "dataType": "string", "operationType": "terms", "sourceField": field, "isBucketed": True,
            "scale": "ordinal", "params": {"size": size, "orderBy": {"type": "column", "columnId": order_by},
                                           "orderDirection": "desc", "otherBucket": False, "missingBucket": False}}


def _count(label: str) -> dict[str, Any]:
    return {"label": label, "dataType": "number", "operationType": "count", "sourceField": "___records___",
            "isBucketed": False, "scale": "ratio", "params": {"emptyAsNull": True}}


def _sum(field: str, label: str) -> dict[str, Any]:
    return {"label": label, "dataType": "number", "operationType": "sum", "sourceField": field,
            "isBucketed": False, "scale": "ratio", "params": {"emptyAsNull": True}}


def _date_histogram(field: str) -> dict[str, Any]:
    return {"label": field, "dataType": "date", "operationType": "date_histogram", "sourceField": field,
            "isBucketed": True, "scale": "interval", "params": {"interval": "auto", "includeEmptyRows": True}}


def lens(object_id: str, title: str, view_id: str, columns: dict[str, dict[str, Any]], visualization_type: str,
         visualization: dict[str, Any], query: str = "") -> dict[str, Any]:
    """A Lens visualisation with one form-based layer ``layer1`` over ``view_id``."""
    layer = {"columns": columns, "columnOrder": list(columns), "incompleteColumns": {}}
    state = {"datasourceStates": {"formBased": {"layers": {"layer1": layer}}}, "visualization": visualization,
             "query": {"query": query, "language": "kuery"}, "filters": [], "adHocDataViews": {},
             "internalReferences": []}
    attributes = {"title": title, "description": "", "visualizationType": visualization_type, "state": state}
    refs = [{"type": "index-pattern", "id": view_id, "name": "indexpattern-datasource-layer-layer1"}]
    return _saved("lens", object_id, attributes, refs)


def _table(object_id: str, title: str, view_id: str, bucket: dict[str, Any], metric: dict[str, Any],
           query: str = "") -> dict[str, Any]:
    columns = {"col-bucket": bucket, "col-metric": metric}
    vis = {"layerId": "layer1", "layerType": "data", "columns": [{"columnId": "col-bucket"}, {"columnId": "col-metric"}]}
    return lens(object_id, title, view_id, columns, "lnsDatatable", vis, query)


def panels() -> list[dict[str, Any]]:
    """The overview's four Lens panels."""
    over_time = lens(
        "deskwatch-open-over-time", "Open incidents over time (by first seen)", "deskwatch-incidents",
        {"col-time": _date_histogram("first_seen"), "col-count": _count("Incidents"),
         "col-severity": _terms("severity", "Severity", "col-count", 5)},
        "lnsXY", {"legend": {"isVisible": True, "position": "right"}, "preferredSeriesType": "bar_stacked",
                  "layers": [{"layerId": "layer1", "layerType": "data", "seriesType": "bar_stacked",
                              "xAccessor": "col-time", "accessors": ["col-count"], "splitAccessor": "col-severity"}]},
        query='status : "open" or status : "acknowledged"')
    return [
        over_time,
        _table("deskwatch-top-rules", "Top rules", "deskwatch-incidents",
               _terms("rule_id", "Rule", "col-metric"), _count("Incidents")),
        _table("deskwatch-top-sites", "Top sites (events)", "deskwatch-events",
               _terms("site", "Site", "col-metric"), _sum("repeat_count", "Events")),
        _table("deskwatch-top-hosts", "Hosts most affected", "deskwatch-incidents",
               _terms("hosts", "Host", "col-metric"), _count("Incidents")),
    ]


def searches() -> list[dict[str, Any]]:
    """Saved searches for the operator's usual questions."""
    return [
        saved_search("deskwatch-open-by-severity", "Open incidents by severity", "deskwatch-incidents",
                     'status : "open"', ["severity", "title", "rule_id", "host_count", "event_count", "assignee"],
                     [["severity", "asc"], ["last_seen", "desc"]],
                     "Live incidents not yet acknowledged, grouped by severity keyword, newest activity first."),
        saved_search("deskwatch-site-incidents", "Incidents of a site", "deskwatch-incidents",
                     "group.asset.site : *", ["group.asset.site", "status", "severity", "title", "host_count"],
                     [["last_seen", "desc"]],
                     'Site-wide incidents; narrow with  and group.asset.site : "LYON"  (per-host ones carry no site).'),
        saved_search("deskwatch-incident-events", "An incident's events", "deskwatch-events",
                     "group_keys : *", ["host.name", "event.code", "provider", "repeat_count", "message", "group_keys"],
                     [["last_seen", "desc"]],
                     'Event digests by group; add  and rule_ids : "<rule id>" and group_keys : "<group key>"  from '
                     "deskwatch incident show, and set the time range to its first/last seen."),
        saved_search("deskwatch-rejected", "Rejected inputs", "deskwatch-dead-letters",
                     "reason : *", ["stage", "reason", "source", "position", "detail", "original"],
                     [["rejected_at", "desc"]],
                     'Every input a stage refused, with why; narrow with  and reason : "too_old"  or by stage. '
                     "original_b64 holds the bytes whole (deskwatch tail dead-letters prints them)."),
        saved_search("deskwatch-whatif-compare", "What-if: both runs' incidents", "deskwatch-whatif-incidents",
                     "rule_id : *", ["_index", "rule_id", "status", "title", "host_count", "event_count"],
                     [["rule_id", "asc"], ["first_seen", "asc"]],
                     "The shadow indices of deskwatch rules whatif --shadow NAME: _index says which run "
                     "(...-current-... or ...-candidate-...); narrow with  and _index : *-whatif-NAME-*"),
    ]


def dashboard(children: list[dict[str, Any]]) -> dict[str, Any]:
    """The overview dashboard: the four panels, then the open-incidents saved search."""
    layout = [(0, 0, 48, 15), (0, 15, 16, 15), (16, 15, 16, 15), (32, 15, 16, 15), (0, 30, 48, 15)]
    items, refs = [], []
    for n, (child, (x, y, w, h)) in enumerate(zip(children, layout, strict=True), start=1):
        index = f"p{n}"
        items.append({"type": child["type"], "gridData": {"x": x, "y": y, "w": w, "h": h, "i": index},
                      "panelIndex": index, "embeddableConfig": {"enhancements": {}}, "panelRefName": f"panel_{index}"})
        refs.append({"name": f"{index}:panel_{index}", "type": child["type"], "id": child["id"]})
    source = {"query": {"query": "", "language": "kuery"}, "filter": []}
    attributes = {"title": "deskwatch overview", "description": "Open incidents, top rules, sites and hosts.",
                  "panelsJSON": json.dumps(items), "timeRestore": False, "version": 1,
                  "optionsJSON": json.dumps({"useMargins": True, "syncColors": False, "hidePanelTitles": False}),
                  "kibanaSavedObjectMeta": {"searchSourceJSON": json.dumps(source)}}
    return _saved("dashboard", "deskwatch-overview", attributes, refs)


def saved_objects(prefix: str = DEFAULT_PREFIX) -> list[dict[str, Any]]:
    """Every object, dependencies first (Kibana's import resolves references either way)."""
    views = [data_view(view_id, prefix) for view_id in DATA_VIEWS]
    found, drawn = searches(), panels()
    return [*views, *found, *drawn, dashboard([*drawn, found[0]])]


def to_ndjson(objects: list[dict[str, Any]]) -> bytes:
    """One compact JSON object per line, keys sorted: a stable file to commit."""
    return b"".join(json.dumps(o, sort_keys=True, separators=(",", ":")).encode() + b"\n" for o in objects)


if __name__ == "__main__":
    NDJSON.write_bytes(to_ndjson(saved_objects()))
    print(NDJSON)
