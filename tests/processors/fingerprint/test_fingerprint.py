"""The fingerprint: type-tagged fields, stable bytes, one field change gives a new value."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from datetime import datetime, UTC

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskwatch.processors.fingerprint import (
    FINGERPRINT_VERSION,
    Fingerprinter,
    event_fingerprint,
    fingerprint,
    message_template,
)
from deskwatch.schemas.event import EventFields, HostFields, WorkstationEvent

BASE = ("WS-0042", "Microsoft-Windows-Security-Auditing", "4625", "logon failed for <*>")

CHANGED = [
    ("host", ("WS-0043", *BASE[1:])),
    ("provider", (BASE[0], "sshd", *BASE[2:])),
    ("code", (*BASE[:2], "4624", BASE[3])),
    ("template", (*BASE[:3], "logon failed for <*> from <*>")),
    # Without type tags these two would hash the same concatenated bytes.
    ("shifted_boundary", ("WS-004", "2Microsoft-Windows-Security-Auditing", *BASE[2:])),
    ("swapped_fields", (BASE[1], BASE[0], *BASE[2:])),
]

SAME = [
    ("host_case", ("ws-0042", *BASE[1:])),
    ("host_padding", (" WS-0042 ", *BASE[1:])),
    ("code_padding", (*BASE[:2], " 4625", BASE[3])),
]


def test_fingerprint_is_a_hex_blake2b_digest() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", fingerprint(*BASE))


def test_fingerprint_follows_its_documented_byte_layout() -> None:
    """Stored fingerprints outlive releases: the hash input is the documented layout, built
    here by hand (length-prefixed name and value per field, version first)."""
    digest = hashlib.blake2b(digest_size=16, person=b"deskwatch-fp")
    names = ("version", "host", "provider", "code", "template")
    values = (str(FINGERPRINT_VERSION), "ws-0042", *BASE[1:])
    for name, value in zip(names, values, strict=True):
        for part in (name.encode(), value.encode()):
            digest.update(len(part).to_bytes(8, "big") + part)
    assert fingerprint(*BASE) == digest.hexdigest()


@pytest.mark.parametrize("fields", [c[1] for c in CHANGED], ids=[c[0] for c in CHANGED])
def test_any_field_change_gives_another_fingerprint(fields: tuple[str, str, str, str]) -> None:
    assert fingerprint(*fields) != fingerprint(*BASE)


@pytest.mark.parametrize("fields", [c[1] for c in SAME], ids=[c[0] for c in SAME])
def test_normalised_fields_give_the_same_fingerprint(fields: tuple[str, str, str, str]) -> None:
    assert fingerprint(*fields) == fingerprint(*BASE)


def _event(message: str) -> WorkstationEvent:
    return WorkstationEvent(
        timestamp=datetime(2026, 11, 29, 12, 0, tzinfo=UTC),  # type: ignore[call-arg]  # the "@timestamp" field, by name
        event=EventFields(code="4625", provider="Microsoft-Windows-Security-Auditing"),
        host=HostFields(name="WS-0042"),
        message=message,
    )


def test_event_fingerprint_ignores_the_values_in_the_message() -> None:
    first = _event("An account failed to log on from 10.0.0.7 port 50122")
    second = _event("An account failed to log on from 10.9.8.1 port 4411")
    assert event_fingerprint(first) == event_fingerprint(second)
    template = message_template(first.message)
    assert event_fingerprint(first) == fingerprint(
        "WS-0042", first.event.provider, "4625", template
    )


def test_the_pure_core_imports_no_engine_client() -> None:
    """Checked in a fresh interpreter: the test session itself may have loaded kafka."""
    program = (
        "import sys\n"
        "import deskwatch.processors.fingerprint, deskwatch.processors.evaluate.measure\n"
        "engines = ('faust', 'kafka', 'aiokafka', 'elasticsearch')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in engines))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    )
    assert run.stdout.strip() == "[]"


_FIELD = st.text(max_size=12) | st.sampled_from(["WS-0042", " ws-0042", "4625", "ß", "\ud800", ""])


@given(calls=st.lists(st.tuples(_FIELD, _FIELD, _FIELD, _FIELD), min_size=1, max_size=30),
       hosts_max=st.integers(1, 3), kinds_max=st.integers(1, 3))
def test_fingerprinter_gives_fingerprint_whatever_its_caches_hold(
        calls: list[tuple[str, str, str, str]], hosts_max: int, kinds_max: int) -> None:
    """Small caches, emptied when full, and repeated or case-differing hosts: always the same digest."""
    remembered = Fingerprinter(hosts_max=hosts_max, kinds_max=kinds_max)
    for fields in calls + calls:
        assert remembered(*fields) == fingerprint(*fields)


def test_fingerprinter_clear_forgets_and_still_agrees() -> None:
    remembered = Fingerprinter()
    first = remembered(*BASE)
    remembered.clear()
    assert remembered(*BASE) == first == fingerprint(*BASE)
    assert remembered("ws-0042", *BASE[1:]) == first  # the host is case-folded in its own part
