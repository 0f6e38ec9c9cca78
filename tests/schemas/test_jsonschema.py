"""The committed JSON Schemas are the downstream contract: they must match the pydantic models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from deskwatch.schemas.event import SCHEMA_VERSION
from deskwatch.schemas.export import PAYLOADS, SCHEMA_DIR, rendered

REGENERATE = "python -m deskwatch.schemas.export"
AT = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def contract(node: Any) -> Any:
    """The schema without its prose (``description`` and ``title`` strings): what a consumer relies on."""
    if isinstance(node, dict):
        return {k: contract(v) for k, v in node.items() if not (k in ("description", "title") and isinstance(v, str))}
    if isinstance(node, list):
        return [contract(v) for v in node]
    return node


@pytest.mark.parametrize("filename", sorted(rendered()), ids=sorted(rendered()))
def test_committed_schema_matches_the_model(filename: str) -> None:
    path = SCHEMA_DIR / filename
    assert path.exists(), f"{path} is missing: run `{REGENERATE}` and commit schemas/jsonschema/"
    committed_text, fresh_text = path.read_text(encoding="utf-8"), rendered()[filename]
    if committed_text == fresh_text:
        return
    committed, fresh = json.loads(committed_text), json.loads(fresh_text)
    version = committed.get("x-deskwatch-schema-version")
    if version == SCHEMA_VERSION and contract(committed) != contract(fresh):
        pytest.fail(f"{filename}: the model's contract changed but SCHEMA_VERSION is still {SCHEMA_VERSION}. "
                    f"Downstream consumers rely on it: bump SCHEMA_VERSION in schemas/event.py, then run "
                    f"`{REGENERATE}` and commit schemas/jsonschema/.")
    pytest.fail(f"{filename}: the committed schema is stale (descriptions or schema version "
                f"{version} -> {SCHEMA_VERSION}): run `{REGENERATE}` and commit schemas/jsonschema/.")


@pytest.mark.parametrize(("before", "after", "same"), [
    ({"description": "a", "properties": {"title": {"type": "string", "description": "x"}}},
     {"description": "b", "properties": {"title": {"type": "string", "description": "y"}}}, True),
    ({"properties": {"title": {"type": "string"}}}, {"properties": {}}, False),
    ({"properties": {"n": {"type": "integer", "minimum": 1}}}, {"properties": {"n": {"type": "integer"}}}, False),
], ids=["prose-only", "field-removed", "constraint-dropped"])
def test_contract_ignores_prose_only(before: dict[str, Any], after: dict[str, Any], same: bool) -> None:
    assert (contract(before) == contract(after)) is same


def test_every_topic_payload_has_a_schema() -> None:
    from deskwatch.topology import TOPICS

    named = {name for spec in TOPICS for name in PAYLOADS if name in spec.value}
    assert named == set(PAYLOADS), "every payload is some topic's value"
    assert {p.name for p in SCHEMA_DIR.glob("*.json")} == {f"{n}.json" for n in PAYLOADS}


def _incident() -> dict[str, Any]:
    return {"id": "i1", "rule_id": "disk-errors", "group_key": "disk-errors|PC-1", "title": "t",
            "first_seen": AT.isoformat(), "last_seen": AT.isoformat(), "event_count": 2, "revision": 1}


CASES = [
    ("Incident", _incident(), True),
    ("Incident", {**_incident(), "revision": 0}, False),
    ("Incident", {**_incident(), "status": "closed"}, False),
    ("Silence", {"id": "s1", "matchers": [{"name": "site", "value": "LYON"}], "starts_at": AT.isoformat(),
                 "ends_at": "2026-11-29T10:00:00Z", "created_by": "ops"}, True),
    ("Silence", {"id": "s1", "matchers": [], "starts_at": AT.isoformat(), "ends_at": AT.isoformat(),
                 "created_by": "ops"}, False),
    ("Command", {"command_id": "c", "action": "ack", "group_key": "g", "actor": "ops", "at": AT.isoformat()}, True),
    ("Command", {"command_id": "c", "action": "explode", "group_key": "g", "actor": "ops",
                 "at": AT.isoformat()}, False),
]


@pytest.mark.parametrize(("name", "instance", "valid"), CASES,
                         ids=[f"{n}-{'valid' if v else f'invalid{i}'}" for i, (n, _, v) in enumerate(CASES)])
def test_schema_accepts_and_rejects_like_the_model(name: str, instance: dict[str, Any], valid: bool) -> None:
    schema = json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(instance))
    assert (not errors) == valid, [e.message for e in errors]
