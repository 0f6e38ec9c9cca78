"""Stage 2's pure core: thresholds, the incident lifecycle, absorption, silences and commands.

No faust, kafka or elasticsearch here: state in, state and effects out, time passed in.
"""

from deskwatch.processors.stage2.absorb import child_group_key
from deskwatch.processors.stage2.draft import Decision, Stage2Result
from deskwatch.processors.stage2.policy import EscalationLevel, LifecyclePolicy, quiet_timeout
from deskwatch.processors.stage2.stage import Stage2
from deskwatch.processors.stage2.state import GroupState, ParentLink
from deskwatch.processors.stage2.transition import (
    LEGAL,
    TRANSITIONS,
    Outcome,
    Row,
    Trigger,
    describe_transitions,
    lookup,
)

__all__ = [
    "LEGAL",
    "TRANSITIONS",
    "Decision",
    "EscalationLevel",
    "GroupState",
    "LifecyclePolicy",
    "Outcome",
    "ParentLink",
    "Row",
    "Stage2",
    "Stage2Result",
    "Trigger",
    "child_group_key",
    "describe_transitions",
    "lookup",
    "quiet_timeout",
]
