"""Content identity of an event: its message template and fingerprint (processors/fingerprint)."""

from __future__ import annotations

from functools import lru_cache

from deskwatch.processors.fingerprint import fingerprint, message_template
from deskwatch.schemas.event import EventView

TEMPLATE_MAX = 1024
# A host repeats the same few (provider, code, template) all day: hash each one once. Templates
# are at most TEMPLATE_MAX long, so the cache holds at most ~8 MiB of keys.
FINGERPRINT_CACHE = 8192
_fingerprint = lru_cache(maxsize=FINGERPRINT_CACHE)(fingerprint)


def _template_of(message: str) -> str:
    """The message's template; the one place stage 1 calls the template engine."""
    return message_template(message)[:TEMPLATE_MAX]


def identify(event: EventView) -> tuple[str, str]:
    """``(fingerprint, template)`` of one event."""
    template = _template_of(event.message)
    return _fingerprint(event.host.name, event.event.provider, event.event.code, template), template
