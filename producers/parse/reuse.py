"""Reuse validated ``host`` and ``log`` sub-models: a fleet repeats the same few thousand of them.

``WorkstationEvent`` accepts an instance of its frozen ``HostFields`` / ``LogFields`` as it is
(pydantic does not revalidate instances), so a host name seen before costs a dict lookup instead of
a model validation (~0.9 us of a ~6 us event validation). Only the common shape is reused (one
string key); anything else stays a dict and is validated, and rejected, exactly as before.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ValidationError

from deskwatch.schemas.event import HostFields, LogFields

MAX_REUSED: Final = 65_536  # distinct values kept per field before the cache starts over


class SubModelCache:
    """Validated instances of one frozen sub-model, keyed by the one string field they were made from."""

    def __init__(self, model: type[BaseModel], key: str, limit: int = MAX_REUSED) -> None:
        self._validate = model.__pydantic_validator__.validate_python
        self._key = key
        self._limit = limit
        self._seen: dict[str, BaseModel] = {}

    def get(self, raw: object) -> object:
        """The validated model for ``raw`` when it has the reusable shape, else ``raw`` itself."""
        if type(raw) is not dict or len(raw) != 1:
            return raw
        value = raw.get(self._key)
        if type(value) is not str:
            return raw
        found = self._seen.get(value)
        if found is not None:
            return found
        try:
            found = self._validate(raw)
        except ValidationError:
            return raw  # the event's own validation rejects it, naming the field as before
        if len(self._seen) >= self._limit:
            self._seen.clear()
        self._seen[value] = found
        return found


_HOSTS: Final = SubModelCache(HostFields, "name")
_LOGS: Final = SubModelCache(LogFields, "level")


def reuse_host_and_log(fields: dict[str, Any]) -> None:
    """Replace ``fields["host"]`` and ``fields["log"]`` by reused validated models where possible."""
    host = fields.get("host")
    if host is not None:
        fields["host"] = _HOSTS.get(host)
    log = fields.get("log")
    if log is not None:
        fields["log"] = _LOGS.get(log)
