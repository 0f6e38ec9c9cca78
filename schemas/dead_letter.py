"""DeadLetter: an input some stage could not accept, with why and the bytes it came as."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from deskwatch.schemas.event import SCHEMA_VERSION
from deskwatch.schemas.identity import parts_digest


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    reason: str = Field(description="machine-readable cause, e.g. invalid_json, missing_host")
    detail: str = Field(default="", description="human-readable explanation")
    stage: str = Field(description="producer, processor, sink, ...")
    source: str = Field(description="file path, listener, topic ...")
    position: str | None = Field(default=None, description="line number, offset or topic/partition/offset")
    original_b64: str = Field(description="the original bytes, base64")
    rejected_at: AwareDatetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @classmethod
    def of(
        cls, *, reason: str, detail: str, stage: str, source: str, position: str | int | None, original: bytes
    ) -> DeadLetter:
        return cls(
            reason=reason,
            detail=detail[:2000],
            stage=stage,
            source=source,
            position=None if position is None else str(position),
            original_b64=base64.b64encode(original).decode("ascii"),
        )

    @property
    def original(self) -> bytes:
        return base64.b64decode(self.original_b64)

    @property
    def letter_id(self) -> str:
        """The same for the same input refused the same way again (a file re-read after a crash, an
        envelope replayed): a hash of stage, reason, source, position and original bytes, not of
        the detail or the time, which a second refusal may word or date otherwise."""
        parts = (self.stage, self.reason, self.source, self.position or "", self.original_b64)
        return parts_digest(part.encode() for part in parts)
