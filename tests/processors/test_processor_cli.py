"""``deskwatch processor run`` refuses unusable rule or change files at once: one line naming the file
and the problem, exit 78 (sysexits EX_CONFIG), before any engine is asked (none runs here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from deskwatch.cli import EX_CONFIG, main

BAD_CHANGE = ("- id: x\n  version: 1\n  title: t\n  kind: update\n  match: {field: message, regex: a}\n"
              "  identity: [{field: n}]\n")


@pytest.mark.parametrize(("variable", "content", "says"), [
    ("DESKWATCH_PROCESSOR__CHANGE_FILE", BAD_CHANGE, "change 'x'"),
    ("DESKWATCH_PROCESSOR__CHANGE_FILE", None, "No such file"),
    ("DESKWATCH_PROCESSOR__RULE_FILES", "- id: Not-Kebab\n", "rules.yaml"),
], ids=["bad-change-definition", "missing-change-file", "bad-rule-file"])
def test_processor_run_refuses_unusable_rule_or_change_files(
        tmp_path: Path, variable: str, content: str | None, says: str) -> None:
    path = tmp_path / ("rules.yaml" if "RULE" in variable else "changes.yaml")
    if content is not None:
        path.write_text(content)
    value = f'["{path}"]' if "RULE" in variable else str(path)
    result = CliRunner().invoke(main, ["processor", "run"], env={variable: value,
                                                                 "DESKWATCH_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:9"})
    assert result.exit_code == EX_CONFIG, result.output
    assert "the processor's rule or change files cannot be used" in result.output and says in result.output
