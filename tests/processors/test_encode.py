"""encode(): the same bytes as model_dump_json().encode(), for every kind of record the processor writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel

from deskwatch.processors.encode import encode
from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.stage1 import Stage1
from deskwatch.schemas import DeadLetter, EventBatch, WorkstationEvent
from tests.processors.stage2.build import at, command, signal
from tests.processors.stage2.test_state import STAGE

T0 = datetime(2026, 11, 23, 8, tzinfo=UTC)


def _stage1_outputs() -> list[BaseModel]:
    events = [
        WorkstationEvent.model_validate({
            "@timestamp": T0 + timedelta(seconds=i), "event": {"code": "7", "provider": "disk", "id": f"e{i}"},
            "host": {"name": "pc-1"}, "log": {"level": "error"}, "labels": {"channel": "System"},
            "message": r"The device, \Device\Harddisk0\DR0, has a bad block. é ✓ \"quoted\"",
        })
        for i in range(3)
    ]
    result = Stage1(load_default_pack(), {}, {}).process(EventBatch(host="pc-1", events=events), None, T0)
    assert result.signals and result.digests  # the disk rule matched: real outputs, not empty lists
    return [*result.signals, *result.digests, result.new_state]


def _stage2_outputs() -> list[BaseModel]:
    first = STAGE.on_signal(None, signal(0), at(0))
    opened = STAGE.on_signal(first.state, signal(1, "pc-2"), at(1))
    ack = command("ack", 2, key=opened.incidents[0].group_key)
    acked = STAGE.on_command(opened.state, ack, at(2))
    assert opened.incidents and opened.changes and acked.changes
    return [opened.state, *opened.incidents, *opened.changes, ack, acked.state, *acked.changes]


OUTPUTS = {
    "stage1": _stage1_outputs,
    "stage2": _stage2_outputs,
    "dead-letter": lambda: [DeadLetter.of(reason="invalid_envelope", detail="x", stage="stage1",
                                          source="events", position="0:1", original=b"\xff{")],
}


@pytest.mark.parametrize("kind", list(OUTPUTS), ids=list(OUTPUTS))
def test_encode_is_model_dump_json(kind: str) -> None:
    models = OUTPUTS[kind]()
    assert models
    for model in models:
        assert encode(model) == model.model_dump_json().encode(), type(model).__name__
