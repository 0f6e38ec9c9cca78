"""The fast paths (rule guards, template cache, digit-free shortcuts) change no template.

Each is checked against the plain definition written out here: every mask rule applied in
order, then every token generalised. Inputs: the three loghub sets, a simulated fleet's
messages, and generated text over the characters the guards test
(including the Unicode digits ``\\d`` matches, the "ſ" that IGNORECASE folds to "s", and the
short runs the rules' ``core`` prefilters look for).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskwatch.processors.evaluate.loghub import LOGHUB_SETS, default_data_dir, loghub_dir, read_set
from deskwatch.processors.fingerprint import MASK_RULES, WILDCARD, message_template
from deskwatch.processors.fingerprint.mask import mask
from deskwatch.processors.fingerprint.templatize import (
    CACHE_MESSAGE_MAX,
    clear_template_cache,
)
from deskwatch.producers.simulate import FleetSpec, simulate_fleet

_DIGIT = re.compile(r"\d")
_RUN = re.compile(r"(?:<\*>)(?:[\s_.:-]*<\*>)+")


def reference_mask(message: str) -> str:
    """Every rule, in order, with no guard."""
    for rule in MASK_RULES:
        message = rule.pattern.sub(rule.replacement, message)
    return message


def reference_template(message: str) -> str:
    """The template as templatize.py defined it before its fast paths."""
    tokens = []
    for token in reference_mask(message).split():
        core = token.lstrip("([{\"'")
        stripped = core.rstrip(")]}\"',;:.!?")
        if _DIGIT.search(token.replace(WILDCARD, "")) and _DIGIT.search(stripped):
            opening, closing = token[: len(token) - len(core)], core[len(stripped) :]
            token = f"{opening}{WILDCARD}{closing}"
        tokens.append(token)
    return _RUN.sub(WILDCARD, " ".join(tokens))


def loghub_messages() -> list[str]:
    """Every loghub line's content; the test fails (not skips) without the shared data."""
    folder = loghub_dir(default_data_dir())
    assert folder.is_dir(), f"loghub data missing at {folder}"
    return [line.content for spec in LOGHUB_SETS for line in read_set(folder, spec)]


def simulated_messages() -> list[str]:
    """Distinct messages of a small seeded fleet, every scenario on."""
    spec = FleetSpec(seed=7, start=datetime(2026, 11, 23, 8, tzinfo=UTC),
                     duration=timedelta(hours=1), hosts=40)
    return sorted({event.message for event in simulate_fleet(spec).events})


CORPORA = [("loghub", loghub_messages), ("simulated", simulated_messages)]


@pytest.mark.parametrize("load", [c[1] for c in CORPORA], ids=[c[0] for c in CORPORA])
def test_fast_template_equals_the_reference(load: Callable[[], list[str]]) -> None:
    messages = load()
    assert len(messages) > 200
    clear_template_cache()
    for message in messages:
        assert mask(message) == reference_mask(message), message
        expected = reference_template(message)
        assert message_template(message) == expected, message
        assert message_template(message) == expected, message  # second call: from the cache


GUARD_ALPHABET = st.sampled_from(
    list("aAsSuUeErRfFoOmMxX019٣ſ\u212a-_:/\\.@'=(),{}<*> \t")
    + ["user", "for x from", "S-1-5-", "0x1f", "Mon ", "Jan", "ms", "sec", "kB", "Bytes"]
    + [".dll", ".com", "1.2.3", "ab:cd", "fe80::", ".fr", ".exe", "a.b-c.de."]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(GUARD_ALPHABET, max_size=40).map("".join))
def test_guards_never_skip_a_rule_that_would_match(message: str) -> None:
    assert mask(message) == reference_mask(message)
    assert message_template(message) == reference_template(message)


LONG = [
    ("at_the_limit", "pid 12 " * (CACHE_MESSAGE_MAX // 7)),
    ("beyond_the_limit", "pid 12 " * (CACHE_MESSAGE_MAX // 7 + 10)),
]


@pytest.mark.parametrize("message", [c[1] for c in LONG], ids=[c[0] for c in LONG])
def test_long_messages_bypass_the_cache_with_the_same_template(message: str) -> None:
    assert message_template(message) == reference_template(message)
