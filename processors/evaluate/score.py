"""Grouping accuracy (GA), as the loghub/logparser benchmark defines it.

A line is parsed correctly when the set of lines in its predicted group is exactly the set of
lines in its true group; GA is the share of lines parsed correctly. Over-splitting a true group
and merging two true groups both cost every line of the groups involved, which is why GA is a
strict measure of "same kind of event".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence


def grouping_accuracy(predicted: Sequence[Hashable], truth: Sequence[Hashable]) -> float:
    """Share of lines whose predicted group holds exactly the lines of their true group."""
    if len(predicted) != len(truth):
        raise ValueError(f"predicted has {len(predicted)} labels, truth has {len(truth)}")
    if not truth:
        raise ValueError("grouping accuracy of zero lines is undefined")
    predicted_groups = _members(predicted)
    truth_groups = _members(truth)
    correct = 0
    for members in predicted_groups.values():
        # All members share one true label only if the predicted group is not a merge; it is
        # then correct exactly when that true group has no member elsewhere (no split).
        true_labels = {truth[i] for i in members}
        if len(true_labels) == 1 and truth_groups[true_labels.pop()] == members:
            correct += len(members)
    return correct / len(truth)


def _members(labels: Sequence[Hashable]) -> dict[Hashable, frozenset[int]]:
    """Map each label to the frozen set of line positions that carry it."""
    groups: dict[Hashable, set[int]] = defaultdict(set)
    for position, label in enumerate(labels):
        groups[label].add(position)
    return {label: frozenset(members) for label, members in groups.items()}
