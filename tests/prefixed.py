"""A test's own corner of the shared engines: the session's settings with unique topic and index prefixes."""

from __future__ import annotations

import uuid
from typing import Any

from deskwatch.settings import Settings


def prefixed(settings: Settings, partitions: int, **sections: dict[str, Any]) -> Settings:
    """``settings`` with a fresh tag in the topic and index prefixes, ``partitions`` per topic, and
    each ``sections`` entry (``sink={...}``) merged into its section; a callable value is given the
    tag (``group_id=lambda tag: f"sink-{tag}"``)."""
    tag = uuid.uuid4().hex[:8]
    update: dict[str, Any] = {
        "kafka": settings.kafka.model_copy(update={"topic_prefix": f"{settings.kafka.topic_prefix}{tag}.",
                                                   "partitions": partitions}),
        "elasticsearch": settings.elasticsearch.model_copy(
            update={"index_prefix": f"{settings.elasticsearch.index_prefix}-{tag}"}),
    }
    for name, fields in sections.items():
        update[name] = getattr(settings, name).model_copy(update={k: v(tag) if callable(v) else v
                                                                   for k, v in fields.items()})
    return settings.model_copy(update=update)
