"""Has a group applied this signal already? An index over each group's recent signal ids.

A group keeps the ids of its last SOURCE_IDS_CAP signals as a list, the form its table value
stores. ``source_id in list`` compared up to 512 ids per signal: ~8 % of stage 2's samples on a
sparse fleet (py-spy), where a fleet-wide group receives the signals of every host. This index
keeps, for the groups with long lists used most recently, a set of the same ids. A set is valid
for exactly one list object (lists are replaced, never mutated: ``GroupState.remember``); when a
signal replaces a group's list by the same ids plus its own, the set moves on to the new list.
Any other list (a state decoded again, a retry from an older state) gets a set built from it.
The answer is always ``source_id in ids``.
"""

from __future__ import annotations

INDEX_MIN_IDS = 64  # a shorter list is scanned: building a set for it would cost more
INDEX_GROUPS = 256  # sets kept: ~32 KB each at the cap, ~8 MB in all


class SourceIdIndex:
    """Sets of recent signal ids for the groups with long lists used most recently."""

    def __init__(self, groups: int = INDEX_GROUPS, min_ids: int = INDEX_MIN_IDS) -> None:
        self._groups = groups
        self._min_ids = min_ids
        # group key -> (the list a set was built from or moved to, the set); oldest first
        self._sets: dict[str, tuple[list[str], set[str]]] = {}

    def seen(self, key: str, ids: list[str], source_id: str) -> bool:
        """Whether ``source_id`` is in ``ids``, the recent signal ids of group ``key``."""
        if len(ids) < self._min_ids:
            return source_id in ids
        entry = self._sets.get(key)
        if entry is None or entry[0] is not ids:
            entry = self._keep(key, ids, set(ids))
        return source_id in entry[1]

    def advance(self, key: str, before: list[str], after: list[str]) -> None:
        """Group ``key``'s list ``before`` was replaced by ``after``: move its set over when
        ``after`` is ``before`` with one id appended (and its oldest beyond the cap dropped)."""
        if after is before:
            return
        entry = self._sets.pop(key, None)
        if entry is None or entry[0] is not before or len(after) < self._min_ids:
            return
        dropped = len(before) + 1 - len(after)
        appended = (
            0 <= dropped <= len(before)
            and after[-2] is before[-1]
            and (dropped == len(before) or after[0] is before[dropped])
        )
        if not appended:
            return  # replaced some other way: the next look builds a set from the list
        ids = entry[1]
        for old in before[:dropped]:
            ids.discard(old)
        ids.add(after[-1])
        self._keep(key, after, ids)

    def _keep(self, key: str, ids: list[str], index: set[str]) -> tuple[list[str], set[str]]:
        self._sets.pop(key, None)  # re-inserted last: the most recently used
        if len(self._sets) >= self._groups:
            del self._sets[next(iter(self._sets))]
        entry = self._sets[key] = (ids, index)
        return entry
