"""Build and copy pydantic models from values the processor has already typed, at a fraction of
the usual cost.

Stage 1 makes one content window and one digest per event; stage 2 one window entry per signal
and a copy of its incident per count. Validation would check types that are known, and pydantic's
``model_construct`` walks every field (aliases, defaults) in Python: here that costs more than
validation does. :func:`constructor` does what ``model_construct`` does, set ``__dict__`` (in
field order, defaults filled) and ``__pydantic_fields_set__`` (a frozen model's one shared set
when every field is given: processors/fields_set.py), with the per-field work done once per model
class instead of once per instance. :func:`replacer` does what ``model_copy(update=...)`` does
without its generic steps (``copy.copy`` of three attributes, a check of ``extra`` per call).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel

from deskwatch.processors.fields_set import every_field_set

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
    size = len(template)
    shared = every_field_set(model)

    def build(**values: Any) -> M:
        if not values.keys() >= required:  # a subset test in C: no set is made when all are given
            missing = sorted(required.difference(values))
            raise ConstructError(f"{model.__name__}: missing {missing}")
        instance = new(model)
        # template | values: existing keys keep their place, so __dict__ stays in field order.
        fields = template | values
        set_attr(instance, "__dict__", fields)
        # Every field given and no other: as many values as fields, none added to the template
        # (two lengths compared, where comparing the keys cost ~3 % of stage 1's samples).
        whole = shared is not None and len(values) == len(fields) == size
        set_attr(instance, "__pydantic_fields_set__", shared if whole else set(values))
        set_attr(instance, "__pydantic_extra__", None)
        set_attr(instance, "__pydantic_private__", None)
        return instance

    return build


def replacer(model: type[M]) -> Callable[..., M]:
    """A copier of ``model`` instances with some fields replaced by trusted values: what
    ``instance.model_copy(update=values)`` gives, field names unchecked as there.

    The copy's fields set is the instance's plus the names replaced; a frozen model's shared set
    stays shared when it already named every field (nothing is added to it then).
    """
    _template(model)  # the same refusals as constructor's: hooks, private attributes, extras
    new, set_attr = model.__new__, object.__setattr__
    shared = every_field_set(model)

    def replace(instance: M, /, **values: Any) -> M:
        copied = new(model)
        set_attr(copied, "__dict__", instance.__dict__ | values)
        was = instance.__pydantic_fields_set__
        kept = was is shared and values.keys() <= was
        set_attr(copied, "__pydantic_fields_set__", was if kept else was | values.keys())
        set_attr(copied, "__pydantic_extra__", None)
        set_attr(copied, "__pydantic_private__", None)
        return copied

    return replace


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
