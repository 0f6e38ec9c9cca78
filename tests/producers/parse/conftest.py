"""Where the real sample logs live: read in place from the shared data folder (never copied
into the repo); tests that need them skip with a clear message when the folder is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared data folder (env DESKWATCH_SHARED_DATA, default <repo root>/../shared/data)."""
    root = Path(os.environ.get("DESKWATCH_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
    if not root.is_dir():
        pytest.skip(f"shared sample data not found at {root}; set DESKWATCH_SHARED_DATA")
    return root
