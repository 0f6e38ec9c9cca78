"""A msgspec mirror of a pydantic model, derived from the model's own core schema.

msgspec decodes, checks and encodes a deskwatch JSON line in ~5 us where pydantic's typed-dict
pass takes ~13 us, but only for the lines whose every value it reads exactly as pydantic does. So the mirror
is narrower than the model, never wider, and never a second hand-written copy of the schema:

- each model becomes a ``Struct`` with the same fields, order, aliases, constraints and
  ``extra="forbid"``; a field whose default is ``None`` keeps it (``omit_defaults`` then drops
  ``None`` as ``exclude_none`` does); a field with any other default becomes required, so a line
  without it falls back (its default would have to be written out);
- strings that pydantic strips must have nothing to strip (no whitespace at either end);
- an aware datetime is read as a string in a strict RFC 3339 form with at most 6 fractional
  digits (msgspec rounds a 7th digit, pydantic truncates it) and parsed after decoding;
- both are checked in Python after decoding (``StructMirror.finish``): a msgspec ``pattern``
  cost ~1 us per field, the checks there ~0.1 us (strip) and ~0.7 us (time);
- integers are bounded to int64 (``JSON_INTS``);
- a list keeps its length bounds; a list of models has each item's checks run by ``finish``
  (``list_paths``); a list of other checked values (times, strings to strip) is not mirrored;
- any node outside that list (validators, unions, floats, naive datetimes …) raises
  ``SchemaMirrorError``: the caller then keeps the pydantic path for every line.

What msgspec refuses (lax coercions such as ``"5"`` for an int, unknown fields, ``@timestamp``
spelled by its field name) is left to the caller's pydantic path.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import Annotated, Any, Final, Literal

import msgspec

# RFC 3339 with a 'T', seconds, at most 6 fractional digits and an offset: the strings whose
# datetime.fromisoformat reading is pydantic's (tests/producers/parse/test_derive_struct.py). A
# string is in that form when its UTF-8 bytes, each digit turned into 0, are one of these shapes:
# 0.14 us a line where the equivalent regular expression's fullmatch took 0.39.
AWARE_TIME_SHAPES: Final = frozenset(
    b"0000-00-00T00:00:00" + fraction + zone
    for fraction in (b"", *(b"." + b"0" * digits for digits in range(1, 7)))
    for zone in (b"Z", b"+00:00", b"-00:00"))
_DIGITS_TO_ZERO: Final = bytes.maketrans(b"0123456789", b"0" * 10)
_FROM_ISO: Final = datetime.fromisoformat
# msgspec reads integers of any size; the reference path's JSON reader (orjson, in parse_jsonl)
# reads those beyond [-2**63, 2**64) as floats, which an int field refuses. msgspec bounds must fit
# an int64, so the mirror takes the int64 range and leaves [2**63, 2**64) to the fallback.
JSON_INTS: Final = (-(2**63), 2**63 - 1)
COMMON_KEYS: Final = frozenset({"type", "ref", "metadata", "strict"})
# The keys each mirrored node may have: any other (a custom serializer, a pattern, a validator's
# settings) could make pydantic's verdict or bytes differ, so the schema is not mirrored.
# processors/encode.py derives its whitelist from this one.
NODE_KEYS: Final = {
    "model": COMMON_KEYS | {"cls", "config", "custom_init", "root_model", "post_init", "schema", "generic_origin"},
    "model-fields": COMMON_KEYS | {"fields", "computed_fields", "model_name"},
    "model-field": frozenset({"type", "schema", "validation_alias", "serialization_alias", "frozen", "metadata"}),
    "default": COMMON_KEYS | {"schema", "default", "default_factory", "default_factory_takes_data", "validate_default"},
    "nullable": COMMON_KEYS | {"schema"},
    "str": COMMON_KEYS | {"min_length", "max_length", "strip_whitespace"},
    "int": COMMON_KEYS | {"ge", "le", "gt", "lt"},
    "datetime": COMMON_KEYS | {"tz_constraint", "microseconds_precision"},
    "literal": COMMON_KEYS | {"expected"},
    "dict": COMMON_KEYS | {"keys_schema", "values_schema"},
    "list": COMMON_KEYS | {"items_schema", "min_length", "max_length"},
}
CONFIG_KEYS: Final = frozenset({"title", "extra_fields_behavior", "validate_by_alias", "validate_by_name"})
_MISSING: Final = object()

FieldPath = tuple[str, ...]


class SchemaMirrorError(ValueError):
    """The schema has a node the msgspec mirror cannot read exactly as pydantic does."""


@dataclass(frozen=True)
class StructMirror:
    """The derived ``Struct`` type with its decoder and encoder, and where its checked strings sit."""

    struct: type[msgspec.Struct]
    decode: Callable[[bytes], Any]
    encode: Callable[[Any], bytes]
    time_paths: tuple[FieldPath, ...]  # aware datetimes, decoded as strings
    strip_paths: tuple[FieldPath, ...]  # strings pydantic strips
    # lists of models, each with its items' own mirror (paths relative to an item)
    list_paths: tuple[tuple[FieldPath, StructMirror], ...] = ()

    def __post_init__(self) -> None:
        # C getters per path, built once: walking the paths in Python cost ~1.5 us per line
        object.__setattr__(self, "_strips", tuple(attrgetter(".".join(p)) for p in self.strip_paths))
        object.__setattr__(self, "_times", tuple((attrgetter(".".join(p[:-1])) if len(p) > 1 else _itself, p[-1])
                                                 for p in self.time_paths))
        object.__setattr__(self, "_lists", tuple((attrgetter(".".join(p)), item.finish)
                                                 for p, item in self.list_paths))

    def finish(self, value: Any) -> None:
        """Check the stripped strings and parse the datetimes of a decoded value, in place.

        Raises ``ValueError`` where pydantic could read a value otherwise: whitespace to strip, a
        time outside ``AWARE_TIME_SHAPES``, a well-formed but impossible one (month 13, offset
        24:00), or a path through a null model.
        """
        try:
            for get in self._strips:  # type: ignore[attr-defined]
                text = get(value)
                if text is not None and text.strip() != text:  # Python strips all that pydantic does
                    raise ValueError("whitespace to strip")
            for get_owner, name in self._times:  # type: ignore[attr-defined]
                owner = get_owner(value)
                text = getattr(owner, name)
                if text is not None:
                    if text.encode().translate(_DIGITS_TO_ZERO) not in AWARE_TIME_SHAPES:
                        raise ValueError("not in the strict RFC 3339 form")
                    setattr(owner, name, _FROM_ISO(text))
            for get, finish_item in self._lists:  # type: ignore[attr-defined]
                items = get(value)
                if items is not None:
                    for item in items:
                        finish_item(item)
        except AttributeError as exc:
            raise ValueError(str(exc)) from exc


def _itself(value: Any) -> Any:
    return value


def derive_struct(schema: Mapping[str, Any]) -> StructMirror:
    """The mirror of a model's core schema (``Model.__pydantic_core_schema__``)."""
    paths = _Paths([], [], [])
    return _mirror(_model(schema, (), paths), paths)


