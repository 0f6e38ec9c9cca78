"""The state file round-trips and is cleared by ``down``."""

from __future__ import annotations

from pathlib import Path

from deskwatch.stack.state import EngineRecord, StackState, clear_state, read_state, write_state


def test_state_round_trips_and_clears(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    assert read_state(path) is None
    record = EngineRecord(
        name="kafka", pid=42, port=19092, log=tmp_path / "k.log", command=["java"]
    )
    state = StackState(mode="local", engines={"kafka": record})
    write_state(path, state)
    assert read_state(path) == state
    assert not path.with_suffix(".tmp").exists()
    clear_state(path)
    assert read_state(path) is None
