"""Evaluation of deskwatch's pure core against public labelled data (loghub).

Labels only score: everything the core sees comes from the raw logs.
"""

from __future__ import annotations

from .measure import GroupingResult, measure_grouping, measure_set
from .score import grouping_accuracy

__all__ = ["GroupingResult", "grouping_accuracy", "measure_grouping", "measure_set"]
