"""Fixtures of the stage 1 tests; the builders they share live in stage1_build.py.

(Test modules import builders from there, not from "conftest": several test folders have a
conftest.py, and a bare ``from conftest import`` picks whichever was imported first.)
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from stage1_build import *  # noqa: F403  (the fixtures below use the builders)
from stage1_build import make_stage, T0
from deskwatch.processors.stage1 import Stage1

@pytest.fixture
def stage() -> Stage1:
    return make_stage()


@pytest.fixture
def at() -> Callable[[float], datetime]:
    """Minutes after T0."""
    return lambda minutes: T0 + timedelta(minutes=minutes)
