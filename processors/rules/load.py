"""Load rules from YAML: one file, several files, or the default pack shipped with deskwatch.

A file holds a list of rules, or a mapping with a ``rules`` list. Every problem raises
:class:`RuleValidationError` quoting the file, the rule id and the offending field.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from deskwatch.processors.rules.errors import RuleValidationError
from deskwatch.processors.rules.model import Rule
from deskwatch.processors.rules.ruleset import RuleSet
from pydantic import ValidationError

PACK_PACKAGE = "deskwatch.processors.rules.pack"


def parse_rules(text: str, source: str = "<text>") -> list[Rule]:
    """Validate the rules of one YAML document."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise RuleValidationError(source, None, [f"not valid YAML: {err}"]) from None
    if isinstance(data, dict) and set(data) == {"rules"}:
        data = data["rules"]
    if not isinstance(data, list):
        raise RuleValidationError(
            source, None, ["expected a list of rules (or a mapping with 'rules')"]
        )
    return [_parse_rule(raw, position, source) for position, raw in enumerate(data)]


def load_rules(paths: Iterable[Path | str]) -> RuleSet:
    """Load and check the rules of several YAML files as one set."""
    rules: list[Rule] = []
    names: list[str] = []
    for path in paths:
        path = Path(path)
        rules.extend(parse_rules(path.read_text(encoding="utf-8"), str(path)))
        names.append(str(path))
    return RuleSet(rules, source=", ".join(names) or "<no files>")


def load_configured(paths: Iterable[Path | str]) -> RuleSet:
    """The rules of ``paths`` as one set, or the default pack when there are none (what
    ``processor.rule_files`` means, for the processor and everything that reads its rules)."""
    files = list(paths)
    return load_rules(files) if files else load_default_pack()


def load_default_pack() -> RuleSet:
    """The rule pack shipped with deskwatch (``processors/rules/pack/*.yaml``)."""
    rules: list[Rule] = []
    pack = resources.files(PACK_PACKAGE)
    for entry in sorted(pack.iterdir(), key=lambda e: e.name):
        if entry.name.endswith((".yaml", ".yml")):
            rules.extend(parse_rules(entry.read_text(encoding="utf-8"), f"pack/{entry.name}"))
    return RuleSet(rules, source="default pack")


def _parse_rule(raw: Any, position: int, source: str) -> Rule:
    if not isinstance(raw, dict):
        raise RuleValidationError(
            source, None, [f"rule #{position} is a {type(raw).__name__}, not a mapping"]
        )
    rule_id = raw.get("id") if isinstance(raw.get("id"), str) else f"#{position}"
    try:
        return Rule.model_validate(raw)
    except ValidationError as err:
        raise RuleValidationError(source, rule_id, [describe_error(e) for e in err.errors()]) from None


def describe_error(error: Any, whole: str = "(rule)") -> str:
    """One pydantic error as a problem line: the field, the message, and the value it got."""
    where = ".".join(str(part) for part in error["loc"]) or whole
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] in ("missing", "extra_forbidden"):
        return f"field {where!r}: {message}"
    return f"field {where!r}: {message} (got {error.get('input')!r:.80})"
