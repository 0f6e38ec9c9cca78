"""Change definitions: the shipped set loads and names real-shaped change events; bad definitions
fail quoting the file, the definition's id and what is wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest
from deskwatch.processors.rules import RuleValidationError
from deskwatch.processors.rules.host_change import ChangeKind, codes_of, load_changes, parse_changes

WUC = "Microsoft-Windows-WindowsUpdateClient"
# Message shapes as the simulator writes them (producers/simulate/noise_catalog.py) and as Windows does.
NAMED = [
    ("update-installed", {"event.provider": WUC, "event.code": "19", "message":
        "Installation Successful: Windows successfully installed the following update: 2026-11 Cumulative "
        "Update for Windows 11 Version 24H2 for x64-based Systems (KB5046617)"}, "KB5046617"),
    ("update-installed", {"event.provider": "WindowsUpdateClient", "event.code": "19", "message":
        "Installation Successful: Windows successfully installed the following update: Feature update"},
     "Feature update"),
    ("software-installed", {"event.provider": "MsiInstaller", "event.code": "1033", "message":
        "Windows Installer installed the product. Product Name: 7-Zip 23.01 (x64). Product Version: 23.01.00.0. "
        "Product Language: 1033. Manufacturer: Igor Pavlov."}, "7-Zip 23.01 (x64). Product Version: 23.01.00.0"),
    ("software-installed", {"event.provider": "MsiInstaller", "event.code": "11707", "message":
        "Product: Contoso Agent -- Installation completed successfully."}, "Contoso Agent"),
    ("service-installed", {"event.provider": "Service Control Manager", "event.code": "7045", "message":
        "A service was installed in the system.\r\n\r\nService Name:  Foo Agent\r\nService File Name:  C:\\foo.exe"},
     "Foo Agent"),
    ("driver-installed", {"event.provider": "Microsoft-Windows-UserPnp", "event.code": "20001", "message":
        "Driver Management concluded the process to install driver prnms009.inf_amd64_3107874c7db0aa5a for "
        "Device Instance ID SWD\\PRINTENUM\\X with the following status: 0x0."}, "prnms009.inf_amd64_3107874c7db0aa5a"),
    ("policy-applied", {"event.provider": "Microsoft-Windows-GroupPolicy", "event.code": "1503", "message":
        "The Group Policy settings for the user were processed successfully. New settings from 3 Group Policy "
        "objects were detected and applied."}, "user"),
]


@pytest.mark.parametrize(("definition_id", "view", "name"), NAMED, ids=[f"{d}-{i}" for i, (d, _, _) in enumerate(NAMED)])
def test_shipped_definitions_name_changes(definition_id: str, view: dict[str, str], name: str) -> None:
    by_id = {d.id: d for d in load_changes()}
    assert by_id[definition_id].name(view) == name
    others = [d.id for d in by_id.values() if d.id != definition_id and d.name(view) is not None]
    assert others == [], "one event, one kind of change"


def test_shipped_definitions_ignore_what_is_not_a_change() -> None:
    definitions = load_changes()
    unchanged = {"event.provider": "Microsoft-Windows-GroupPolicy", "event.code": "1502", "message":
                 "The Group Policy settings for the computer were processed successfully. There were no changes "
                 "detected since the last successful processing of Group Policy."}
    started = {"event.provider": WUC, "event.code": "43", "message": "Installation Started: ... (KB5046617)"}
    assert [d.id for d in definitions if d.name(unchanged) or d.name(started)] == []
    assert {d.kind for d in definitions} == set(ChangeKind)
    assert codes_of(definitions) == sorted({"19", "1033", "11707", "7045", "20001", "20003", "1500", "1501",
                                            "1502", "1503"})
    assert all(d.lookback == timedelta(hours=24) for d in definitions)


BASE = """
- id: kb-installed
  version: 1
  title: KB installed
  kind: update
  match: {field: event.code, equals: 19}
  identity: [{field: kb, pattern: '(KB\\d+)'}]
"""


def test_a_definition_with_its_own_lookback_loads() -> None:
    [definition] = parse_changes(BASE + "  lookback: 2h\n")
    assert definition.lookback == timedelta(hours=2) and definition.codes == frozenset({"19"})


@pytest.mark.parametrize(("edit", "problem"), [
    (("match: {field: event.code, equals: 19}", "match: {field: user.name, equals: bob}"),
     "reads user.name, which an event digest does not keep"),
    (("match: {field: event.code, equals: 19}", "match: {field: message, regex: KB}"),
     "match must require event.code values"),
    (("identity: [{field: kb, pattern: '(KB\\d+)'}]", "identity: []"), "'identity'"),
    (("identity: [{field: kb, pattern: '(KB\\d+)'}]", "identity: [{field: kb, pattern: 'KB\\d+'}]"),
     "needs a capturing group"),
    (("kind: update", "kind: firmware"), "'kind'"),
], ids=["unkept-field", "no-codes", "no-identity", "no-group", "bad-kind"])
def test_bad_definitions_fail_naming_file_id_and_problem(edit: tuple[str, str], problem: str) -> None:
    with pytest.raises(RuleValidationError) as raised:
        parse_changes(BASE.replace(*edit), "mine.yaml")
    assert str(raised.value).startswith("mine.yaml: change 'kb-installed': ") and problem in str(raised.value)


def test_duplicate_ids_and_wrong_shapes_fail() -> None:
    with pytest.raises(RuleValidationError, match="change 'kb-installed': id: defined twice"):
        parse_changes(BASE + BASE)
    with pytest.raises(RuleValidationError, match="expected a list of change definitions"):
        parse_changes("changes: 3")
    with pytest.raises(RuleValidationError, match="change #0 is a str"):
        parse_changes("- just text")
