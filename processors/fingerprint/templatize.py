"""Turn a message into its template: masks first, then every token that still holds a digit.

Decision: no online miner (Drain, drain3's ``TemplateMiner``) on this path. Drain grows a parse
tree from the messages it has seen, so the template a line gets depends on which lines came
before it: two workers, or one worker before and after a restart, could fingerprint the same
message differently and content dedup would silently stop matching. Persisting the miner's
state in a table would not help either: merges rewrite earlier templates, so a stored
fingerprint would drift away from its event. Here the template is a pure function of the
message: the named masks of :mod:`.mask` (shapes of values any log carries: GUIDs, paths,
addresses, times, accounts, ``key=value`` and ``label: value,`` fields), then Drain's own
pre-processing heuristic applied per token rather than per tree node: a token that still holds
a digit is a value. drain3's regex masker would add nothing over the table (it is the same
regex-substitution step), so drain3 is not a dependency. The price is that a variable word
with no digit and no known shape (a bare user name after an unusual verb) stays in the
template and splits its group; the loghub evaluation (``deskwatch evaluate grouping``)
measures that cost.

Decision: templates are remembered by the message's *digit skeleton* (every ASCII digit read as
``0``), not by the message. No digit survives into a template (a token holding one becomes
``<*>``), and every pattern here and in :mod:`.mask` treats the ten ASCII digits alike (digit and
word classes, classes holding all ten or none), except the literals in :data:`DIGIT_LITERALS`, whose
positions join the key when a message holds one. So two messages with the same key get the same
template, and "disk 3, sector 81234" costs the masks once for every disk and sector: on a
simulated fleet, 21,005 messages had 11,365 distinct texts but 5,879 distinct keys.
tests/processors/fingerprint/test_skeleton.py checks the patterns' digits and compares cached
with direct templates over real and generated messages.

Decision: inside a GUID the key reads every hex letter as ``0`` too. The GUID rule is the first
mask and replaces each GUID it finds by ``<*>``, and its pattern tells hex characters apart only
from the rest, so zeroing the hex letters of the spans it would replace leaves its replacement,
and the text every later rule sees, as they were. Without it, every Windows logon (4624: a fresh
logon GUID) or DCOM error (CLSIDs) was a new key: on the processor bench's fleet 27.8 % of
messages missed the cache, 92 % of those for a GUID.

Decision: so does a token that is all ``0x`` and hex digits between white space (or the ends), as
in "Logon ID:\t\t0x3E7\r\n". The ``hex_number`` rule replaces such a token whole by ``<*>``,
and no rule before it reads past the token's "0x": each needs, from its first character on,
text such a token lacks (a separator among ``:./\\@-``, a backslash, a letter where the token has
"0", ``://``), or refuses to start after a word character, and the two that cross white space
(``weekday_date``, ``iso_datetime``) expect a month name, a clock or digits only where the token
has "0x". tests/processors/fingerprint/test_skeleton.py pins the rules before ``hex_number`` so
a new one there is checked again. With GUIDs alone 21.5 % of the bench fleet's messages missed;
with these tokens too, 2.3 %.
"""

from __future__ import annotations

import re

from .mask import MASK_RULES, WILDCARD, mask
from .substitute import anchored_sub

# Logs repeat up to their numbers (the same service line on every boot, the same failure every
# minute with another count): remember the templates of recent short messages by digit skeleton.
# Bounded in entries and in message length, so the cache holds at most CACHE_ENTRIES x
# CACHE_MESSAGE_MAX characters (x4 bytes at worst) of keys.
CACHE_ENTRIES = 8192
CACHE_MESSAGE_MAX = 2048

# The only digits a pattern names: a message holding one keeps their positions in its key.
DIGIT_LITERALS = ("0x", "S-1-")
_DIGIT_LITERAL = re.compile("|".join(map(re.escape, DIGIT_LITERALS)))
# On UTF-8 bytes: ASCII digits are single bytes there, and no other character's bytes are digits.
_ZERO_DIGITS = bytes.maketrans(b"123456789", b"000000000")
SkeletonKey = bytes | tuple[bytes, tuple[int, ...]]
# The GUID rule, which mask() applies first: the key zeroes the spans its own pattern replaces,
# once its anchor showed there is one.
_GUID_RULE = MASK_RULES[0]
assert _GUID_RULE.name == "guid" and _GUID_RULE.anchor is not None, "the key's GUID step needs the GUID rule first"
_GUID_ANCHOR: re.Pattern[str] = _GUID_RULE.anchor
_ZERO_HEX_LETTERS = str.maketrans("abcdefABCDEF", "000000000000")
# A whole white-space-delimited token of "0x" and hex digits (what hex_number replaces whole).
# Every match starts with "0x": only those starts are tried (see .substitute), as for the GUIDs.
_HEX_TOKEN = re.compile(r"(?<!\S)0x[0-9A-Fa-f]+(?!\S)")
_HEX_TOKEN_ANCHOR = re.compile("0x")

