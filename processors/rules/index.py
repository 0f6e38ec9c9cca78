"""RuleIndex: the rules that can possibly hold for an event, found by its code and provider.

Most events of a workstation (Sysmon, Security auditing noise) carry a code and provider that no
rule names. A rule whose condition requires certain codes or providers (``equals``/``in``) is
only tried on events that have them; the candidate list per (code, provider) is computed once.
When both are strings (always, for an enriched event), each candidate is also specialised to
them: its tests on code and provider are decided once, so a rule that names its provider by a
regex is dropped for other providers, and a candidate keeps only its tests on other fields.
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

Candidates = list[tuple["Rule", Predicate]]


def _always(view: Mapping[str, Any]) -> bool:
    return True


class RuleIndex:
    """Candidate rules per (event code, provider), in pack order."""

    def __init__(self, entries: Sequence[tuple[Rule, Condition]]) -> None:
        self._entries = [
            (rule, cond, cond.compile(), cond.required_values(CODE), cond.required_values(PROVIDER))
            for rule, cond in entries
        ]
        self._cache: dict[tuple[str, str], Candidates] = {}
        self._exact: dict[tuple[str, str], Candidates] = {}

    def candidates(self, view: Mapping[str, Any]) -> Candidates:
        """The rules worth testing against this event, each with the test still to make."""
        code, provider = view.get(CODE), view.get(PROVIDER)
        if type(code) is str and type(provider) is str:
            found = self._exact.get((code, provider))
            return found if found is not None else self._specialised(code, provider)
        key = (str(code), str(provider))
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= CACHE_MAX:
                self._cache.clear()
            found = self._cache[key] = [(r, p) for r, _, p in self._narrowed(key)]
        return found

    def _narrowed(self, key: tuple[str, str]) -> list[tuple[Rule, Condition, Predicate]]:
        return [
            (rule, cond, predicate)
            for rule, cond, predicate, codes, providers in self._entries
            if (codes is None or key[0] in codes) and (providers is None or key[1] in providers)
        ]

    def _specialised(self, code: str, provider: str) -> Candidates:
        if len(self._exact) >= CACHE_MAX:
            self._exact.clear()
        known = {CODE: code, PROVIDER: provider}
        found: Candidates = []
        for rule, cond, _ in self._narrowed((code, provider)):
            rest = cond.specialise(known)
            if not isinstance(rest, bool):
                found.append((rule, rest))
            elif rest:
                found.append((rule, _always))
        self._exact[(code, provider)] = found
        return found
