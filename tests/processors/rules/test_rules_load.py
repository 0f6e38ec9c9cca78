"""Loading rules from YAML: good rules load, bad ones fail quoting the file, rule id and field."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from deskwatch.processors.rules import RuleSet, RuleValidationError, load_rules, parse_rules
from deskwatch.processors.rules.duration import format_duration, parse_duration

GOOD = """
- id: gpo-failure-host
  version: 2
  title: GPO failure
  remediation: gpupdate /force
  severity: low
  escalation: [{severity: medium, min_events: 10}, {severity: high, after: 1h}]
  match: {field: event.code, in: [1058, 1030]}
  group_by: [host.name]
  window: 2h
  min_events: 2
  dedup_window: 30m
  resolve_on: {field: event.code, equals: 1500}
  quiet_timeout: {workstation: 4h, laptop: null, default: 1h}
  max_lifetime: 3d
  reopen_window: 1h30m
  flap_threshold: 4
- id: gpo-failure-site
  version: 1
  title: GPO failures across a site
  remediation: check the DC
  severity: high
  match: {field: event.code, in: [1058, 1030]}
  group_by: [asset.site]
  window: 30m
  min_hosts: 5
  min_population_pct: 20
  absorbs: [gpo-failure-host]
"""


def _rule(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "disk-errors",
        "version": 1,
        "title": "Disk",
        "remediation": "chkdsk",
        "severity": "high",
        "match": {"field": "event.code", "equals": 7},
        "group_by": ["host.name"],
        "window": "1h",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def _yaml(*rules: dict[str, object]) -> str:
    return yaml.safe_dump(list(rules))


def test_good_rules_load_with_every_field() -> None:
    rules = RuleSet(parse_rules(GOOD, "good.yaml"))
    host, site = rules["gpo-failure-host"], rules["gpo-failure-site"]
    assert host.version == 2 and host.window == timedelta(hours=2)
    assert host.reopen_window == timedelta(minutes=90)
    assert host.quiet_timeout_for("workstation") == timedelta(hours=4)
    assert host.quiet_timeout_for("laptop") is None  # explicit null: silence never resolves
    assert host.quiet_timeout_for("server") == timedelta(hours=1)  # falls back to default
    assert host.escalation[1].after == timedelta(hours=1)
    assert host.resolves({"event.code": "1500"}) and not host.resolves({"event.code": "1058"})
    assert site.min_hosts == 5 and site.min_population_pct == 20
    assert rules.parent_of("gpo-failure-host") == "gpo-failure-site"
    assert rules.parent_of("gpo-failure-site") is None


def test_rules_under_a_rules_key_and_from_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"rules": [_rule()]}))
    (tmp_path / "b.yaml").write_text(_yaml(_rule(id="bluescreen")))
    assert load_rules([tmp_path / "a.yaml", tmp_path / "b.yaml"]).ids == [
        "disk-errors",
        "bluescreen",
    ]


def test_duration_json_round_trip() -> None:
    rule = parse_rules(GOOD)[0]
    dumped = rule.model_dump(mode="json", by_alias=True)
    assert dumped["window"] == "2h" and dumped["reopen_window"] == "1h30m"
    assert format_duration(timedelta(days=1, seconds=5)) == "1d5s"
    assert parse_duration("1w") == timedelta(weeks=1)


BAD = [
    ("unknown-field", _rule(windw="1h"), ["'disk-errors'", "windw", "Extra inputs"]),
    (
        "missing-remediation",
        _rule(remediation=None),
        ["'disk-errors'", "remediation", "Field required"],
    ),
    ("bad-id", _rule(id="Disk_Errors"), ["'Disk_Errors'", "field 'id'"]),
    (
        "bad-duration",
        _rule(window="ten minutes"),
        ["'disk-errors'", "field 'window'", "'ten minutes'"],
    ),
    ("zero-duration", _rule(window="0m"), ["field 'window'", "longer than zero"]),
    ("bad-severity", _rule(severity="urgent"), ["field 'severity'", "'urgent'"]),
    (
        "bad-regex-deep",
        _rule(match={"any": [{"field": "message", "regex": "(x"}]}),
        ["'disk-errors'", "field 'match.any.0'", "does not compile"],
    ),
    (
        "negative-threshold",
        _rule(min_events=0),
        ["field 'min_events'", "greater than or equal to 1"],
    ),
    ("pct-over-100", _rule(min_population_pct=120), ["field 'min_population_pct'"]),
    (
        "escalation-not-higher",
        _rule(escalation=[{"severity": "medium", "min_events": 3}]),
        ["'disk-errors'", "escalation[0] severity 'medium' must be above 'high'"],
    ),
    (
        "escalation-without-threshold",
        _rule(escalation=[{"severity": "critical"}]),
        ["escalation.0", "needs min_events"],
    ),
    ("empty-group-by", _rule(group_by=[]), ["field 'group_by'"]),
    ("repeated-group-by", _rule(group_by=["host.name", "host.name"]), ["repeats a field"]),
    (
        "dedup-longer-than-window",
        _rule(dedup_window="2h"),
        ["dedup_window 2:00:00 is longer than window"],
    ),
    (
        "distinct-without-min",
        _rule(count_distinct="user.name"),
        ["count_distinct and min_distinct go together"],
    ),
    ("bad-quiet-class", _rule(quiet_timeout={"desktop": "1h"}), ["quiet_timeout.desktop"]),
    ("self-absorb", _rule(absorbs=["disk-errors"]), ["cannot absorb itself"]),
    (
        "extract-without-group",
        _rule(extract=[{"field": "x.y", "pattern": "abc"}]),
        ["needs a capturing group"],
    ),
]


@pytest.mark.parametrize(("raw", "fragments"), [(r, f) for _, r, f in BAD], ids=[b[0] for b in BAD])
def test_bad_rule_quotes_file_rule_and_field(raw: dict[str, object], fragments: list[str]) -> None:
    with pytest.raises(RuleValidationError) as caught:
        parse_rules(_yaml(raw), "site.yaml")
    text = str(caught.value)
    assert text.startswith("site.yaml: rule ")
    for fragment in fragments:
        assert fragment in text


EXTRACT_APP = {"field": "process.name", "pattern": r"Faulting application name:\s*([^,]+)"}
PACK_ERRORS = [
    ("duplicate-id", [_rule(), _rule()], "rule 'disk-errors': id: defined twice"),
    ("absorbs-unknown", [_rule(absorbs=["nope"])], "rule 'disk-errors': absorbs: no rule 'nope'"),
    (
        "absorbed-twice",
        [_rule(id="a"), _rule(id="b", absorbs=["a"]), _rule(id="c", absorbs=["a"])],
        "'a' is already absorbed by 'b'",
    ),
    ("cycle", [_rule(id="a", absorbs=["b"]), _rule(id="b", absorbs=["a"])], "absorbs: cycle"),
    (
        "child-not-per-host",
        [_rule(id="a", group_by=["asset.site"]), _rule(id="b", absorbs=["a"])],
        "absorbs: child 'a' must group by",
    ),
    (
        "child-groups-by-a-field-its-parent-does-not",
        [_rule(id="a", group_by=["host.name", "process.name"]), _rule(id="b", group_by=["asset.site"], absorbs=["a"])],
        "absorbs: child 'a' must group by host.name first, then only by fields 'b' groups by too",
    ),
    (
        "child-and-parent-extract-a-key-field-differently",
        [_rule(id="a", group_by=["host.name", "process.name"], extract=[EXTRACT_APP]),
         _rule(id="b", group_by=["process.name"], absorbs=["a"],
               extract=[{"field": "process.name", "pattern": r"P1:\s*(\S+)"}])],
        "absorbs: child 'a' and 'b' must extract 'process.name' alike",
    ),
]


def test_a_child_may_group_by_its_host_and_fields_its_parent_groups_by() -> None:
    rules = RuleSet(parse_rules(_yaml(
        _rule(id="a", group_by=["host.name", "process.name"], extract=[EXTRACT_APP]),
        _rule(id="b", group_by=["process.name"], absorbs=["a"], extract=[EXTRACT_APP])), "pack.yaml"),
        source="pack.yaml")
    assert rules.parent_of("a") == "b"


@pytest.mark.parametrize(
    ("raws", "fragment"), [(r, f) for _, r, f in PACK_ERRORS], ids=[p[0] for p in PACK_ERRORS]
)
def test_pack_level_errors(raws: list[dict[str, object]], fragment: str) -> None:
    with pytest.raises(RuleValidationError, match=fragment.replace("(", r"\(")):
        RuleSet(parse_rules(_yaml(*raws), "pack.yaml"), source="pack.yaml")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("- id: [unclosed", "not valid YAML"),
        ("id: x", "expected a list of rules"),
        ("- 42", "rule #0 is a int"),
    ],
    ids=["syntax", "not-a-list", "not-a-mapping"],
)
def test_malformed_documents(text: str, fragment: str) -> None:
    with pytest.raises(RuleValidationError, match=fragment):
        parse_rules(text, "x.yaml")
