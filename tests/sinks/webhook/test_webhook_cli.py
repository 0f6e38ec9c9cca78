"""``deskwatch webhook run`` refuses settings it cannot deliver with: one line naming the setting,
exit 78 (sysexits EX_CONFIG, as for the processor's rule files), before any engine is asked (none
runs here: the broker's address is a closed port)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from deskwatch.cli import EX_CONFIG, main


@pytest.mark.parametrize(("env", "says"), [
    ({}, "webhook.urls is empty"),
    ({"DESKWATCH_WEBHOOK__URLS": '["http://127.0.0.1:9/hook"]'}, "webhook.secret is not set"),
], ids=["no-urls", "no-secret"])
def test_webhook_run_refuses_unusable_settings_with_status_78(env: dict[str, str | None], says: str) -> None:
    result = CliRunner().invoke(main, ["webhook", "run"], env={
        "DESKWATCH_KAFKA__BOOTSTRAP_SERVERS": "127.0.0.1:9", "DESKWATCH_WEBHOOK__URLS": "[]",
        "DESKWATCH_WEBHOOK__SECRET": None, **env})  # None: unset for the command
    assert result.exit_code == EX_CONFIG, result.output
    assert "deskwatch: the webhook relay cannot start" in result.output and says in result.output
    assert "Traceback" not in result.output
