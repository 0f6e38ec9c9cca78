"""Reused host/log sub-models: the same events and rejections as validating every dict afresh."""

from __future__ import annotations

from typing import Any

import pytest

from pydantic import ValidationError

from deskwatch.producers.parse.assemble import rejection_for, validate_event
from deskwatch.producers.parse.contract import Rejected
from deskwatch.producers.parse.reuse import SubModelCache, reuse_host_and_log
from deskwatch.schemas.event import HostFields, LogFields, WorkstationEvent

from .samples import make_ctx


def _fields(host: object, log: object = None) -> dict[str, Any]:
    fields: dict[str, Any] = {"@timestamp": "2026-11-29T08:00:00Z", "host": host,
                              "event": {"code": "7", "provider": "Service Control Manager"}}
    if log is not None:
        fields["log"] = log
    return fields


@pytest.mark.parametrize(("host", "log"), [
    ({"name": "PC-01"}, {"level": "warning"}),
    ({"name": "  PC-01\t"}, None),  # stripped by the schema: the reused model holds the stripped name
    ({"name": "PC-01", "id": "abc"}, {"level": "info", "file_path": "/x"}),  # other shapes stay dicts
    ({"name": "x" * 300}, None),  # invalid: not reused, rejected by the event's own validation
    ({"name": 42}, None),
    ({"name": "PC-01"}, {"level": "loud"}),
    ("PC-01", "info"),
], ids=["plain", "padded", "other-shapes", "long-host", "host-not-text", "bad-level", "not-objects"])
def test_same_result_as_a_fresh_validation(host: object, log: object) -> None:
    fresh = _fresh(_fields(host, log))
    for _ in range(2):  # the second pass meets the reused models
        result = validate_event(_fields(host, log), raw=b"raw", position=1, ctx=make_ctx())
        if isinstance(fresh, Rejected):
            assert result == fresh
        else:
            assert isinstance(result, WorkstationEvent)
            assert result.model_dump() == fresh.model_copy(update={"event": result.event}).model_dump()
            assert result.event.id is not None


def _fresh(fields: dict[str, Any]) -> WorkstationEvent | Rejected:
    try:
        return WorkstationEvent.model_validate(fields)
    except ValidationError as exc:
        return rejection_for(exc)


def test_a_seen_host_is_the_same_instance() -> None:
    first, second = _fields({"name": "PC-77"}, {"level": "error"}), _fields({"name": "PC-77"}, {"level": "error"})
    reuse_host_and_log(first)
    reuse_host_and_log(second)
    assert isinstance(first["host"], HostFields) and first["host"] is second["host"]
    assert isinstance(first["log"], LogFields) and first["log"] is second["log"]


def test_the_cache_starts_over_at_its_limit() -> None:
    cache = SubModelCache(HostFields, "name", limit=2)
    a = cache.get({"name": "A"})
    cache.get({"name": "B"})
    assert cache.get({"name": "A"}) is a
    cache.get({"name": "C"})  # over the limit: forgets A and B
    again = cache.get({"name": "A"})
    assert again is not a and again == a