def _mirror(struct: type[msgspec.Struct], paths: _Paths) -> StructMirror:
    decoder = msgspec.json.Decoder(struct)
    return StructMirror(struct, decoder.decode, msgspec.json.Encoder().encode, tuple(paths.times),
                        tuple(paths.strips), tuple(paths.lists))


@dataclass(frozen=True)
class _Paths:
    times: list[FieldPath]
    strips: list[FieldPath]
    lists: list[tuple[FieldPath, StructMirror]]


def _model(schema: Mapping[str, Any], path: FieldPath, paths: _Paths) -> type[msgspec.Struct]:
    inner, config = schema.get("schema", {}), schema.get("config", {})
    if (not _plain(schema, "model") or not _plain(inner, "model-fields") or inner.get("computed_fields")
            or schema.get("custom_init") or schema.get("root_model") or schema.get("post_init")
            or config.get("extra_fields_behavior") not in ("forbid", "ignore")
            or set(config) - CONFIG_KEYS or config.get("validate_by_alias") is False):
        raise SchemaMirrorError(f"no msgspec mirror for model {config.get('title')!r}")
    fields = [_field(name, field, (*path, name), paths) for name, field in inner["fields"].items()]
    return msgspec.defstruct(config.get("title", "Mirror"), fields, kw_only=True, omit_defaults=True,
                             forbid_unknown_fields=config.get("extra_fields_behavior") == "forbid")


