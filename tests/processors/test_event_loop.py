"""The worker's event loop choice: uvloop's policy installed before faust makes its loop, or asyncio's kept."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import uvloop

from deskwatch.processors.app import use_event_loop


@pytest.fixture
def restore_policy() -> Iterator[None]:
    before = asyncio.get_event_loop_policy()
    yield
    asyncio.set_event_loop_policy(before)


@pytest.mark.parametrize(("kind", "uv"), [("uvloop", True), ("asyncio", False)], ids=["uvloop", "asyncio"])
def test_use_event_loop(kind: str, uv: bool, restore_policy: None) -> None:
    asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    use_event_loop(kind)
    loop = asyncio.new_event_loop()
    try:
        assert isinstance(loop, uvloop.Loop) is uv
    finally:
        loop.close()
