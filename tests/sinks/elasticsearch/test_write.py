"""Bulk outcomes sorted by remedy: indexed, already applied (409), retried (429/5xx), rejected."""

from __future__ import annotations

from typing import Any

import orjson

from deskwatch.sinks.elasticsearch.encode import BulkItem, bulk_body
from deskwatch.sinks.elasticsearch.write import Outcome, write_items


def _item(i: int) -> BulkItem:
    return BulkItem(index="ix", doc_id=f"d{i}", version=i + 1, body=b'{"a":1}', origin=f"t:0:{i}", original=b"x")


class ScriptedBulk:
    """Answers each bulk call with the next scripted list of item statuses (this is not Elasticsearch:
    it checks only how write_items sorts statuses; the real server is exercised in tests/integration)."""

    def __init__(self, script: list[list[int]]) -> None:
        self.script = script
        self.calls: list[list[str]] = []

    def bulk(self, operations: bytes, refresh: bool = False) -> dict[str, Any]:
        lines = operations.strip().split(b"\n")
        ids = [orjson.loads(a)["index"]["_id"] for a in lines[::2]]
        self.calls.append(ids)
        statuses = self.script.pop(0)
        items = [{"index": {"status": s, **({"error": {"type": "mapper_parsing_exception", "reason": "boom"}}
                                             if s == 400 else {})}} for s in statuses]
        return {"items": items}


def test_statuses_are_sorted_by_remedy_and_only_failures_are_retried() -> None:
    es = ScriptedBulk([[201, 409, 429, 400], [503], [200]])
    report = write_items(es, [_item(i) for i in range(4)], max_backoff_s=0, sleep=lambda s: None)
    assert report.counts == {Outcome.INDEXED: 2, Outcome.ALREADY_APPLIED: 1, Outcome.REJECTED: 1}
    assert es.calls == [["d0", "d1", "d2", "d3"], ["d2"], ["d2"]]
    assert [(i.doc_id, r.split(":")[0]) for i, r in report.rejected] == [("d3", "mapper_parsing_exception")]
    assert report.retries == 2


def test_bulk_body_carries_external_versions() -> None:
    lines = bulk_body([_item(0), _item(1)]).split(b"\n")
    action = orjson.loads(lines[0])["index"]
    assert action == {"_index": "ix", "_id": "d0", "version": 1, "version_type": "external"}
    assert lines[1] == b'{"a":1}' and lines[-1] == b""