def _field(name: str, field: dict[str, Any], path: FieldPath, paths: _Paths) -> tuple[Any, ...]:
    alias = field.get("validation_alias", name)
    if not _plain(field, "model-field") or not isinstance(alias, str) or field.get("serialization_alias", name) != alias:
        raise SchemaMirrorError(f"no msgspec mirror for field {name!r}")
    node, default = field["schema"], _MISSING
    if _plain(node, "default"):
        if "default_factory" not in node and node.get("default") is None:
            default = None  # else required: a missing value falls back to pydantic, which fills it
        node = node["schema"]
    if node["type"] == "nullable" and default is not None:
        raise SchemaMirrorError(f"nullable field {name!r} without a None default")  # exclude_none vs null
    annotation = _type(node, path, paths)
    spec = msgspec.field(name=alias) if default is _MISSING else msgspec.field(default=default, name=alias)
    return (name, annotation, spec)


def _plain(node: Mapping[str, Any], kind: str) -> bool:
    """``node`` is of ``kind`` and has no key outside that kind's mirrored ones."""
    return node.get("type") == kind and not set(node) - NODE_KEYS[kind]


def _type(node: dict[str, Any], path: FieldPath, paths: _Paths) -> Any:
    kind = node.get("type")
    if kind not in NODE_KEYS or not _plain(node, kind):
        raise SchemaMirrorError(f"no msgspec mirror for core schema node {kind!r} at {'.'.join(path)}")
    if kind == "nullable":
        return _type(node["schema"], path, paths) | None
    if kind == "model":
        return _model(node, path, paths)
    if kind == "str":
        if node.get("strip_whitespace"):
            paths.strips.append(path)
        return Annotated[str, msgspec.Meta(min_length=node.get("min_length"), max_length=node.get("max_length"))]
    if kind == "int":
        return Annotated[int, msgspec.Meta(**_int_bounds(node, path))]
    if kind == "datetime" and node.get("tz_constraint") == "aware":
        paths.times.append(path)
        return str
    if kind == "literal" and node["expected"] and all(type(v) is str for v in node["expected"]):
        return Literal[tuple(node["expected"])]
    if kind == "dict":
        keys, values = node.get("keys_schema", {"type": "any"}), node.get("values_schema", {"type": "any"})
        inside = _Paths([], [], [])  # a dict's values have no attribute path for ``finish``
        mirrored = dict[_type(keys, path, inside), _type(values, path, inside)]  # type: ignore[misc,valid-type]
        if keys.get("type") != "str" or values.get("type") == "model" or inside.times or inside.strips or inside.lists:
            raise SchemaMirrorError(f"no msgspec mirror for dict of {values.get('type')!r} at {'.'.join(path)}")
        return mirrored
    if kind == "list":
        return Annotated[list[_items(node["items_schema"], path, paths)],  # type: ignore[misc]
                         msgspec.Meta(min_length=node.get("min_length"), max_length=node.get("max_length"))]
    raise SchemaMirrorError(f"no msgspec mirror for core schema node {kind!r} at {'.'.join(path)}")


def _items(node: dict[str, Any], path: FieldPath, paths: _Paths) -> Any:
    """A list's item type: a model (its checks run per item, ``StructMirror.list_paths``) or a
    value with nothing to check after decoding."""
    inside = _Paths([], [], [])
    if node.get("type") == "model":
        item = _model(node, (), inside)
        paths.lists.append((path, _mirror(item, inside)))
        return item
    mirrored = _type(node, path, inside)
    if inside.times or inside.strips or inside.lists:
        raise SchemaMirrorError(f"no msgspec mirror for a list of checked values at {'.'.join(path)}")
    return mirrored


def _int_bounds(node: dict[str, Any], path: FieldPath) -> dict[str, Any]:
    """An int node's bounds as ``ge``/``le`` (for integers ``gt x`` is ``ge x + 1``), within ``JSON_INTS``."""
    bounds = [node[key] for key in ("ge", "gt", "le", "lt") if key in node]
    if any(type(bound) is not int for bound in bounds):
        raise SchemaMirrorError(f"no msgspec mirror for non-integer bounds at {'.'.join(path)}")
    low = max(node.get("ge", JSON_INTS[0]), node.get("gt", JSON_INTS[0] - 1) + 1, JSON_INTS[0])
    high = min(node.get("le", JSON_INTS[1]), node.get("lt", JSON_INTS[1] + 1) - 1, JSON_INTS[1])
    return {"ge": low, "le": high}
