"""derive_struct refuses every schema node it cannot read exactly as pydantic does, and bounds ints."""

from __future__ import annotations

from datetime import datetime

import msgspec
import pytest
from deskwatch.producers.parse.derive_struct import SchemaMirrorError, derive_struct
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_serializer

from .samples import ValidatedName


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _WithFloat(_Strict):
    ratio: float


class _WithUnion(_Strict):
    value: int | str


class _WithNaiveTime(_Strict):
    at: datetime


class _WithNullableDefault(_Strict):
    value: int | None = 3


class _WithAliasChoices(_Strict):
    value: int = Field(validation_alias=AliasChoices("v", "value"))


class _ExtraAllowed(BaseModel):
    model_config = ConfigDict(extra="allow")
    value: int


class _StripAll(_Strict):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    value: str


class _TimesInDict(_Strict):
    times: dict[str, datetime]


class _WithFieldSerializer(_Strict):
    name: str

    @field_serializer("name")
    def _shout(self, value: str) -> str:
        return value.upper()


class _WithPattern(_Strict):
    name: str = Field(pattern=r"^[a-z]+$")


@pytest.mark.parametrize("model", [ValidatedName, _WithFloat, _WithUnion, _WithNaiveTime, _WithNullableDefault,
                                   _WithAliasChoices, _ExtraAllowed, _StripAll, _TimesInDict, _WithFieldSerializer,
                                   _WithPattern],
                         ids=lambda m: m.__name__)
def test_schemas_it_cannot_read_exactly_are_not_mirrored(model: type[BaseModel]) -> None:
    with pytest.raises(SchemaMirrorError):
        derive_struct(model.__pydantic_core_schema__)  # type: ignore[arg-type]



class _Bounded(_Strict):
    open_range: int = Field(gt=-3, lt=5)
    wide: int = Field(gt=-(2**70), le=2**70)


@pytest.mark.parametrize(("value", "wide", "accepted"), [
    (-2, 0, True), (4, 0, True), (-3, 0, False), (5, 0, False),
    (0, -(2**63), True), (0, 2**63 - 1, True), (0, 2**63, False),  # int64: the rest is left to pydantic
], ids=["gt-edge", "lt-edge", "gt-excluded", "lt-excluded", "int64-min", "int64-max", "beyond-int64"])
def test_int_bounds_are_pydantics_within_int64(value: int, wide: int, accepted: bool) -> None:
    mirror = derive_struct(_Bounded.__pydantic_core_schema__)  # type: ignore[arg-type]
    raw = b'{"open_range": %d, "wide": %d}' % (value, wide)
    try:
        mirror.decode(raw)
    except msgspec.ValidationError:
        assert not accepted
    else:
        assert accepted and _Bounded.model_validate_json(raw).open_range == value
