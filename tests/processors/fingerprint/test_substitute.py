"""Anchored substitution: each rule's anchor and reach are sound, so it equals ``pattern.sub``.

A wrong claim (an anchor a match can lack, a reach too short) would skip a match: checked per
rule on real and simulated messages (each rule on the text the earlier rules left) and on
generated text built from the pieces the rules and their anchors are made of.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskwatch.processors.fingerprint import MASK_RULES, MaskRule
from deskwatch.processors.fingerprint.substitute import anchored_sub, expander

from test_fast_paths import loghub_messages, simulated_messages

ANCHORED = [rule for rule in MASK_RULES if rule.anchor is not None]


def plain(rule: MaskRule, text: str) -> str:
    return rule.pattern.sub(rule.replacement, text)


def test_the_costly_rules_are_anchored() -> None:
    names = {rule.name for rule in ANCHORED}
    assert {"guid", "windows_path", "ipv4", "clock", "hex_number", "hostname"} <= names


@pytest.mark.parametrize("rule", ANCHORED, ids=[r.name for r in ANCHORED])
def test_no_anchored_rule_matches_empty_text(rule: MaskRule) -> None:
    # anchored_sub moves past each match's end: an empty match would be a different contract
    assert rule.pattern.fullmatch("") is None
    assert all(m.end() > m.start() for m in rule.pattern.finditer("a - : . \\ 0x S-1- ' ( "))


def test_anchored_rules_equal_plain_substitution_on_real_and_simulated_messages() -> None:
    checked = changed = 0
    for message in loghub_messages() + simulated_messages():
        for rule in MASK_RULES:
            expected = plain(rule, message)
            if rule.anchor is not None:
                assert rule.apply(message) == expected, (rule.name, message)
                checked += 1
                changed += expected != message
            message = expected
    assert checked > 10_000 and changed > 1_000  # the comparison saw real matches


PIECES = st.sampled_from(
    list("0123456789abcdefABCDEFxS-:./\\{}<*>@'( )\t\nſKk٣")
    + ["0x", "S-1-", "C:", "<*>", "\\\\", "::", "Mon ", "Tue ", "Jan ", "Nov ", "12:30",
       "2026-11-29", "10.0.0.1", "fe80::1", "aa:bb:cc", "deadbeef-", "1234-", "user ", "for ",
       "www", ".com", ".example", "srv-01", "_", "é", ".gouv", "x.fr"]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(PIECES, max_size=60).map("".join))
def test_anchored_rules_equal_plain_substitution_on_generated_text(text: str) -> None:
    for rule in ANCHORED:
        assert rule.apply(text) == plain(rule, text), rule.name


REPLACEMENTS = [
    ("literal", "<*>"),
    ("group", r"\1=<*>"),
    ("group_first", r"\1"),
    ("group_last", r"<\1"),
    ("escaped", r"a\\b"),
    ("two_groups", r"\1\2"),
]


@pytest.mark.parametrize("case", REPLACEMENTS, ids=[c[0] for c in REPLACEMENTS])
def test_expander_matches_what_sub_writes(case: tuple[str, str]) -> None:
    _, replacement = case
    pattern, anchor = re.compile(r"(k\w*)=(\d+)"), re.compile("=")
    text = "x=1 key=22 k=3 =4 kk==5"
    expected = pattern.sub(replacement, text)
    assert anchored_sub(pattern, expander(replacement), anchor, 40, text) == expected


RUN_CASES = [
    # (text, low, at, expected start): the run of label characters that reaches ``at``
    ("see host.example.com now", 0, 9, (4,)),
    ("a.b", 0, 1, (0,)),
    ("xx host.example", 6, 9, ()),  # the run began before ``low``: nothing left to try
    ("xx host.example", 3, 7, (3,)),  # begins exactly at ``low``
    ("é" * 3 + "a" * 200 + ".com", 0, 203, (3,)),  # longer than one chunk
]


@pytest.mark.parametrize("case", RUN_CASES, ids=[f"case{n}" for n in range(len(RUN_CASES))])
def test_run_start(case: tuple[str, int, int, tuple[int, ...]]) -> None:
    from deskwatch.processors.fingerprint.substitute import _run_start

    text, low, at, expected = case
    run = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-"
    assert _run_start(text, run, low, at) == expected
