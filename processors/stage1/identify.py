"""Content identity of an event: its message template and fingerprint (processors/fingerprint)."""

from __future__ import annotations

from deskwatch.processors.fingerprint import Fingerprinter, message_template
from deskwatch.schemas.event import EventView

TEMPLATE_MAX = 1024
# Each host's and each (provider, code, template)'s part encoded once (Fingerprinter). Templates are
# at most TEMPLATE_MAX long, kept as the key's text and as bytes: the kinds' cache holds at most
# ~32 MiB (16,384 kinds), a fleet's few hundred kinds far less; the hosts' ~10 MB at 100k hosts.
_fingerprint = Fingerprinter()


def _template_of(message: str) -> str:
    """The message's template; the one place stage 1 calls the template engine."""
    return message_template(message)[:TEMPLATE_MAX]


def identify(event: EventView) -> tuple[str, str]:
    """``(fingerprint, template)`` of one event."""
    template = _template_of(event.message)
    return _fingerprint(event.host.name, event.event.provider, event.event.code, template), template
