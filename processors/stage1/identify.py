"""Content identity of an event: its message template and fingerprint (processors/fingerprint)."""

from __future__ import annotations

from deskwatch.processors.fingerprint import fingerprint, message_template
from deskwatch.schemas.event import WorkstationEvent

TEMPLATE_MAX = 1024


def _template_of(message: str) -> str:
    """The message's template; the one place stage 1 calls the template engine."""
    return message_template(message)[:TEMPLATE_MAX]


def identify(event: WorkstationEvent) -> tuple[str, str]:
    """``(fingerprint, template)`` of one event."""
    template = _template_of(event.message)
    return fingerprint(event.host.name, event.event.provider, event.event.code, template), template
