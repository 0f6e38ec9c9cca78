"""RuleIndex: the rules that can possibly hold for an event, found by its code and provider.

Most events of a workstation (Sysmon, Security auditing noise) carry a code and provider that no
rule names. A rule whose condition requires certain codes or providers (``equals``/``in``) is
only tried on events that have them; the candidate list per (code, provider) is computed once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from deskwatch.processors.rules.condition import Condition, Predicate

if TYPE_CHECKING:
    from deskwatch.processors.rules.model import Rule

CODE: Final = "event.code"
PROVIDER: Final = "event.provider"
CACHE_MAX: Final = 4096  # distinct (code, provider) pairs remembered; cleared when full


class RuleIndex:
    """Candidate rules per (event code, provider), in pack order."""

    def __init__(self, entries: Sequence[tuple[Rule, Condition]]) -> None:
        self._entries = [
            (rule, cond.compile(), cond.required_values(CODE), cond.required_values(PROVIDER))
            for rule, cond in entries
        ]
        self._cache: dict[tuple[str, str], list[tuple[Rule, Predicate]]] = {}

    def candidates(self, view: Mapping[str, Any]) -> list[tuple[Rule, Predicate]]:
        """The rules worth testing against this event."""
        key = (str(view.get(CODE)), str(view.get(PROVIDER)))
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= CACHE_MAX:
                self._cache.clear()
            found = self._cache[key] = [
                (rule, predicate)
                for rule, predicate, codes, providers in self._entries
                if (codes is None or key[0] in codes) and (providers is None or key[1] in providers)
            ]
        return found
