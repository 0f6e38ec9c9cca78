"""Templates remembered by digit skeleton: two messages with the same key get the same template.

The claim rests on the patterns: each treats the ten ASCII digits alike, except the literals of
``DIGIT_LITERALS`` (whose positions join the key). The first tests read every pattern's parse
tree to check that; the others compare templates of messages that differ only in their digits.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from typing import Any
from re import _constants as C  # type: ignore[attr-defined]  # the parse tree's node kinds
from re import _parser as sre_parse  # type: ignore[attr-defined]

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deskwatch.processors.fingerprint import mask as mask_module
from deskwatch.processors.fingerprint import templatize
from deskwatch.processors.fingerprint.mask import MASK_RULES
from deskwatch.processors.fingerprint.templatize import (
    DIGIT_LITERALS,
    _template,
    clear_template_cache,
    message_template,
    skeleton_key,
)

ASCII_DIGITS = frozenset("0123456789")


def every_pattern() -> list[tuple[str, re.Pattern[str]]]:
    """Every regex a template depends on: each rule's pattern, anchor and core, and the modules'."""
    found = []
    for rule in MASK_RULES:
        for part in ("pattern", "anchor", "core"):
            compiled = getattr(rule, part)
            if compiled is not None:
                found.append((f"{rule.name}.{part}", compiled))
    for module in (mask_module, templatize):
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern) and name != "_DIGIT_LITERAL":
                found.append((f"{module.__name__}.{name}", value))
    return found


def class_digits(items: list[tuple[object, Any]]) -> set[str]:
    """The ASCII digits a character class holds (an item's argument is re._parser's, untyped)."""
    held: set[str] = set()
    negate = False
    for op, arg in items:
        if op is C.NEGATE:
            negate = True
        elif op is C.LITERAL and chr(arg) in ASCII_DIGITS:
            held.add(chr(arg))
        elif op is C.RANGE:
            low, high = arg
            held |= {d for d in ASCII_DIGITS if low <= ord(d) <= high}
        elif op is C.CATEGORY and arg in (C.CATEGORY_DIGIT, C.CATEGORY_WORD, C.CATEGORY_NOT_SPACE,
                                          C.CATEGORY_UNI_DIGIT, C.CATEGORY_UNI_WORD,
                                          C.CATEGORY_UNI_NOT_SPACE):
            held |= ASCII_DIGITS
    return set(ASCII_DIGITS - held) if negate else held


def walk(tree: sre_parse.SubPattern) -> Iterator[tuple[str, Any]]:
    """("class", digits held) for each class; ("literals", text) for each run of literals.

    Any: the value's type follows the kind (a set of digits or a str).
    """
    run = ""
    for op, arg in tree:
        if op is C.LITERAL:
            run += chr(arg)
            continue
        if run:
            yield "literals", run
            run = ""
        if op is C.IN:
            yield "class", class_digits(arg)
        elif op is C.NOT_LITERAL:
            yield "class", ASCII_DIGITS - {chr(arg)}
        for child in _children(op, arg):
            yield from walk(child)
    if run:
        yield "literals", run


def _children(op: object, arg: Any) -> list[sre_parse.SubPattern]:  # arg: re._parser's, untyped
    if op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        return [arg[2]]
    if op is C.SUBPATTERN:
        return [arg[3]]
    if op in (C.ASSERT, C.ASSERT_NOT):
        return [arg[1]]
    if op is C.BRANCH:
        return list(arg[1])
    if op is C.ATOMIC_GROUP:
        return [arg]
    if op is C.GROUPREF_EXISTS:
        return [a for a in arg[1:] if a is not None]
    return []


PATTERNS = every_pattern()


@pytest.mark.parametrize("compiled", [p[1] for p in PATTERNS], ids=[p[0] for p in PATTERNS])
def test_every_pattern_treats_ascii_digits_alike_but_its_digit_literals(compiled: re.Pattern[str]) -> None:
    for kind, value in walk(sre_parse.parse(compiled.pattern, compiled.flags)):
        if kind == "class":
            assert value in (set(), set(ASCII_DIGITS)), f"a class holds only digits {sorted(value)}"
            continue
        digits = [i for i, ch in enumerate(value) if ch in ASCII_DIGITS]
        covered = {i for literal in DIGIT_LITERALS for m in re.finditer(re.escape(literal), value)
                   for i in range(m.start(), m.end())}
        assert set(digits) <= covered, f"digit literal outside {DIGIT_LITERALS}: {value!r}"
        if digits:
            assert not compiled.flags & re.IGNORECASE, "a digit literal must match its own case only"


def test_the_walk_sees_what_breaks_the_claim() -> None:
    """The check above fails on patterns that tell digits apart (so it can fail at all)."""
    bad = {"range": r"[0-5]", "literal": r"port 22", "not_literal": r"[^7]x"}
    for name, source in bad.items():
        parsed = list(walk(sre_parse.parse(source)))
        broken = [v for k, v in parsed if k == "class" and v not in (set(), set(ASCII_DIGITS))]
        broken += [v for k, v in parsed if k == "literals" and set(v) & ASCII_DIGITS]
        assert broken, name


SAME_KEY = [
    ("counts", "disk 3 error at sector 81234", "disk 7 error at sector 99999"),
    ("guid_letters", "Logon GUID: {9fcc4a47-6386-ca1c-385b-016bee1c8c13} x", "Logon GUID: {0fabb2e5-f53d-40c3-7412-be9eef69c727} x"),
    ("hex_token_letters", "Logon ID:\t\t0x0D65A47D\r\n\tPID 0x454", "Logon ID:\t\t0x42015FFF\r\n\tPID 0xabc"),
    ("addresses", "from 10.0.0.1 port 22", "from 99.9.9.9 port 55"),
    ("hex_literal_kept", "error 0x80070005 code 4", "error 0x12345678 code 9"),
    ("sid_kept", "user S-1-5-21-100 denied", "user S-1-9-88-555 denied"),
]


@pytest.mark.parametrize(("first", "second"), [c[1:] for c in SAME_KEY], ids=[c[0] for c in SAME_KEY])
def test_messages_with_one_key_share_the_template(first: str, second: str) -> None:
    assert skeleton_key(first) == skeleton_key(second)
    assert _template(first) == _template(second)


DIFFERENT_KEY = [
    ("hex_literal_made_by_digits", "value 5x10 here", "value 0x10 here"),
    ("hex_letters_outside_a_whole_token", "error 0xAB, retry", "error 0x12, retry"),
    ("hex_letters_outside_a_guid", "id abcdef12-1234 here", "id 12345678-1234 here"),
    ("sid_made_by_digits", "id S-2-5-21 here", "id S-1-5-21 here"),
    ("length", "pid 7", "pid 77"),
    ("unicode_digit", "code ٣", "code ٤"),
]


@pytest.mark.parametrize(("first", "second"), [c[1:] for c in DIFFERENT_KEY], ids=[c[0] for c in DIFFERENT_KEY])
def test_digits_a_pattern_names_keep_keys_apart(first: str, second: str) -> None:
    assert skeleton_key(first) != skeleton_key(second)
    clear_template_cache()
    assert message_template(first) == _template(first)
    assert message_template(second) == _template(second)


FRAGMENTS = st.sampled_from(
    list("0123456789xXsS-_:/\\.@'=(),{} \tabcdefABCDEF")
    + ["user ", "for a from ", "S-1-", "0x", "Mon ", "Jan ", "ms", " sec", "KB", "bytes", ".com",
       ".dll", "fe80::", "T", "Z", "+", "٣", "ſ"]
)


@settings(max_examples=500, deadline=None)
@given(st.lists(FRAGMENTS, max_size=40).map("".join), st.randoms(use_true_random=False))
def test_redrawn_digits_keep_the_template(message: str, rng: random.Random) -> None:
    redrawn = "".join(rng.choice("0123456789") if ch in ASCII_DIGITS else ch for ch in message)
    if skeleton_key(redrawn) != skeleton_key(message):
        return  # a digit literal appeared or vanished: the keys differ, nothing is shared
    assert _template(redrawn) == _template(message)
    clear_template_cache()
    assert message_template(message) == _template(message)
    assert message_template(redrawn) == _template(redrawn)  # from the cache, made by ``message``


def test_the_rules_a_keys_hex_letters_rely_on_come_first() -> None:
    """The key reads hex letters as 0 in GUIDs (the first rule's spans) and in whole 0x tokens,
    because no rule before hex_number reads past such a token's "0x" (templatize.py says why for
    each). A rule added before hex_number must be checked against that claim, then listed here."""
    names = [rule.name for rule in MASK_RULES]
    assert names[0] == "guid"
    assert names[: names.index("hex_number")] == [
        "guid", "url", "windows_path", "unix_path", "email", "weekday_date", "iso_datetime",
        "clock", "mac", "ipv6", "ipv4", "hostname"]


HEX_FRAGMENTS = st.sampled_from(
    [" ", "\t", "\r\n", ",", "(", ")", ":", "-", ".", "/", "\\", "@", "=", "'", "{", "}", "x", "0x",
     "0xAb", "0x1f", "0xdeadBEEF", "Mon ", "Dec ", "Jan 5 ", "10:00:00 ", "2024-01-02 ", "user ",
     "fe80::", "a.b.com", "ab:cd:ef:01:23:45", "1.2.3.4", "http://h/", "C:\\W\\", "/usr/lib/",
     "9fcc4a47-6386-ca1c-385b-016bee1c8c13", "ms", "KB", "id=", "S-1-5-", "abc", "DEF", "12"]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(HEX_FRAGMENTS, max_size=30).map("".join), st.randoms(use_true_random=False))
def test_redrawn_hex_letters_with_the_same_key_keep_the_template(message: str, rng: random.Random) -> None:
    """Any hex digit redrawn (letters included, anywhere): where the key stays, so does the template."""
    redrawn = "".join(rng.choice("0123456789abcdefABCDEF") if ch in "0123456789abcdefABCDEF" and rng.random() < 0.5
                      else ch for ch in message)
    if skeleton_key(redrawn) != skeleton_key(message):
        return
    assert _template(redrawn) == _template(message)
    clear_template_cache()
    assert message_template(message) == _template(message)
    assert message_template(redrawn) == _template(redrawn)


def test_every_guard_string_with_a_digit_is_a_digit_literal() -> None:
    """A rule's ``needs`` are ``in`` tests on the message: a digit in one must be in the key too."""
    for rule in MASK_RULES:
        for group in rule.needs:
            for part in group:
                if set(part) & ASCII_DIGITS:
                    assert any(part in literal for literal in DIGIT_LITERALS), (rule.name, part)


