"""Bulk outcomes sorted by remedy: indexed, already applied (409), retried (429/5xx/down), rejected;
and the bounded start-up wait for a server that does not answer yet."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from elastic_transport import ApiResponseMeta, ConnectionError as TransportConnectionError, HttpHeaders, NodeConfig
from elasticsearch import ApiError
from structlog.testing import capture_logs

from deskwatch.sinks.elasticsearch.encode import BulkItem, bulk_body
from deskwatch.sinks.elasticsearch.write import BULK_FILTER, Outage, Outcome, until_answered, write_items


def _item(i: int) -> BulkItem:
    return BulkItem(index="ix", doc_id=f"d{i}", version=i + 1, body=b'{"a":1}', origin=f"t:0:{i}", original=b"x")


def _api_error(status: int) -> ApiError:
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                           node=NodeConfig("http", "127.0.0.1", 9200))
    return ApiError(f"HTTP {status}", meta=meta, body={})


DOWN: Exception = TransportConnectionError("connection refused")  # a ScriptedBulk step


class ScriptedBulk:
    """Answers each bulk call with the next scripted step: a list of item statuses, or an exception
    to raise (this is not Elasticsearch: it checks only how write_items sorts answers; the real server
    is exercised in tests/integration)."""

    def __init__(self, script: list[list[int] | Exception]) -> None:
        self.script = script
        self.calls: list[list[str]] = []

    def bulk(self, operations: bytes, refresh: bool = False, filter_path: str | None = None) -> dict[str, Any]:
        assert filter_path == BULK_FILTER  # only status and error come back (the real server: tests/integration)
        lines = operations.strip().split(b"\n")
        self.calls.append([orjson.loads(a)["index"]["_id"] for a in lines[::2]])
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        items = [{"index": {"status": s, **({"error": {"type": "mapper_parsing_exception", "reason": "boom"}}
                                             if s == 400 else {})}} for s in step]
        return {"items": items}


CASES = [
    # script, expected (indexed, already applied, rejected), calls (ids per bulk request), retries
    ([[201, 409, 429, 400], [503], [200]], (2, 1, 1), [["d0", "d1", "d2", "d3"], ["d2"], ["d2"]], 2),
    ([DOWN, DOWN, [201, 201, 201, 201]], (4, 0, 0), [["d0", "d1", "d2", "d3"]] * 3, 2),
    ([_api_error(429), _api_error(503), [409, 409, 409, 409]], (0, 4, 0), [["d0", "d1", "d2", "d3"]] * 3, 2),
    ([[400, 400, 201, 409]], (1, 1, 2), [["d0", "d1", "d2", "d3"]], 0),
]


@pytest.mark.parametrize(("script", "counts", "calls", "retries"), CASES,
                         ids=["mixed-statuses", "connection-refused", "http-429-503", "permanent-only"])
def test_outcomes_are_sorted_by_remedy(script: list[Any], counts: tuple[int, int, int], calls: list[list[str]],
                                       retries: int) -> None:
    es = ScriptedBulk(script)
    report = write_items(es, [_item(i) for i in range(4)], max_backoff_s=0, sleep=lambda s: None)
    got = (report.counts[Outcome.INDEXED], report.counts[Outcome.ALREADY_APPLIED], report.counts[Outcome.REJECTED])
    assert got == counts and es.calls == calls and report.retries == retries
    assert all(reason.startswith("mapper_parsing_exception: boom") for _, reason in report.rejected)


@pytest.mark.parametrize("status", [400, 401, 413], ids=["bad-request", "unauthorized", "too-large"])
def test_non_retryable_request_errors_propagate(status: int) -> None:
    with pytest.raises(ApiError):
        write_items(ScriptedBulk([_api_error(status)]), [_item(0)], max_backoff_s=0, sleep=lambda s: None)


def test_backoff_doubles_up_to_the_cap_and_an_outage_is_logged_once() -> None:
    sleeps: list[float] = []
    outage = Outage()
    with capture_logs() as logs:
        write_items(ScriptedBulk([DOWN] * 6 + [[201]]), [_item(0)], max_backoff_s=2.0, sleep=sleeps.append,
                    outage=outage)
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]
    assert [e["event"] for e in logs] == ["elasticsearch unavailable, backing off until it answers",
                                          "elasticsearch answers again"]
    assert outage.outages == 1 and outage.since is None


def test_bulk_body_carries_external_versions() -> None:
    lines = bulk_body([_item(0), _item(1)]).split(b"\n")
    action = orjson.loads(lines[0])["index"]
    assert action == {"_index": "ix", "_id": "d0", "version": 1, "version_type": "external"}
    assert lines[1] == b'{"a":1}' and lines[-1] == b""


class Clock:
    """A monotonic clock that only a sleep moves, so the start-up wait's bound is exact."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _never_sleep(seconds: float) -> None:
    pytest.fail(f"slept {seconds} s where no wait was due")


def _scripted(script: list[Exception | str]) -> Any:
    def call() -> str:
        step = script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step
    return call


def test_start_up_waits_out_an_absent_server_with_backoff_and_logs_the_wait_once() -> None:
    clock = Clock()
    script: list[Exception | str] = [DOWN, _api_error(503), _api_error(408), DOWN, DOWN, "ready"]
    with capture_logs() as logs:
        got = until_answered(_scripted(script), wait_s=120, max_backoff_s=2.0, sleep=clock.sleep,
                             clock=lambda: clock.now)
    assert got == "ready" and clock.sleeps == [0.25, 0.5, 1.0, 2.0, 2.0]
    assert [(e["event"], e["log_level"]) for e in logs] == [
        ("elasticsearch not answering yet, waiting", "warning"), ("elasticsearch answers, starting", "warning")]
    assert logs[0]["error"] == "ConnectionError" and logs[1]["waited_s"] == 5.8


def test_start_up_gives_up_at_its_bound_with_the_last_error() -> None:
    clock = Clock()
    last = TransportConnectionError("still refused")
    script: list[Exception | str] = [DOWN, DOWN, DOWN, DOWN, last]
    with capture_logs() as logs, pytest.raises(TransportConnectionError) as raised:
        until_answered(_scripted(script), wait_s=3.0, max_backoff_s=30.0, sleep=clock.sleep, clock=lambda: clock.now)
    assert raised.value is last
    assert clock.sleeps == [0.25, 0.5, 1.0, 1.25]  # the last sleep is cut to the bound; then one more try
    assert [e["event"] for e in logs][-1] == "elasticsearch did not answer in time, giving up"


def test_start_up_wait_of_zero_raises_at_once_without_a_log_line() -> None:
    with capture_logs() as logs, pytest.raises(TransportConnectionError):
        until_answered(_scripted([DOWN, "never"]), wait_s=0, max_backoff_s=30.0, sleep=_never_sleep)
    assert logs == []


@pytest.mark.parametrize("status", [400, 401, 403], ids=["refused-template", "unauthorized", "forbidden"])
def test_start_up_does_not_wait_on_an_error_that_waiting_cannot_mend(status: int) -> None:
    with pytest.raises(ApiError):
        until_answered(_scripted([_api_error(status), "never"]), wait_s=120, max_backoff_s=30.0, sleep=_never_sleep)
