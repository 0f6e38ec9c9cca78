"""Templates: digit tokens generalised, and the same message always gives the same template."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskwatch.processors.fingerprint import fingerprint, message_template

TEMPLATES = [
    (
        "port_and_protocol",
        "Failed password for root from 1.2.3.4 port 22 ssh2",
        "Failed password for <*> from <*> port <*>",
    ),
    (
        "session_id",
        "Session: 30546354_3142093596 initialized by client WindowsUpdateAgent.",
        "Session: <*> initialized by client WindowsUpdateAgent.",
    ),
    ("pid_in_text", "pid 1234 exited", "pid <*> exited"),
    ("punctuation_kept", "ALERT exited abnormally with [1]", "ALERT exited abnormally with [<*>]"),
    ("list_of_values_collapses", "called (stack @0x7fe @0x7ff @0x800)", "called (stack <*>)"),
    ("glued_label", "ApplicableState: 112, CurrentState:112", "ApplicableState: <*>, <*>"),
    (
        "words_untouched",
        "Warning: Unrecognized packageExtended attribute.",
        "Warning: Unrecognized packageExtended attribute.",
    ),
    ("whitespace_normalised", "check  pass;\tuser unknown ", "check pass; user unknown"),
]


@pytest.mark.parametrize(
    ("message", "expected"), [c[1:] for c in TEMPLATES], ids=[c[0] for c in TEMPLATES]
)
def test_message_template(message: str, expected: str) -> None:
    assert message_template(message) == expected


# Lines in the shapes stage 1 sees: several templates, many values each.
SAMPLES = [
    "Failed password for root from 1.2.3.4 port 22 ssh2",
    "Failed password for invalid user oracle from 10.0.0.7 port 4022 ssh2",
    "Invalid user webmaster from 173.234.31.186",
    "Invalid user user from 5.6.7.8",
    "session opened for user news by (uid=0)",
    "connection from 24.54.76.216 (24-54-76-216.bflony.adelphia.net) at Sun Jul 10 03:55:15 2005",
    "connection from 222.33.90.199 () at Sun Jul 10 13:20:10 2005",
    "Session: 30546354_3142093596 initialized by client WindowsUpdateAgent.",
    (
        "Read out cached package applicability for package: Package_for_KB3121255~31bf3856ad364e35"
        "~amd64~~6.1.1.0, ApplicableState: 112, CurrentState:112"
    ),
    (
        r"Loading offline registry hive: SAM, into registry key "
        r"'{bf1a281b-ad7b-4476-ac95-f47682990ce7}GLOBALROOT/Device/X/Windows/System32/config/SAM'"
        r" from path '\\?\GLOBALROOT\Device\X\SAM'."
    ),
    "Name resolution for the name wpad timed out after none of the configured DNS servers.",
]


@settings(max_examples=60, deadline=None)
@given(order=st.permutations(SAMPLES), noise=st.lists(st.text(max_size=80), max_size=20))
def test_arrival_order_never_changes_a_template(order: list[str], noise: list[str]) -> None:
    """Whatever came before, in whatever order, a message's template is the same."""
    reference = {message: message_template(message) for message in SAMPLES}
    for text in noise:
        message_template(text)  # unrelated traffic in between must leave no trace
    assert {message: message_template(message) for message in order} == reference


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_a_template_and_keeps_it(text: str) -> None:
    assert message_template(text) == message_template(text)


def test_same_fingerprints_in_another_process() -> None:
    """Across processes (another hash seed, a restart) the fingerprints do not move."""
    here = {m: fingerprint("Host", "sshd", "4625", message_template(m)) for m in SAMPLES}
    program = (
        "import json, sys\n"
        "from deskwatch.processors.fingerprint import fingerprint, message_template\n"
        "lines = json.load(sys.stdin)\n"
        "print(json.dumps({m: fingerprint('Host', 'sshd', '4625', message_template(m)) "
        "for m in lines}))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    run = subprocess.run(
        [sys.executable, "-c", program],
        input=json.dumps(SAMPLES),
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    assert json.loads(run.stdout) == here


LONG_TOKENS = [
    ("closing_punctuation_run", "!" * 65_000 + "a"),
    ("opening_punctuation_run", "(" * 65_000 + "a1"),
    ("wildcard_run", "<*>-" * 16_000 + "x"),
    ("digits_then_punctuation", "(1" * 30_000 + "!" * 5_000),
]


@pytest.mark.parametrize("message", [c[1] for c in LONG_TOKENS], ids=[c[0] for c in LONG_TOKENS])
def test_template_is_linear_on_the_longest_tokens(message: str) -> None:
    """One 64 KiB token (the schema's maximum message) must not stall stage 1."""
    started = time.perf_counter()
    message_template(message)
    assert time.perf_counter() - started < 2.0
