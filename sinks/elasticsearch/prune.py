"""Retention of the daily indices: delete ``<prefix>-events-YYYY.MM.DD`` and
``<prefix>-dead-letters-YYYY.MM.DD`` past the limit.

The test server has no ILM, so the sink prunes by itself (``deskwatch sink prune``, at start and
every ``sink.prune_interval_s``). An operator whose cluster has ILM would instead attach a policy
with a ``delete`` phase (``min_age: <days>d``) to the events template
(``template.settings.index.lifecycle.name``) and set ``sink.events_retention_days`` high enough
that the sink's own pruning never comes first; ILM's age counts from index creation, the sink's
from the day in the index name (the events' own time).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from deskwatch.settings import ElasticsearchSettings
from deskwatch.sinks.elasticsearch.mappings import DAILY
from deskwatch.sinks.elasticsearch.templates import alias, daily_day


def expired_indices(es: ElasticsearchSettings, names: list[str], today: date, retention_days: int) -> list[str]:
    """The daily indices (events, dead letters) among ``names`` whose whole day is older than
    ``retention_days``."""
    oldest_kept = today - timedelta(days=retention_days)
    return sorted(n for n in names
                  if any((day := daily_day(es, n, kind)) is not None and day < oldest_kept for kind in DAILY))


def prune_daily(client: Any, es: ElasticsearchSettings, today: date, retention_days: int) -> list[str]:
    """Delete expired daily indices; return their names (by name: no wildcard deletes)."""
    patterns = ",".join(f"{alias(es, kind)}-*" for kind in sorted(DAILY))
    found = client.indices.get(index=patterns, expand_wildcards="open,closed", allow_no_indices=True)
    doomed = expired_indices(es, list(found), today, retention_days)
    if doomed:
        client.indices.delete(index=",".join(doomed))
    return doomed
