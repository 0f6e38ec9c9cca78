"""Rules as data: validated models loaded from YAML, compiled once, matched against enriched events."""

from deskwatch.processors.rules.condition import Condition
from deskwatch.processors.rules.errors import RuleError, RuleValidationError
from deskwatch.processors.rules.group import group_key, group_values
from deskwatch.processors.rules.load import load_configured, load_default_pack, load_rules, parse_rules
from deskwatch.processors.rules.model import Escalation, Extraction, Rule
from deskwatch.processors.rules.ruleset import RuleSet

__all__ = [
    "Condition",
    "Escalation",
    "Extraction",
    "Rule",
    "RuleError",
    "RuleSet",
    "RuleValidationError",
    "group_key",
    "group_values",
    "load_configured",
    "load_default_pack",
    "load_rules",
    "parse_rules",
]