def full_scan_key(message: str) -> templatize.SkeletonKey:
    """skeleton_key as first written: each step a pattern.sub over every position."""
    guid = MASK_RULES[0]
    if "-" in message and guid.anchor is not None and guid.anchor.search(message) is not None:
        message = guid.pattern.sub(templatize._zero_hex_letters, message)
    if "0x" in message:
        message = templatize._HEX_TOKEN.sub(templatize._zero_hex_letters, message)
    skeleton = message.encode("utf-8", "surrogatepass").translate(templatize._ZERO_DIGITS)
    if any(literal in message for literal in DIGIT_LITERALS):
        return skeleton, tuple(found.start() for found in templatize._DIGIT_LITERAL.finditer(message))
    return skeleton


def test_the_anchored_key_is_the_full_scan_key_on_real_and_simulated_messages() -> None:
    from test_fast_paths import loghub_messages, simulated_messages

    messages = loghub_messages() + simulated_messages()
    assert sum("0x" in m for m in messages) > 20 and sum("-" in m for m in messages) > 20
    for message in messages:
        assert skeleton_key(message) == full_scan_key(message), message


@settings(max_examples=1500, deadline=None)
@given(st.lists(HEX_FRAGMENTS, max_size=30).map("".join))
def test_the_anchored_key_is_the_full_scan_key(message: str) -> None:
    assert skeleton_key(message) == full_scan_key(message)


def test_the_cache_stays_within_its_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templatize, "CACHE_ENTRIES", 3)
    clear_template_cache()
    for n in range(10):
        message = f"event {'x' * n} number {n}"  # a new key each time
        assert message_template(message) == _template(message)
    assert len(templatize._TEMPLATES) == 3
    assert skeleton_key("event xxxxxxxxx number 9") in templatize._TEMPLATES
    assert skeleton_key("event  number 0") not in templatize._TEMPLATES  # the oldest went first
