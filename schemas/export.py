"""Generate the downstream contract: one JSON Schema per topic payload, from the pydantic models.

Run ``python -m deskwatch.schemas.export`` to rewrite ``schemas/jsonschema/*.json``; a test
regenerates them in memory and fails when the committed files drift from the models.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from deskwatch.schemas.asset import Asset
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.command import Command, Silence
from deskwatch.schemas.dead_letter import DeadLetter
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.envelope import EventBatch, Tick
from deskwatch.schemas.event import SCHEMA_VERSION
from deskwatch.schemas.incident import Incident
from deskwatch.schemas.signal import Signal
from pydantic import BaseModel

#: Every payload that crosses a topic, by the name of its schema file.
PAYLOADS: dict[str, type[BaseModel]] = {
    "EventBatch": EventBatch, "Tick": Tick, "Signal": Signal, "EventDigest": EventDigest,
    "Incident": Incident, "IncidentChange": IncidentChange, "Command": Command, "Silence": Silence,
    "Asset": Asset, "DeadLetter": DeadLetter,
}

SCHEMA_DIR = Path(__file__).parent / "jsonschema"
_ID_BASE = "https://deskwatch.org/schemas"


def json_schema(name: str, model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one payload as it travels (serialisation mode)."""
    schema = model.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{_ID_BASE}/{name}.json",
        "x-deskwatch-schema-version": SCHEMA_VERSION,
        **schema,
    }


def render(name: str, model: type[BaseModel]) -> str:
    """The committed text of one schema file: sorted keys, two-space indent, final newline."""
    return json.dumps(json_schema(name, model), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def rendered() -> dict[str, str]:
    """File name -> text for every payload."""
    return {f"{name}.json": render(name, model) for name, model in PAYLOADS.items()}


def write(directory: Path = SCHEMA_DIR) -> list[Path]:
    """Write every schema file into ``directory``; return the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for filename, text in rendered().items():
        path = directory / filename
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    """``python -m deskwatch.schemas.export [DIR]``."""
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else SCHEMA_DIR
    for path in write(directory):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
