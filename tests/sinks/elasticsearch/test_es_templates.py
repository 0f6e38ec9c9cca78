"""Mappings declare every contract field; index names; the template body."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import BaseModel

from deskwatch.schemas import DeadLetter
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.incident import Incident
from deskwatch.settings import ElasticsearchSettings
from deskwatch.sinks.elasticsearch.templates import (
    Kind,
    alias,
    daily_index,
    events_alias,
    daily_day,
    events_index,
    mapping,
    mapping_fields,
    template_body,
)

ES = ElasticsearchSettings(index_prefix="dw")


@pytest.mark.parametrize(
    ("kind", "model", "renamed"),
    [(Kind.INCIDENTS, Incident, {}), (Kind.HISTORY, IncidentChange, {}), (Kind.EVENTS, EventDigest, {"host": "host.name"}),
     (Kind.DEAD_LETTERS, DeadLetter, {})],
    ids=["incident", "change", "digest", "dead-letter"],
)
def test_every_model_field_is_mapped(kind: Kind, model: type[BaseModel], renamed: dict[str, str]) -> None:
    fields = mapping_fields(kind)
    missing = {renamed.get(name, name) for name in model.model_fields} - fields
    assert not missing, f"{kind}: fields of {model.__name__} the mapping does not declare: {missing}"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [(Kind.INCIDENTS, {"@timestamp", "host.name", "event.code", "rule.id", "title.keyword", "group"}),
     (Kind.HISTORY, {"@timestamp", "event.action", "user.name"}),
     (Kind.EVENTS, {"@timestamp", "host.name", "event.code", "event.provider", "log.level", "message"}),
     (Kind.DEAD_LETTERS, {"@timestamp", "event.reason", "event.original", "message"})],
    ids=["incident", "change", "digest", "dead-letter"],
)
def test_ecs_names_are_declared(kind: Kind, expected: set[str]) -> None:
    assert expected <= mapping_fields(kind)


@pytest.mark.parametrize("kind", list(Kind), ids=[k.value for k in Kind])
def test_mappings_are_explicit_and_aliases_point_at_declared_fields(kind: Kind) -> None:
    body = mapping(kind)
    assert body["dynamic"] is False
    fields = mapping_fields(kind)

    def walk(props: dict[str, Any], prefix: str = "") -> None:
        for name, spec in props.items():
            if "properties" in spec:
                walk(spec["properties"], f"{prefix}{name}.")
            elif spec["type"] == "alias":
                assert spec["path"] in fields, f"{prefix}{name} -> {spec['path']}"
    walk(body["properties"])


@pytest.mark.parametrize(
    ("name", "day"),
    [("dw-events-2026.11.29", date(2026, 11, 29)), ("dw-events-2026.13.01", None), ("dw-events", None),
     ("dw-incidents-000001", None), ("other-events-2026.11.29", None), ("dw-events-2026.11.29-x", None)],
    ids=["daily", "bad-month", "alias", "incidents", "other-prefix", "suffix"],
)
def test_daily_day(name: str, day: date | None) -> None:
    assert daily_day(ES, name) == day


def test_names_and_template() -> None:
    assert [alias(ES, k) for k in Kind] == ["dw-incidents", "dw-incident-history", "dw-events", "dw-dead-letters"]
    assert events_index(ES, datetime(2026, 1, 2, 23, tzinfo=timezone.utc)) == "dw-events-2026.01.02"
    body = template_body(ES, Kind.EVENTS)
    assert body["index_patterns"] == ["dw-events-*"] and body["template"]["aliases"] == {"dw-events": {}}
    assert "aliases" not in template_body(ES, Kind.INCIDENTS)["template"]
    letters = template_body(ES, Kind.DEAD_LETTERS)
    assert letters["index_patterns"] == ["dw-dead-letters-*"] and letters["template"]["aliases"] == {"dw-dead-letters": {}}
    assert daily_index(ES, Kind.DEAD_LETTERS, datetime(2026, 1, 2, 23, tzinfo=timezone.utc)) == "dw-dead-letters-2026.01.02"
    assert daily_day(ES, "dw-dead-letters-2026.01.02", Kind.DEAD_LETTERS) == date(2026, 1, 2)
    assert daily_day(ES, "dw-dead-letters-2026.01.02") is None, "an events day is read from events indices only"


REFRESH = [(Kind.EVENTS, "7s"), (Kind.INCIDENTS, "2s"), (Kind.HISTORY, "2s")]


@pytest.mark.parametrize(("kind", "interval"), REFRESH, ids=[k.value for k, _ in REFRESH])
def test_events_indices_take_their_own_refresh_interval(kind: Kind, interval: str) -> None:
    es = ElasticsearchSettings(index_prefix="dw", refresh_interval="2s", events_refresh_interval="7s")
    assert template_body(es, kind)["template"]["settings"]["refresh_interval"] == interval


def test_events_refresh_less_often_than_incidents_by_default() -> None:
    assert (ElasticsearchSettings().refresh_interval, ElasticsearchSettings().events_refresh_interval) == ("1s", "5s")


@pytest.mark.parametrize("when", [
    datetime(2026, 1, 2, 23, 59, tzinfo=timezone.utc),
    datetime(2026, 1, 2, 23, 30, tzinfo=timezone(timedelta(hours=-5))),  # 04:30 UTC the next day
    datetime(2026, 1, 3, 0, 30, tzinfo=timezone(timedelta(hours=2))),  # 22:30 UTC the day before
    date(2026, 12, 31),
])
def test_events_index_is_the_day_of_the_window_start_in_its_own_zone_for_every_prefix(when: datetime | date) -> None:
    other = ES.model_copy(update={"index_prefix": "other"})
    for es in (ES, other, ES):  # the remembered names never cross prefixes
        assert events_index(es, when) == f"{events_alias(es)}-{when.strftime('%Y.%m.%d')}"
