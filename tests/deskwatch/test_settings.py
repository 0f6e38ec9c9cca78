"""The settings tree: defaults safe, environment and file layered, bad values refused, secrets hidden."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from deskwatch.settings import load_settings


def test_defaults_bind_localhost_and_keep_faust_web_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in __import__("os").environ if k.startswith("DESKWATCH_")]:
        monkeypatch.delenv(key)
    s = load_settings()
    assert s.kafka.bootstrap_servers.startswith("127.0.0.1:")
    assert s.elasticsearch.url.startswith("http://127.0.0.1:")
    assert s.processor.web_enabled is False and s.processor.web_host == "127.0.0.1"


def test_environment_overrides_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text("kafka:\n  partitions: 3\n  topic_prefix: file.\n")
    monkeypatch.setenv("DESKWATCH_CONFIG", str(cfg))
    monkeypatch.setenv("DESKWATCH_KAFKA__TOPIC_PREFIX", "env.")
    s = load_settings()
    assert (s.kafka.partitions, s.kafka.topic_prefix) == (3, "env.")


def test_consumer_groups_follow_the_topic_prefix_unless_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Two deployments on one cluster that set only their topic prefix must not share the
    processor's tables (named after its app id) or the sinks' committed offsets."""
    for key in [k for k in __import__("os").environ if k.startswith("DESKWATCH_")]:
        monkeypatch.delenv(key)
    s = load_settings()
    assert (s.processor.app_id, s.sink.group_id, s.webhook.group_id) == (
        "deskwatch-processor", "deskwatch-sink", "deskwatch-webhook")
    monkeypatch.setenv("DESKWATCH_KAFKA__TOPIC_PREFIX", "acme.")
    s = load_settings()
    assert (s.processor.app_id, s.sink.group_id, s.webhook.group_id) == ("acme-processor", "acme-sink", "acme-webhook")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("processor:\n  app_id: deskwatch-processor\n")  # named: kept, even the old default
    monkeypatch.setenv("DESKWATCH_CONFIG", str(cfg))
    monkeypatch.setenv("DESKWATCH_SINK__GROUP_ID", "mine")
    s = load_settings()
    assert (s.processor.app_id, s.sink.group_id, s.webhook.group_id) == ("deskwatch-processor", "mine", "acme-webhook")


def test_a_separate_deployment_shares_no_topic_index_group_or_state(tmp_path: Path) -> None:
    """The benchmarks, the soak and the fault campaign run beside a live deployment on the same
    engines: every name they read, write or commit under must be their own."""
    base = load_settings(processor={"tick_interval_s": 30.0}, kafka={"partitions": 3})
    s = base.separate("soak-1a2b", tmp_path)
    assert (s.kafka.topic_prefix, s.elasticsearch.index_prefix) == ("soak-1a2b.", "soak-1a2b")
    assert (s.processor.app_id, s.sink.group_id, s.webhook.group_id) == (
        "soak-1a2b-processor", "soak-1a2b-sink", "soak-1a2b-webhook")
    assert (s.processor.datadir, s.tail.state_dir) == (tmp_path / "proc", tmp_path / "tail-state")
    assert (s.sink.state_dir, s.webhook.state_dir) == (tmp_path / "sink", tmp_path / "webhook")
    assert (s.processor.tick_interval_s, s.kafka.partitions) == (30.0, 3)  # the rest is kept
    assert base.separate("b").processor.datadir == base.processor.datadir


@pytest.mark.parametrize("env", [
    {"DESKWATCH_KAFKA__PARTITIONS": "0"},
    {"DESKWATCH_KAFKA__NO_SUCH_FIELD": "1"},
    {"DESKWATCH_LOGGING__LEVEL": "LOUD"},
], ids=["partitions-zero", "unknown-field", "bad-level"])
def test_bad_values_fail_at_start_quoting_the_field(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ValidationError) as err:
        load_settings()
    field = next(iter(env)).split("__")[-1].lower()
    assert field in str(err.value)


def test_secrets_never_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKWATCH_ELASTICSEARCH__PASSWORD", "hunter2-secret")
    s = load_settings()
    assert "hunter2-secret" not in repr(s) and "hunter2-secret" not in s.model_dump_json()
    assert s.elasticsearch.password is not None and s.elasticsearch.password.get_secret_value() == "hunter2-secret"
