"""Substitute a mask rule only where it can match: near the occurrences of a short anchor.

``pattern.sub`` tries the pattern at every position of the message; a rule that starts with an
optional part or a lookbehind gets no help from the regex engine's first-character skip, so a
1 KB message costs a thousand attempts. Many rules have an *anchor*: a cheap pattern such that
every match starting at ``s`` contains an anchor occurrence starting within ``[s, s + reach]``
(a GUID's ``8 hex + '-' + 4 hex + '-'`` one character in at most, a Windows path's first
backslash three in at most). Then the only possible starts are the ``reach + 1`` positions up to
each anchor occurrence; trying just those, leftmost first, finds exactly the matches
``pattern.sub`` finds (``pattern.match(text, s)`` sees the text before ``s``, so lookbehinds and
``\\b`` behave as in a full scan). The anchor and reach of each rule are claims the tests check
against ``pattern.sub`` over real and generated messages.

A rule whose values have no bounded length before their anchor (a host name's labels before
``.com``) can give a *run* instead of a reach: the characters its match consists of up to the
anchor, all of which its lookbehind refuses before a start. Its only possible start is then
where that run of characters begins.
"""

from __future__ import annotations

import re
from collections.abc import Callable


# One group reference between two literals, the shape of every mask rule's replacement.
_ONE_GROUP = re.compile(r"([^\\]*)\\([1-9])(?![0-9])([^\\]*)")


def expander(replacement: str) -> Callable[[re.Match[str]], str]:
    """What a match becomes: the literal replacement, or its group references expanded."""
    if "\\" not in replacement:
        return lambda match: replacement
    shape = _ONE_GROUP.fullmatch(replacement)
    if shape is None:
        return lambda match: match.expand(replacement)
    # Match.expand parses the replacement on every call (Python 3.11): parse it here, once.
    head, group, tail = shape.group(1), int(shape.group(2)), shape.group(3)
    return lambda match: f"{head}{match.group(group) or ''}{tail}"


def anchored_sub(
    pattern: re.Pattern[str],
    expand: Callable[[re.Match[str]], str],
    anchor: re.Pattern[str],
    reach: int,
    text: str,
    run: str | None = None,
) -> str:
    """``pattern.sub`` over ``text``, trying only the starts within ``reach`` before an anchor
    (or, given ``run``, the start of the run of those characters that reaches the anchor)."""
    parts: list[str] = []
    done = 0  # text before this is copied or replaced; no match may start before it
    next_start = 0  # the lowest start not tried yet
    found = anchor.search(text)
    while found is not None:
        at = found.start()
        if run is None:
            starts: range | tuple[int, ...] = range(max(next_start, at - reach), at + 1)
        else:
            starts = _run_start(text, run, next_start, at)
        for start in starts:
            match = pattern.match(text, start)
            if match is not None:
                parts += (text[done:start], expand(match))
                done = next_start = match.end()  # every rule's match is non-empty
                # The next match starts at ``done`` or later: so does its anchor (maybe ``at``).
                found = anchor.search(text, done)
                break
        else:
            next_start = at + 1  # every start up to this anchor is tried
            found = anchor.search(text, next_start)
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


def _run_start(text: str, run: str, low: int, at: int) -> tuple[int, ...]:
    """Where the run of ``run`` characters ending at ``at`` begins, if at or after ``low``."""
    start = at
    while start > low:
        chunk_start = max(low, start - 64)  # chunks: a long run costs its length, not more
        kept = text[chunk_start:start].rstrip(run)
        if kept:
            return (chunk_start + len(kept),)
        start = chunk_start
    if low > 0 and text[low - 1] in run:
        return ()  # the run began before ``low``: no start of it is left to try
    return (low,)
