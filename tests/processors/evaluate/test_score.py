"""Grouping accuracy on hand-made groupings: exact, split, merged, relabelled."""

from __future__ import annotations

import pytest

from deskwatch.processors.evaluate import grouping_accuracy

TRUTH = ["A", "A", "A", "B", "B", "C"]

CASES = [
    ("exact", ["x", "x", "x", "y", "y", "z"], 1.0),
    ("labels_are_only_names", ["B", "B", "B", "C", "C", "A"], 1.0),
    # A split costs every line of the true group, not only the stray one.
    ("over_split", ["x", "x", "w", "y", "y", "z"], 3 / 6),
    # A merge costs every line of both true groups.
    ("over_merged", ["x", "x", "x", "x", "x", "z"], 1 / 6),
    ("split_and_merged", ["x", "x", "w", "w", "w", "z"], 1 / 6),
    ("all_in_one", ["x"] * 6, 0.0),
    ("all_apart", ["a", "b", "c", "d", "e", "f"], 1 / 6),
]


@pytest.mark.parametrize(
    ("predicted", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_grouping_accuracy(predicted: list[str], expected: float) -> None:
    assert grouping_accuracy(predicted, TRUTH) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("predicted", "truth"),
    [(["x"], ["A", "B"]), ([], [])],
    ids=["length_mismatch", "empty"],
)
def test_grouping_accuracy_rejects(predicted: list[str], truth: list[str]) -> None:
    with pytest.raises(ValueError):
        grouping_accuracy(predicted, truth)
