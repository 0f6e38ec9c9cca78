"""Turn a message into its template: masks first, then every token that still holds a digit.

Why no online miner here. Drain (and drain3's ``TemplateMiner``) grows a parse tree from the
messages it has seen: the template a line gets depends on which lines came before it, so two
workers, or one worker before and after a restart, could fingerprint the same message
differently and content dedup would silently stop matching. The template here is a pure
function of the message: the named masks in :mod:`.mask` (shapes of values that any log carries:
GUIDs, paths, addresses, times, accounts), then Drain's own pre-processing heuristic, applied
per token instead of per tree node: a token that still holds a digit is a value. The result is
the same in every process, at every restart and in every arrival order.
"""

from __future__ import annotations

import re

from .mask import WILDCARD, mask

# A token's core is what is left after opening and closing punctuation; the punctuation is
# kept so that "(<*>)" and "<*>," still read like the message they came from.
_TOKEN = re.compile(r"^([(\[{\"']*)(.*?)([)\]}\"',;:.!?]*)$")
_DIGIT = re.compile(r"\d")
_RUN_OF_WILDCARDS = re.compile(r"(?:<\*>)(?:[\s_.:-]*<\*>)+")


def message_template(message: str) -> str:
    """The message's template: variable values replaced by ``<*>``; deterministic."""
    tokens = [_generalise(token) for token in mask(message).split()]
    return _RUN_OF_WILDCARDS.sub(WILDCARD, " ".join(tokens))


def _generalise(token: str) -> str:
    """Replace a token's core by ``<*>`` when it still holds a digit (a value, not a word)."""
    if WILDCARD in token and not _DIGIT.search(token.replace(WILDCARD, "")):
        return token
    match = _TOKEN.match(token)
    if match is None or not _DIGIT.search(match.group(2)):
        return token
    opening, _, closing = match.groups()
    return f"{opening}{WILDCARD}{closing}"
