"""One ``__pydantic_fields_set__`` per frozen model class, shared by its fully set instances.

pydantic gives every instance its own set of the field names it was given: ~730 bytes for a
content window's seven fields, ~2 KB for an incident's. In the processor's decoded-state caches
(20,000 states per table) those sets were 40 % of a host state's objects.

Decision: shared, for frozen models only. Nothing changes a frozen instance's set in place
(assignment is refused; ``model_copy`` copies the set before it updates it), and a set that
names every field says what a fresh one would. A mutable model (stage 2's ``GroupState``) keeps
its own: assignment adds to it.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel

_EVERY_FIELD: dict[type[BaseModel], set[str]] = {}
_NESTED: dict[type[BaseModel], tuple[str, ...]] = {}


def every_field_set(model: type[BaseModel]) -> set[str] | None:
    """The set every fully set instance of a frozen ``model`` may share; None for a mutable one."""
    if not model.model_config.get("frozen"):
        return None
    every = _EVERY_FIELD.get(model)
    if every is None:
        every = _EVERY_FIELD[model] = set(model.model_fields)
    return every


def share_fields_set(instance: BaseModel) -> None:
    """Point a frozen, fully set instance (one just decoded) at its class's shared set; any
    other instance is left as it is."""
    every = every_field_set(type(instance))
    if every is not None and instance.__pydantic_fields_set__ == every:
        object.__setattr__(instance, "__pydantic_fields_set__", every)


def share_nested(value: Any) -> None:
    """:func:`share_fields_set` on a decoded model and every model nested in it (in its fields,
    and in the lists, tuples and dict values of its fields). Only the fields whose type can hold
    a model are visited: an incident's thirty plain fields cost nothing."""
    if isinstance(value, BaseModel):
        share_fields_set(value)
        fields = value.__dict__
        for name in _nested_fields(type(value)):
            share_nested(fields[name])
    elif isinstance(value, (list, tuple)):
        for item in value:
            share_nested(item)
    elif isinstance(value, dict):
        for item in value.values():
            share_nested(item)


def _nested_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of ``model`` whose annotation names a model class (once per class)."""
    names = _NESTED.get(model)
    if names is None:
        names = _NESTED[model] = tuple(name for name, f in model.model_fields.items() if _holds_model(f.annotation))
    return names


def _holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(arg) for arg in get_args(annotation))
