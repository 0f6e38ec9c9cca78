"""derive_struct refuses every schema node it cannot read exactly as pydantic does, and bounds ints."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import msgspec
import pytest
from deskwatch.schemas.struct_mirror import SchemaMirrorError, derive_struct
from pydantic import (
    AliasChoices,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_serializer,
    field_validator,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValidatedName(_Strict):
    name: str

    @field_validator("name")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


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


class _Stamped(_Strict):
    at: AwareDatetime
    name: Annotated[str, StringConstraints(strip_whitespace=True)]


class _ListsInDict(_Strict):
    groups: dict[str, list[_Stamped]]


class _ListsOfLists(_Strict):
    rows: list[list[_Stamped]]


class _ListOfTimes(_Strict):
    times: list[AwareDatetime]


@pytest.mark.parametrize("model", [ValidatedName, _WithFloat, _WithUnion, _WithNaiveTime, _WithNullableDefault,
                                   _WithAliasChoices, _ExtraAllowed, _StripAll, _TimesInDict, _WithFieldSerializer,
                                   _WithPattern, _ListsInDict, _ListsOfLists, _ListOfTimes],
                         ids=lambda m: m.__name__)
def test_schemas_it_cannot_read_exactly_are_not_mirrored(model: type[BaseModel]) -> None:
    with pytest.raises(SchemaMirrorError):
        derive_struct(model.__pydantic_core_schema__)



class _Bounded(_Strict):
    open_range: int = Field(gt=-3, lt=5)
    wide: int = Field(gt=-(2**70), le=2**70)


@pytest.mark.parametrize(("value", "wide", "accepted"), [
    (-2, 0, True), (4, 0, True), (-3, 0, False), (5, 0, False),
    (0, -(2**63), True), (0, 2**63 - 1, True), (0, 2**63, False),  # int64: the rest is left to pydantic
], ids=["gt-edge", "lt-edge", "gt-excluded", "lt-excluded", "int64-min", "int64-max", "beyond-int64"])
def test_int_bounds_are_pydantics_within_int64(value: int, wide: int, accepted: bool) -> None:
    mirror = derive_struct(_Bounded.__pydantic_core_schema__)
    raw = b'{"open_range": %d, "wide": %d}' % (value, wide)
    try:
        mirror.decode(raw)
    except msgspec.ValidationError:
        assert not accepted
    else:
        assert accepted and _Bounded.model_validate_json(raw).open_range == value


class _Listed(_Strict):
    items: list[_Stamped] = Field(min_length=1, max_length=3)
    tags: list[str] | None = None


@pytest.mark.parametrize(("items", "accepted"), [
    ([("2024-03-04T08:15:02Z", "a")], True),
    ([("2024-03-04T08:15:02Z", "a"), ("2024-03-04T08:15:02+05:00", "b")], True),
    ([], False),  # min_length
    ([("2024-03-04T08:15:02Z", "a")] * 4, False),  # max_length
    ([("2024-03-04T08:15:02Z", "a"), ("2024-03-04T08:15:02Z", " b")], False),  # the second item's strip
    ([("2024-03-04T08:15:02Z", "a"), ("2024-03-04 08:15:02Z", "b")], False),  # the second item's time
], ids=["one", "two", "empty", "too-many", "strip-in-second", "time-in-second"])
def test_a_list_of_models_is_bounded_and_each_item_checked(items: list[tuple[str, str]], accepted: bool) -> None:
    mirror = derive_struct(_Listed.__pydantic_core_schema__)
    raw = json.dumps({"items": [{"at": at, "name": name} for at, name in items], "tags": ["x"]}).encode()
    try:
        value = mirror.decode(raw)
        mirror.finish(value)
    except ValueError:  # msgspec.ValidationError is one too
        assert not accepted
    else:
        assert accepted
        model = _Listed.model_validate_json(raw)
        assert [(i.at, i.name) for i in value.items] == [(i.at, i.name) for i in model.items]
        assert value.tags == model.tags
