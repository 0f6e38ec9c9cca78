"""Asset: one inventory row (the shape of a GLPI or AD export), keyed by host on a compacted topic."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from deskwatch.schemas.event import SCHEMA_VERSION

DeviceClass = Literal["workstation", "laptop", "server"]


class Asset(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    host: str = Field(min_length=1, max_length=255)
    site: str | None = None
    directorate: str | None = None
    os_build: str | None = None
    model: str | None = None
    device_class: DeviceClass = "workstation"
