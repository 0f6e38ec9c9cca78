"""Errors of the rules package, sorted by remedy: all are bad configuration, fixed in the YAML."""

from __future__ import annotations


class RuleError(Exception):
    """Root of every rules error: the rule pack cannot be used as written."""


class RuleValidationError(RuleError):
    """A rule (or the pack as a whole) breaks the rule model; the message quotes rule id and field."""

    def __init__(self, source: str, rule_id: str | None, problems: list[str], what: str = "rule") -> None:
        self.source = source
        self.rule_id = rule_id
        self.problems = problems
        who = f"{what} {rule_id!r}" if rule_id else f"{what} pack"
        super().__init__(f"{source}: {who}: " + "; ".join(problems))
