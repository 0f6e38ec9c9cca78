"""The one declaration of deskwatch's topics: names, keys, payloads, cleanup, writers and readers.

Topics are created from this table (never auto-created), agents are wired from it, and a test
checks that every topic someone reads is written upstream and no topic is orphaned.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from deskwatch.settings import KafkaSettings

WEEK_MS = 7 * 24 * 3600 * 1000


class Stage(StrEnum):
    PRODUCER = "producer"
    TICKER = "ticker"
    STAGE1 = "stage1"
    STAGE2 = "stage2"
    SINK = "sink"
    OPERATOR = "operator"  # the CLI and other systems acting for a person
    SUBSCRIBER = "subscriber"  # ticketing, notification: outside deskwatch


@dataclass(frozen=True)
class TopicSpec:
    role: str
    key: str
    value: str
    compacted: bool
    writers: tuple[Stage, ...]
    readers: tuple[Stage, ...]
    retention_ms: int | None = WEEK_MS

    def name(self, kafka: KafkaSettings) -> str:
        return f"{kafka.topic_prefix}{self.role}"

    def config(self) -> dict[str, str]:
        if self.compacted:
            return {"cleanup.policy": "compact"}
        cfg = {"cleanup.policy": "delete"}
        if self.retention_ms is not None:
            cfg["retention.ms"] = str(self.retention_ms)
        return cfg


EVENTS = TopicSpec(
    "events", key="host.name", value="EventBatch", compacted=False,
    writers=(Stage.PRODUCER,), readers=(Stage.STAGE1,),
)
INVENTORY = TopicSpec(
    "inventory", key="host", value="Asset", compacted=True,
    writers=(Stage.PRODUCER,), readers=(Stage.STAGE1,), retention_ms=None,
)
EVENT_DIGESTS = TopicSpec(
    "event-digests", key="host.name", value="EventDigest", compacted=False,
    writers=(Stage.STAGE1,), readers=(Stage.SINK,),
)
# A group's one log: stage 1's signals, the ticks, and the commands other groups and operators
# send it (schemas/command.py says why one log).
SIGNALS = TopicSpec(
    "signals", key="group key (rule id + group_by values)", value="Signal | Tick | Command", compacted=False,
    writers=(Stage.STAGE1, Stage.TICKER, Stage.STAGE2), readers=(Stage.STAGE2,),
)
COMMANDS = TopicSpec(
    "commands", key="group key of the owning group", value="Command (operators'; stage 2 forwards it to signals)",
    compacted=False, writers=(Stage.OPERATOR,), readers=(Stage.STAGE2,),
)
SILENCES = TopicSpec(
    "silences", key="silence id", value="Silence", compacted=True,
    writers=(Stage.OPERATOR,), readers=(Stage.STAGE2,), retention_ms=None,
)
INCIDENTS = TopicSpec(
    "incidents", key="incident id", value="Incident (latest revision)", compacted=True,
    writers=(Stage.STAGE2,), readers=(Stage.SINK, Stage.SUBSCRIBER), retention_ms=None,
)
INCIDENT_CHANGES = TopicSpec(
    "incident-changes", key="incident id", value="IncidentChange", compacted=False,
    writers=(Stage.STAGE2,), readers=(Stage.SINK, Stage.SUBSCRIBER),
)
DEAD_LETTER = TopicSpec(
    "dead-letter", key="source", value="DeadLetter", compacted=False,
    writers=(Stage.PRODUCER, Stage.STAGE1, Stage.STAGE2, Stage.SINK), readers=(Stage.OPERATOR, Stage.SINK),
    retention_ms=30 * 24 * 3600 * 1000,
)

TOPICS: tuple[TopicSpec, ...] = (
    EVENTS, INVENTORY, EVENT_DIGESTS, SIGNALS, COMMANDS, SILENCES, INCIDENTS, INCIDENT_CHANGES, DEAD_LETTER,
)
# What each consumer group commits, so "drained" means the same everywhere (the demo, the bench,
# the fault runs): the processor's streams (stage 2's signals too: a claim between two groups
# travels on signals after stage 1 is done; and the operators' commands it forwards), and every
# topic the sink indexes.
# Inventory and silences are tables the processor follows from their start, never committed.
PROCESSOR_INPUTS: tuple[TopicSpec, ...] = (EVENTS, SIGNALS, COMMANDS)
SINK_INPUTS: tuple[TopicSpec, ...] = (INCIDENTS, INCIDENT_CHANGES, EVENT_DIGESTS, DEAD_LETTER)
# Stage 2's agent reads signals and commands, both keyed by group: one partition number owns a group,
# its incidents and the operators' commands to it (it forwards them into signals, its one log).
CO_PARTITIONED: tuple[tuple[TopicSpec, ...], ...] = ((SIGNALS, COMMANDS),)
