"""Shadow indices: a what-if replay's incidents in Elasticsearch, beside the real ones, never in them.

``deskwatch rules whatif --shadow NAME`` replays past events under the rules in service and under a
candidate (processors/evaluate/whatif.py); this writes each run's incidents and transitions to
indices of their own, ``<prefix>-whatif-NAME-current-*`` and ``<prefix>-whatif-NAME-candidate-*``,
made from the same templates as the real ones (templates.py) under that longer prefix, so an
operator can search, chart and compare both in Kibana before the candidate goes live, and every
deskwatch command that reads incidents reads them with ``elasticsearch.index_prefix`` set to it.

Decision: a shadow is replaced whole on every run of the same name (its indices and templates
deleted first): a what-if is a snapshot of one replay, and documents left from an earlier replay
with other rules would mix two answers. The real indices' names never begin with the shadow
prefix, and their templates' patterns (``<prefix>-incidents-*``, ...) do not match shadow names.
Event digests are not written: they are the same events under both rule sets, already searchable
in the real events index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.incident import Incident
from deskwatch.settings import ElasticsearchSettings
from deskwatch.sinks.elasticsearch.encode import change_item, incident_item
from deskwatch.sinks.elasticsearch.refresh import refresh_indices
from deskwatch.sinks.elasticsearch.templates import (
    Kind,
    alias,
    delete_indices,
    ensure_indices,
    history_alias,
    incidents_alias,
)
from deskwatch.sinks.elasticsearch.write import write_items

# Lower case (Elasticsearch index names are), no separator a prefix could be confused by.
SHADOW_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_]{0,39}")
SIDES: Final = ("current", "candidate")
ORIGIN: Final = "whatif"  # a bulk item's origin: no topic offset behind these documents


class ShadowError(ValueError):
    """A shadow name Elasticsearch cannot take, or documents it refused."""


def check_shadow_name(name: str) -> str:
    """``name`` when Elasticsearch can take it inside an index name; else ``ShadowError`` says why."""
    if not SHADOW_NAME.fullmatch(name):
        raise ShadowError(f"shadow name {name!r}: 1-40 lower-case letters, digits or '_', starting with a "
                          "letter or digit")
    return name


def shadow_settings(es: ElasticsearchSettings, name: str, side: str) -> ElasticsearchSettings:
    """``es`` with the index prefix of one side of shadow ``name``."""
    check_shadow_name(name)
    if side not in SIDES:
        raise ShadowError(f"side {side!r}: one of {', '.join(SIDES)}")
    return es.model_copy(update={"index_prefix": f"{shadow_prefix(es, name)}-{side}"})


def shadow_prefix(es: ElasticsearchSettings, name: str) -> str:
    """What every index and template of shadow ``name`` begins with."""
    return f"{es.index_prefix}-whatif-{name}"


@dataclass(frozen=True)
class ShadowSide:
    """One side written: where, and how many documents."""

    side: str
    index_prefix: str
    incidents: int
    transitions: int


def write_shadow(client: Any, es: ElasticsearchSettings, name: str, side: str, incidents: Iterable[Incident],
                 changes: Iterable[IncidentChange], max_backoff_s: float = 30.0) -> ShadowSide:
    """Write one side's incidents (latest revision each) and transitions, searchable on return."""
    target = shadow_settings(es, name, side)
    ensure_indices(client, target)
    documents = [incident_item(i, incidents_alias(target), ORIGIN, b"") for i in incidents]
    transitions = [change_item(c, history_alias(target), ORIGIN, b"") for c in changes]
    report = write_items(client, documents + transitions, max_backoff_s)
    if report.rejected:  # else every item is written: write_items retries until written or refused
        item, error = report.rejected[0]
        raise ShadowError(f"Elasticsearch refused {len(report.rejected)} shadow documents, first {item.doc_id} in "
                          f"{item.index}: {error}")
    refresh_indices(client, [incidents_alias(target), history_alias(target)])
    return ShadowSide(side, target.index_prefix, len(documents), len(transitions))


def drop_shadow(client: Any, es: ElasticsearchSettings, name: str) -> list[str]:
    """Delete every index and index template of shadow ``name``; the index names deleted."""
    deleted = delete_indices(client, f"{shadow_prefix(es, name)}-")
    for side in SIDES:
        target = shadow_settings(es, name, side)
        for kind in Kind:
            client.options(ignore_status=404).indices.delete_index_template(name=alias(target, kind))
    return deleted
