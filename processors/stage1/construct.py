"""Build pydantic models from values stage 1 has already typed, at a fraction of the usual cost.

Stage 1 makes one content window and one digest per event. Validation would check types that are
known, and pydantic's ``model_construct`` walks every field (aliases, defaults) in Python: here
that costs more than validation does. :func:`constructor` does what ``model_construct`` does, set
``__dict__`` (in field order, defaults filled) and ``__pydantic_fields_set__``, with the per-field
work done once per model class instead of once per instance.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)

_REQUIRED: Any = object()


class ConstructError(TypeError):
    """A model cannot be built this way (it needs factories or hooks), or a value is missing."""


def constructor(model: type[M]) -> Callable[..., M]:
    """A builder of ``model`` from trusted keyword values.

    Required fields and fields with a default factory must be given; the others default.
    """
    template, required = _template(model)
    new, set_attr = model.__new__, object.__setattr__
    every = template.keys()
    shared = every_field_set(model)

    def build(**values: Any) -> M:
        if not values.keys() >= required:  # a subset test in C: no set is made when all are given
            missing = sorted(required.difference(values))
            raise ConstructError(f"{model.__name__}: missing {missing}")
        instance = new(model)
        # template | values: existing keys keep their place, so __dict__ stays in field order.
        set_attr(instance, "__dict__", template | values)
        set_attr(instance, "__pydantic_fields_set__", set(values) if shared is None or values.keys() != every else shared)
        set_attr(instance, "__pydantic_extra__", None)
        set_attr(instance, "__pydantic_private__", None)
        return instance

    return build


# One set per frozen model class: every field's name.
_EVERY_FIELD: dict[type[BaseModel], set[str]] = {}


def every_field_set(model: type[BaseModel]) -> set[str] | None:
    """The ``__pydantic_fields_set__`` every fully set instance of a frozen ``model`` may share;
    None for a model that is not frozen.

    Decision: shared, because pydantic gives each instance its own set of the names given, ~730
    bytes for a content window's seven fields: 40 % of a decoded host state, in a cache of 20,000.
    Nothing changes a frozen instance's set in place (assignment is refused; ``model_copy`` copies
    the set before it updates it), and a set that names every field says what a fresh one would.
    """
    if not model.model_config.get("frozen"):
        return None  # assignment adds to an instance's own set
    every = _EVERY_FIELD.get(model)
    if every is None:
        every = _EVERY_FIELD[model] = set(model.model_fields)
    return every


def share_fields_set(instance: BaseModel) -> None:
    """Let a frozen instance that has every field set (one just decoded) use its class's shared
    set (:func:`every_field_set`); any other instance is left as it is."""
    every = every_field_set(type(instance))
    if every is not None and instance.__pydantic_fields_set__ == every:
        object.__setattr__(instance, "__pydantic_fields_set__", every)


def _template(model: type[BaseModel]) -> tuple[dict[str, Any], frozenset[str]]:
    """Every field in order with its default (or a marker when required); the required names."""
    if model.__pydantic_post_init__ or model.__private_attributes__:
        raise ConstructError(f"{model.__name__} has post-init hooks or private attributes")
    if model.model_config.get("extra") == "allow":
        raise ConstructError(f"{model.__name__} allows extra fields")
    template: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        # A field with a default factory needs a fresh value per instance: the caller passes it.
        given = field.is_required() or field.default_factory is not None
        template[name] = _REQUIRED if given else field.default
    required = frozenset(name for name, value in template.items() if value is _REQUIRED)
    return template, required
