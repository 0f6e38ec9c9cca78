"""Stage 1 of the processor, the pure per-host core: dedup, enrichment, rule matching, signals."""

from deskwatch.processors.stage1.decision import (
    DecisionKind,
    EventDecision,
    Stage1Counters,
    Stage1Result,
)
from deskwatch.processors.stage1.enrich import count_populations, enrich, population_of
from deskwatch.processors.stage1.process import Stage1
from deskwatch.processors.stage1.state import (
    ContentWindow,
    HostState,
    HostStateStore,
    IdBucket,
    RuleHit,
    StateLimits,
    dedup_key,
)

__all__ = [
    "ContentWindow",
    "DecisionKind",
    "EventDecision",
    "HostState",
    "HostStateStore",
    "IdBucket",
    "RuleHit",
    "Stage1",
    "Stage1Counters",
    "Stage1Result",
    "StateLimits",
    "count_populations",
    "dedup_key",
    "enrich",
    "population_of",
]
