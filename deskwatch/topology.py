"""The one declaration of deskwatch's topics: names, keys, payloads, cleanup, writers and readers.

Topics are created from this table (never auto-created), agents are wired from it, and a test
checks that every topic someone reads is written upstream and no topic is orphaned.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from deskwatch.settings import KafkaSettings


class Stage(StrEnum):
    PRODUCER = "producer"
    TICKER = "ticker"
    STAGE1 = "processor"
    SINK = "sink"
    OPERATOR = "operator"
    SUBSCRIBER = "subscriber"


@dataclass(frozen=True)
class TopicSpec:
    role: str
    key: str
    value: str
    compacted: bool
    writers: tuple[Stage, ...]
    readers: tuple[Stage, ...]
    retention_ms: int | None = 7 * 24 * 3600 * 1000

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
    "events", key="host.name", value="EventBatch | Tick", compacted=False,
    writers=(Stage.PRODUCER, Stage.TICKER), readers=(Stage.STAGE1,),
)
INCIDENTS = TopicSpec(
    "incidents", key="incident id", value="Incident", compacted=True,
    writers=(Stage.STAGE1,), readers=(Stage.SINK, Stage.SUBSCRIBER),
)
INVENTORY = TopicSpec(
    "inventory", key="host", value="Asset", compacted=True,
    writers=(Stage.PRODUCER,), readers=(Stage.STAGE1,), retention_ms=None,
)
DEAD_LETTER = TopicSpec(
    "dead-letter", key="source", value="DeadLetter", compacted=False,
    writers=(Stage.PRODUCER, Stage.STAGE1, Stage.SINK), readers=(Stage.OPERATOR,),
    retention_ms=30 * 24 * 3600 * 1000,
)

TOPICS: tuple[TopicSpec, ...] = (EVENTS, INVENTORY, INCIDENTS, DEAD_LETTER)
