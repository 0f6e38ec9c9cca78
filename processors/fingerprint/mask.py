"""Mask the variable parts of a log message: one ordered table of named regex rules.

Order matters and is the table's order: wide shapes that contain digits and separators (GUIDs,
URLs, paths, timestamps, addresses) go first so that later, narrower rules cannot cut them into
pieces that would read differently from one line to the next. Every rule is a regex over the text
alone: the result depends on the message, never on what was seen before.

The rules describe shapes of values that any log carries; none was read from, or fitted to, a
labelled template set. Each starts only at a token boundary (a lookbehind, not ``\\b``), which
keeps every rule linear on long dotted or dashed tokens.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field

from .substitute import anchored_sub, expander

WILDCARD = "<*>"


@dataclass(frozen=True)
class MaskRule:
    """One kind of variable value: its name, its shape, and what replaces it."""

    name: str
    pattern: re.Pattern[str]
    replacement: str
    # Text every match contains: one string of each group, and a digit when ``digit``. A plain
    # ``in`` scan costs far less than a regex pass that finds nothing, and most rules find nothing.
    needs: tuple[tuple[str, ...], ...] = ()
    digit: bool = False
    fold: bool = False  # compare case-folded: the pattern ignores case ("ſ" matches "s")
    # A run of characters every match contains, without the lookarounds that make the full
    # pattern slow to scan: searched after ``needs`` (and before the anchor's starts are tried),
    # for rules that run often and rarely match.
    core: re.Pattern[str] | None = None
    # Every match starting at s has an anchor occurrence starting in [s, s + reach]: only the
    # starts near an anchor are tried (see .substitute), instead of every position.
    anchor: re.Pattern[str] | None = None
    reach: int = 0
    run: str | None = None  # instead of a reach: see .substitute
    expand: Callable[[re.Match[str]], str] = field(default=str, compare=False, repr=False)

    def apply(self, message: str) -> str:
        """The message with this rule's matches replaced; the same as ``pattern.sub``."""
        if self.digit and _ANY_DIGIT.search(message) is None:
            return message
        return self.apply_given_digit(message)

    def apply_given_digit(self, message: str) -> str:
        """:meth:`apply` for a caller that knows ``message`` holds a digit (or ``digit`` is off)."""
        if not self._needs_hold(message):
            return message
        return self.apply_given_needs(message)

    def apply_given_needs(self, message: str) -> str:
        """:meth:`apply` for a caller that has checked ``digit`` and ``needs`` already."""
        if self.core is not None and self.core.search(message) is None:
            return message
        if self.anchor is not None:
            return anchored_sub(
                self.pattern, self.expand, self.anchor, self.reach, message, self.run
            )
        return self.pattern.sub(self.replacement, message)

    def may_match(self, message: str) -> bool:
        """False only when no match is possible (a required string or digit is absent)."""
        if self.digit and _ANY_DIGIT.search(message) is None:
            return False
        if not self._needs_hold(message):
            return False
        return self.core is None or self.core.search(message) is not None

    def _needs_hold(self, message: str) -> bool:
        text = message.casefold() if self.fold else message
        for group in self.needs:  # loops, not all(any()): this runs ~20 times per message
            for part in group:
                if part in text:
                    break
            else:
                return False
        return True


def _rule(
    name: str,
    pattern: str,
    replacement: str = WILDCARD,
    flags: int = 0,
    needs: tuple[tuple[str, ...], ...] = (),
    digit: bool = False,
    core: str | None = None,
    anchor: tuple[str, int] | None = None,
    run: str | None = None,
) -> MaskRule:
    fold = bool(flags & re.IGNORECASE) and any(c.isalpha() for g in needs for p in g for c in p)
    compiled_core = None if core is None else re.compile(core, flags)
    compiled = re.compile(pattern, flags)
    compiled_anchor = None if anchor is None else re.compile(anchor[0], flags)
    reach = 0 if anchor is None else anchor[1]
    return MaskRule(
        name, compiled, replacement, needs, digit, fold, compiled_core,
        compiled_anchor, reach, run, expander(replacement),
    )


# \d as the patterns use it: any Unicode decimal digit, not only 0-9.
_ANY_DIGIT = re.compile(r"\d")