# A token's core is what is left after opening and closing punctuation; the punctuation is
# kept so that "(<*>)" and "<*>," still read like the message they came from.
_OPENING = "([{\"'"
_CLOSING = ")]}\"',;:.!?"
_DIGIT = re.compile(r"\d")
# A token's first digit and the rest of the token: the regex engine skips to digits by itself.
_DIGIT_TO_TOKEN_END = re.compile(r"\d\S*")
# A run of values (a stack of addresses, "port 22 ssh2") is one value: lists vary in length.
_RUN_OF_WILDCARDS = re.compile(r"(?:<\*>)(?:[\s_.:-]*<\*>)+")


def message_template(message: str) -> str:
    """The message's template: variable values replaced by ``<*>``; deterministic."""
    if len(message) > CACHE_MESSAGE_MAX:
        return _template(message)
    key = skeleton_key(message)
    template = _TEMPLATES.get(key)
    if template is None:
        if len(_TEMPLATES) >= CACHE_ENTRIES:
            del _TEMPLATES[next(iter(_TEMPLATES))]  # the oldest entry: first in, first out
        template = _TEMPLATES[key] = _template(message)
    return template


def skeleton_key(message: str) -> SkeletonKey:
    """What the template depends on: the message with its ASCII digits, and the hex letters of
    its GUIDs and ``0x`` tokens, read as ``0``, and where it holds a :data:`DIGIT_LITERALS`
    string, if it does."""
    # Both steps try only the starts near an anchor: a full pattern.sub tried every position and
    # cost ~15 us on a 200-character message holding a GUID (the same result: see .substitute).
    if "-" in message:
        message = anchored_sub(_GUID_RULE.pattern, _zero_hex_letters, _GUID_ANCHOR, _GUID_RULE.reach, message)
    if "0x" in message:
        message = anchored_sub(_HEX_TOKEN, _zero_hex_letters, _HEX_TOKEN_ANCHOR, 0, message)
    skeleton = message.encode("utf-8", "surrogatepass").translate(_ZERO_DIGITS)
    for literal in DIGIT_LITERALS:
        if literal in message:
            return skeleton, tuple(found.start() for found in _DIGIT_LITERAL.finditer(message))
    return skeleton


def _zero_hex_letters(found: re.Match[str]) -> str:
    return found.group().translate(_ZERO_HEX_LETTERS)


def clear_template_cache() -> None:
    """Forget every remembered template (benchmarks start cold with it)."""
    _TEMPLATES.clear()


def _template(message: str) -> str:
    joined = " ".join(mask(message).split())
    if _DIGIT.search(joined) is not None:
        joined = _generalise_tokens(joined)
    if WILDCARD not in joined:
        return joined  # no value at all, so no run of values either
    return _RUN_OF_WILDCARDS.sub(WILDCARD, joined)


_TEMPLATES: dict[SkeletonKey, str] = {}
# Decision: no cache of exact texts in front of the keys. Half the simulated fleet's messages
# repeat a recent text exactly, but a text cache's misses (an insert, and evicting from the front
# of a dict, which scans the slots freed before) cost what its hits save: 9.9 us per message with
# one (an OrderedDict), 14.0 with a plain dict's FIFO, 9.4 with the keys alone (7 interleaved
# reps over 149,673 messages, 2026-12-01; the keys' cache misses 2.3 % of the time, so its own
# FIFO rarely evicts).


def _generalise_tokens(joined: str) -> str:
    """Generalise each token of a single-space-joined text; only those with a digit can change."""
    parts: list[str] = []
    done = 0
    for digit in _DIGIT_TO_TOKEN_END.finditer(joined):  # one hit per token that holds a digit
        start = joined.rfind(" ", done, digit.start()) + 1 or done
        token = joined[start : digit.end()]
        # No punctuation stripped off the ends is a digit: the core keeps the digit, so the
        # token is a value (what _generalise decides, without its checks).
        core = token.lstrip(_OPENING)
        stripped = core.rstrip(_CLOSING)
        parts += (joined[done:start], token[: len(token) - len(core)], WILDCARD)
        parts.append(core[len(stripped) :])
        done = digit.end()
    parts.append(joined[done:])
    return "".join(parts)


def _generalise(token: str) -> str:
    """Replace a token's core by ``<*>`` when it still holds a digit (a value, not a word)."""
    if _DIGIT.search(token) is None or not _DIGIT.search(token.replace(WILDCARD, "")):
        return token
    # str.strip, not a regex: linear even on a 64 KiB token of punctuation.
    core = token.lstrip(_OPENING)
    opening = token[: len(token) - len(core)]
    stripped = core.rstrip(_CLOSING)
    closing = core[len(stripped) :]
    if not _DIGIT.search(stripped):
        return token
    return f"{opening}{WILDCARD}{closing}"
