"""Match conditions: a tree of all / any / not over leaf tests on dotted field paths.

A leaf names one field of the enriched event (``event.code``, ``asset.site``, ``labels.channel``)
and one or more operators, all of which must hold. Values compare as text unless the operator is
numeric, so ``equals: 7`` matches the event code ``"7"`` as a rule author expects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

Scalar = str | int | float | bool
View = Mapping[str, Any]
Predicate = Callable[[View], bool]

_LEAF_OPS = ("equals", "in_", "regex", "exists", "gt", "gte", "lt", "lte")


class Condition(BaseModel):
    """One node: exactly one of ``all``, ``any``, ``not`` or ``field`` (with operators)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    all_: list[Condition] | None = Field(default=None, alias="all", min_length=1)
    any_: list[Condition] | None = Field(default=None, alias="any", min_length=1)
    not_: Condition | None = Field(default=None, alias="not")
    field: str | None = Field(default=None, min_length=1, pattern=r"^[@\w.-]+$")
    equals: Scalar | None = None
    in_: list[Scalar] | None = Field(default=None, alias="in", min_length=1)
    regex: str | None = None
    exists: bool | None = None
    gt: float | None = None
    gte: float | None = None
    lt: float | None = None
    lte: float | None = None

    _regex: re.Pattern[str] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_form(self) -> Condition:
        forms = [
            n
            for n, v in (
                ("all", self.all_),
                ("any", self.any_),
                ("not", self.not_),
                ("field", self.field),
            )
            if v is not None
        ]
        ops = [op.rstrip("_") for op in _LEAF_OPS if getattr(self, op) is not None]
        if self.field is None and ops:
            raise ValueError(f"operators {ops} need a 'field'")
        if len(forms) != 1:
            raise ValueError(
                f"a condition needs exactly one of all/any/not/field, got {forms or 'none'}"
            )
        if self.field is not None and not ops:
            raise ValueError(
                f"field {self.field!r} needs an operator: equals, in, regex, exists, gt, gte, lt, lte"
            )
        if self.regex is not None:
            try:
                self._regex = re.compile(self.regex)
            except re.error as err:
                raise ValueError(f"regex {self.regex!r} does not compile: {err}") from None
        return self

    def compile(self) -> Predicate:
        """Build the predicate once; it takes the enriched event's flat ``path -> value`` view."""
        if self.all_ is not None:
            return _every(tuple(c.compile() for c in self.all_))
        if self.any_ is not None:
            return _some(tuple(c.compile() for c in self.any_))
        if self.not_ is not None:
            inner = self.not_.compile()
            return lambda view: not inner(view)
        return self._compile_leaf()

    def specialise(self, known: Mapping[str, Any]) -> Predicate | bool:
        """This condition with the leaves on ``known`` fields decided: True, False or the rest.

        ``known`` holds the event's values for some fields (absent means the field is absent).
        A rule index specialises each rule once per (code, provider) and, per event, tests only
        what is left: usually nothing.
        """
        if self.all_ is not None or self.any_ is not None:
            return _specialise_branches(self, known)
        if self.not_ is not None:
            inner = self.not_.specialise(known)
            if isinstance(inner, bool):
                return not inner
            return lambda view: not inner(view)
        assert self.field is not None
        if self.field in known:
            # A leaf reads only its own field: testing it on ``known`` decides it for the event.
            return bool(self.compile()({self.field: known[self.field]}))
        return self.compile()

    def required_values(self, path: str) -> frozenset[str] | None:
        """Values ``path`` must take for this condition to hold, or None when unconstrained.

        Lets a rule set index its rules by event code and skip most rules for most events.
        """
        if self.all_ is not None:
            known = [v for c in self.all_ if (v := c.required_values(path)) is not None]
            return frozenset.intersection(*known) if known else None
        if self.any_ is not None:
            branches = [c.required_values(path) for c in self.any_]
            if any(b is None for b in branches):
                return None
            return frozenset().union(*branches)  # type: ignore[arg-type]
        if self.field != path or self.exists is False:
            return None
        if self.equals is not None:
            return frozenset({_text(self.equals)})
        if self.in_ is not None:
            return frozenset(_text(x) for x in self.in_)
        return None

    def _compile_leaf(self) -> Predicate:
        assert self.field is not None
        path, tests = self.field, self._leaf_tests()
        if len(tests) == 1:  # the common case: skip the all() over one test
            only = tests[0]
            return lambda view: only(view.get(path))

        def leaf(view: View) -> bool:
            value = view.get(path)
            return all(test(value) for test in tests)

        return leaf

    def _leaf_tests(self) -> list[Callable[[Any], bool]]:
        tests: list[Callable[[Any], bool]] = []
        if self.exists is not None:
            want = self.exists
            tests.append(lambda v: (v is not None) == want)
        # A str is its own text: compare it directly and skip _text's type checks.
        if self.equals is not None:
            target = _text(self.equals)
            tests.append(
                lambda v: v == target if type(v) is str else v is not None and _text(v) == target
            )
        if self.in_ is not None:
            members = frozenset(_text(x) for x in self.in_)
            tests.append(
                lambda v: v in members if type(v) is str else v is not None and _text(v) in members
            )
        if self._regex is not None:
            search = self._regex.search
            tests.append(lambda v: v is not None and search(_text(v)) is not None)
        tests.extend(self._numeric_tests())
        return tests

    def _numeric_tests(self) -> list[Callable[[Any], bool]]:
        tests: list[Callable[[Any], bool]] = []
        for bound, holds in (
            (self.gt, float.__gt__),
            (self.gte, float.__ge__),
            (self.lt, float.__lt__),
            (self.lte, float.__le__),
        ):
            if bound is not None:
                tests.append(_numeric_test(holds, float(bound)))
        return tests


def _specialise_branches(node: Condition, known: Mapping[str, Any]) -> Predicate | bool:
    """all / any with decided children folded away; the undecided ones keep their order."""
    every = node.all_ is not None
    children = node.all_ if node.all_ is not None else node.any_ or []
    rest: list[Predicate] = []
    for child in children:
        part = child.specialise(known)
        if part is (not every):  # a False in an all, a True in an any: decided
            return not every
        if not isinstance(part, bool):
            rest.append(part)
    if not rest:
        return every  # every child decided the neutral way
    if len(rest) == 1:
        return rest[0]
    return _every(tuple(rest)) if every else _some(tuple(rest))


def _every(parts: tuple[Predicate, ...]) -> Predicate:
    """All parts hold, tried in order; a loop, not all() over a generator: this is per event."""

    def every(view: View) -> bool:
        for part in parts:
            if not part(view):
                return False
        return True

    return every


def _some(parts: tuple[Predicate, ...]) -> Predicate:
    """Some part holds, tried in order."""

    def some(view: View) -> bool:
        for part in parts:
            if part(view):
                return True
        return False

    return some


def _numeric_test(holds: Callable[[float, float], bool], bound: float) -> Callable[[Any], bool]:
    def test(value: Any) -> bool:
        number = _number(value)
        return number is not None and holds(number, bound)

    return test


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