_HEX = r"[0-9A-Fa-f]"
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*"
_WEEKDAY = r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*"
_CLOCK = r"\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?"
# Top-level domains that end host names; two-letter labels are country codes.
_TLD = r"(?:com|net|org|edu|gov|mil|int|info|biz|io|local|lan|arpa|[A-Za-z]{2})"
# A value token starts and ends outside any longer word, path or dotted name.
_START = r"(?<![\w.:/\\-])"
_END = r"(?![\w.:/\\-])"
_FILE_EXT = r"(?:dat|dll|exe|sys|log|cab|txt|ini|xml|json|conf|cfg|mum|cat|manifest|so|py|sh)"

MASK_RULES: tuple[MaskRule, ...] = (
    _rule(
        "guid",
        rf"\{{?{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}\}}?",
        needs=(("-",),),
        # The first dash: after eight hex digits and a brace, if any. An anchor that starts
        # with a literal is found by a fast scan; one that starts with a class is not.
        anchor=(rf"-{_HEX}{{4}}-{_HEX}{{4}}-", 9),
    ),
    _rule(
        "url",
        r"(?<![\w+.-])[a-z][a-z0-9+.-]*://[^\s\"'<>]+",
        flags=re.IGNORECASE,
        needs=(("://",),),
    ),
    # Windows paths: drive, UNC or device (\\?\) prefix, two or more components.
    _rule(
        "windows_path",
        r"(?:\b[A-Za-z]:|\\\\[\w.?$-]+|<\*>)?(?:\\[\w.$~{}()-]+){2,}\\?",
        needs=(("\\",),),
        anchor=(r"\\", 3),  # a path's first backslash follows "C:" or "<*>" at most
    ),
    # Unix and relative paths, also with a masked prefix glued on ("<*>GLOBALROOT/Device/...").
    _rule(
        "unix_path",
        r"(?<![\w/.:<>*-])(?:<\*>|~|\.{1,2})?[\w.-]*(?:/[\w.@%+~{}-]+){2,}/?",
        needs=(("/",),),
    ),
    _rule("email", r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b", needs=(("@",),)),
    _rule(
        "weekday_date",
        rf"\b{_WEEKDAY}\s+{_MONTH}\s+\d{{1,2}}\s+{_CLOCK}(?:\s+\d{{4}})?\b",
        # A day's name before the clock: an ``in`` scan each, far cheaper than the anchor's.
        needs=((":",), ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")),
        digit=True,
        anchor=(rf"{_WEEKDAY}\s+{_MONTH}", 0),
    ),
    _rule(
        "iso_datetime",
        rf"\b\d{{4}}[-/]\d{{1,2}}[-/]\d{{1,2}}(?:[T :]+{_CLOCK})?(?:Z|[+-]\d\d:?\d\d)?",
        needs=(("-", "/"),),
        digit=True,
        anchor=(r"[-/]\d{1,2}[-/]\d", 4),  # after the year
    ),
    _rule(
        "clock",
        rf"\b{_CLOCK}\b",
        needs=((":",),),
        digit=True,
        anchor=(r":\d\d", 2),  # after the hour
    ),
    _rule(
        "mac",
        rf"{_START}{_HEX}{{2}}(?:[:-]{_HEX}{{2}}){{5}}{_END}",
        needs=((":", "-"),),
        anchor=(rf"[:-]{_HEX}{{2}}[:-]{_HEX}{{2}}[:-]", 2),  # after the first byte
    ),
    # IPv6, also compressed ("fe80::1", "::1"): hex groups joined by two to seven colons.
    _rule(
        "ipv6",
        rf"(?<![\w:])(?=[\w:]*\d)(?:{_HEX}{{1,4}})?(?::{_HEX}{{0,4}}){{2,7}}(?![\w:])",
        needs=((":",),),
        anchor=(rf":{_HEX}{{0,4}}:", 4),  # the first colon, after at most four hex digits
    ),
    _rule(
        "ipv4",
        rf"{_START}(?:\d{{1,3}}\.){{3}}\d{{1,3}}(?::\d{{1,5}})?(?![\w.:-])",
        needs=((".",),),
        digit=True,
        anchor=(r"\.\d{1,3}\.\d{1,3}\.\d", 3),  # after the first octet
    ),
    _rule(
        "hostname",
        rf"{_START}(?:[A-Za-z0-9-]+\.)+{_TLD}{_END}",
        needs=((".",),),
        # The top-level domain's dot; the match starts where its run of label characters and
        # dots starts (_START refuses any of them before a start).
        anchor=(r"\.[A-Za-z]{2}", 0),
        run=string.ascii_letters + string.digits + ".-",
        # The last dot, a top-level domain and the end of the token: ".exe" and ".ad." are
        # no host names, and most messages with a dot have no such ending at all.
        core=rf"\.{_TLD}{_END}",
    ),
    _rule("hex_number", rf"(?<!\w)@?0x{_HEX}+\b", needs=(("0x",),), anchor=("0x", 1)),
    _rule("sid", r"\bS-1-\d+(?:-\d+)+\b", needs=(("S-1-",),), anchor=("S-1-", 0)),
    _rule(
        "duration",
        r"\b\d+(?:\.\d+)?\s?(?:ms|us|ns|secs?|seconds?|mins?|minutes?|hours?)\b",
        needs=(("ms", "us", "ns", "sec", "min", "hour"),),  # the unit: before the core's scan
        digit=True,
        core=r"\d\s?(?:ms|us|ns|sec|min|hour)",
    ),
    _rule(
        "size",
        r"\b\d+(?:\.\d+)?\s?(?:[KMGT]i?B|bytes?)\b",
        flags=re.IGNORECASE,
        needs=(("b",),),  # every unit ends in or holds a B, any case (compared case-folded)
        digit=True,
        core=r"\d\s?(?:[KMGT]i?B|byte)",
    ),
    _rule(
        "file_name",
        rf"(?<![\w.\\/-])[\w-]+\.{_FILE_EXT}\b",
        needs=((".",),),
        core=rf"\.{_FILE_EXT}",  # from the dot: a scan that starts at a literal is fast
    ),
    _rule(
        "quoted",
        r"(?<![\w'])'[^'\s][^'\n]*?'(?!\w)",
        replacement=f"'{WILDCARD}'",
        needs=(("'",),),
    ),
    # key=value pairs (logfmt, PAM): the key is constant, the value variable, even when empty.
    _rule(
        "key_value",
        r"(?<![\w.-])([A-Za-z_][\w.-]*)=[^\s,;()\[\]]*",
        rf"\1={WILDCARD}",
        needs=(("=",),),
    ),
    # "()" marks a field that had no value this time ("connection from <ip> () at ...").
    _rule("empty_brackets", r"\(\s*\)", replacement=f"({WILDCARD})", needs=(("(",),)),
    # "label: value," lists fields; the one-token value before the comma is the variable.
    _rule(
        "labelled_value",
        r"(?<![\w-])([A-Za-z][\w-]*):\s+[^\s,:;]+(?=,)",
        rf"\1: {WILDCARD}",
        needs=((":",), (",",)),
    ),
    # Account names: "user X" and "for X from Y" (sshd, PAM, su, login all write these).
    _rule(
        "user",
        r"\b(user)\s+(?!from\b|unknown\b|by\b)[^\s\[\]();,]+",
        replacement=rf"\1 {WILDCARD}",
        flags=re.IGNORECASE,
        needs=(("user",),),
        anchor=("user", 0),  # compiled with the rule's flags: the same case folding
    ),
    _rule(
        "for_from",
        r"\b(for)\s+(?!invalid\b|illegal\b|user\b)[^\s\[\]();,]+(?=\s+from\b)",
        replacement=rf"\1 {WILDCARD}",
        needs=(("for",), ("from",)),
        anchor=("for", 0),
    ),
)


# Each rule's guards unpacked once: mask() checks them inline, ~20 rules per message.
_GUARDS = tuple((rule, rule.digit, rule.fold, rule.needs) for rule in MASK_RULES)


def mask(message: str) -> str:
    """Replace each variable value in ``message`` with ``<*>``, applying the rules in order."""
    # Replacements bring no digit: a message without one never gets one, so look once.
    digits = _ANY_DIGIT.search(message) is not None
    folded, folded_of = "", None  # the case-folded message, made at most once per version of it
    for rule, digit, fold, needs in _GUARDS:
        if digit and not digits:
            continue
        if fold:
            if folded_of is not message:
                folded, folded_of = message.casefold(), message
            text = folded
        else:
            text = message
        for group in needs:  # MaskRule._needs_hold, inline: this runs ~20 times per message
            for part in group:
                if part in text:
                    break
            else:
                break
        else:
            message = rule.apply_given_needs(message)
    return message
