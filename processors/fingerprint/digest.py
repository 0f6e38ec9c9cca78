"""Fingerprint an event's content: a hash of who said what kind of thing.

Each field is hashed with its name and its length in front (type-tagged), so that no two
different field tuples can produce the same byte stream ("ab" + "c" never collides with
"a" + "bc", and a host can never pass for a provider). The version goes in first: when the
masks change, templates change, and the version says which rule set a stored fingerprint
came from.
"""

from __future__ import annotations

import hashlib

from deskwatch.schemas.event import WorkstationEvent

from .templatize import message_template

FINGERPRINT_VERSION = 1
_DIGEST_BYTES = 16


def fingerprint(host: str, provider: str, code: str, template: str) -> str:
    """Hex blake2b of the type-tagged (host, provider, code, template); deterministic."""
    digest = hashlib.blake2b(digest_size=_DIGEST_BYTES, person=b"deskwatch-fp")
    fields = (
        ("version", str(FINGERPRINT_VERSION)),
        # Host names are case-insensitive (DNS, NetBIOS); the other fields are as written.
        ("host", host.strip().casefold()),
        ("provider", provider.strip()),
        ("code", code.strip()),
        ("template", template),
    )
    for name, value in fields:
        for part in (name.encode(), value.encode("utf-8", "surrogatepass")):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def event_fingerprint(event: WorkstationEvent) -> str:
    """The content fingerprint of one event: its host, provider, code and message template."""
    return fingerprint(
        event.host.name,
        event.event.provider,
        event.event.code,
        message_template(event.message),
    )
