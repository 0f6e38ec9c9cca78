"""RuleSet: the loaded rules, checked as a whole (unique ids, absorbed rules exist, no cycles)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from deskwatch.processors.rules.errors import RuleValidationError
from deskwatch.processors.rules.index import RuleIndex
from deskwatch.processors.rules.model import Extraction, Rule


class RuleSet:
    """An ordered, validated collection of rules; matching walks them in order."""

    def __init__(self, rules: Sequence[Rule], source: str = "<rules>") -> None:
        self._rules = tuple(rules)
        self._by_id = {rule.id: rule for rule in self._rules}
        self.source = source
        _check_unique(self._rules, source)
        _check_absorbs(self._by_id, source)
        self._parents = {child: parent.id for parent in self._rules for child in parent.absorbs}
        self._match_index = RuleIndex([(r, r.match) for r in self._rules])
        self._resolve_index = RuleIndex([(r, r.resolve_on) for r in self._rules if r.resolve_on])

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules)

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._by_id

    def __getitem__(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]

    @property
    def ids(self) -> list[str]:
        """Rule ids in pack order."""
        return [rule.id for rule in self._rules]

    @property
    def children(self) -> frozenset[str]:
        """The ids of the rules some rule absorbs."""
        return frozenset(self._parents)

    def parent_of(self, rule_id: str) -> str | None:
        """The id of the rule that absorbs ``rule_id``, if any."""
        return self._parents.get(rule_id)

    def matching(self, view: Mapping[str, Any]) -> list[Rule]:
        """Rules whose ``match`` holds for the enriched event."""
        return [rule for rule, holds in self._match_index.candidates(view) if holds(view)]

    def resolving(self, view: Mapping[str, Any]) -> list[Rule]:
        """Rules whose ``resolve_on`` holds for the enriched event."""
        return [rule for rule, holds in self._resolve_index.candidates(view) if holds(view)]


def _check_unique(rules: tuple[Rule, ...], source: str) -> None:
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise RuleValidationError(source, rule.id, ["id: defined twice"])
        seen.add(rule.id)


def _check_absorbs(by_id: Mapping[str, Rule], source: str) -> None:
    owner: dict[str, str] = {}
    for rule in by_id.values():
        for child in rule.absorbs:
            if child not in by_id:
                raise RuleValidationError(
                    source, rule.id, [f"absorbs: no rule {child!r} in the pack"]
                )
            if child in owner:
                raise RuleValidationError(
                    source, rule.id, [f"absorbs: {child!r} is already absorbed by {owner[child]!r}"]
                )
            child_by = by_id[child].group_by
            if child_by[:1] != ["host.name"] or not set(child_by[1:]) <= set(rule.group_by):
                # Stage 2 derives a child's group key from the parent's hosts and group (absorb.py).
                raise RuleValidationError(source, rule.id, [
                    f"absorbs: child {child!r} must group by host.name first, then only by fields "
                    f"{rule.id!r} groups by too (it groups by {child_by})"])
            for name in child_by[1:]:
                # ... so a field both derive must be derived alike, or the claim names no child's key
                if _extractions(by_id[child], name) != _extractions(rule, name):
                    raise RuleValidationError(source, rule.id, [
                        f"absorbs: child {child!r} and {rule.id!r} must extract {name!r} alike "
                        "(the same extract entries, in the same order)"])
            owner[child] = rule.id
    for rule_id in by_id:
        _walk_up(rule_id, owner, source)


def _extractions(rule: Rule, field: str) -> list[Extraction]:
    return [e for e in rule.extract if e.field == field]


def _walk_up(rule_id: str, owner: Mapping[str, str], source: str) -> None:
    chain = [rule_id]
    while chain[-1] in owner:
        chain.append(owner[chain[-1]])
        if chain[-1] in chain[:-1]:
            raise RuleValidationError(source, chain[-1], [f"absorbs: cycle {' <- '.join(chain)}"])
