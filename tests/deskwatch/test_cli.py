"""The ``deskwatch`` command when an engine cannot be reached (one clear line, status 69), refuses
its credentials (status 77; the real secured engines: tests/integration/test_security.py) or its
settings cannot be read (status 78), instead of a traceback.

Real sockets: port 1 on the loopback refuses every connection, as a stopped engine's port does.
"""

from __future__ import annotations

import os
import subprocess
import time
import sys
from pathlib import Path

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elastic_transport import ConnectionError as EsConnectionError
from elasticsearch import AuthenticationException, AuthorizationException
from kafka.errors import KafkaTimeoutError
from pydantic import SecretStr

from deskwatch.cli import COMMANDS, EX_CONFIG, EX_UNAVAILABLE, main, refused_credentials, unreachable_engine
from deskwatch.logs import KAFKA_REFUSALS
from deskwatch.settings import Settings

DESKWATCH = str(Path(sys.executable).with_name("deskwatch"))


def _run(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DESKWATCH_")}
    return subprocess.run([DESKWATCH, *args], env={**clean, **env}, capture_output=True, text=True, timeout=120)


@pytest.mark.timeout(150)
@pytest.mark.parametrize(("command", "deadline_s"), [("produce", None), ("processor", 12)],
                         ids=["produce-default-30s", "processor-12s"])
def test_a_command_with_kafka_down_says_so_after_one_bootstrap_deadline_and_exits_69(
    tmp_path: Path, command: str, deadline_s: int | None
) -> None:
    # produce keeps kafka-python's own 30 s (the default of kafka.bootstrap_timeout_s); the processor,
    # which could wait a second deadline (faust's), is given 12 s: two would take 24 s and more
    events = tmp_path / "events.jsonl"
    events.write_text('{"message": "x"}\n')
    args = ["produce", str(events)] if command == "produce" else ["processor", "run"]
    deadline = {} if deadline_s is None else {"DESKWATCH_KAFKA__BOOTSTRAP_TIMEOUT_S": str(deadline_s)}
    started = time.monotonic()
    done = _run(args, DESKWATCH_KAFKA__BOOTSTRAP_SERVERS="127.0.0.1:1",
                DESKWATCH_PROCESSOR__DATADIR=str(tmp_path / "processor"), **deadline)
    took = time.monotonic() - started
    assert done.returncode == EX_UNAVAILABLE, done.stderr[-2000:]
    assert "deskwatch: cannot reach Kafka at 127.0.0.1:1: KafkaTimeoutError: Unable to bootstrap" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    wait = deadline_s or 30
    assert wait <= took < wait + 9, f"{command} said it after {took:.0f} s: not after one {wait} s deadline"


def test_search_with_elasticsearch_down_says_so_and_exits_69() -> None:
    done = _run(["search", "severity:high"], DESKWATCH_ELASTICSEARCH__URL="http://127.0.0.1:1")
    assert done.returncode == EX_UNAVAILABLE, done.stderr[-2000:]
    assert "deskwatch: cannot reach Elasticsearch at http://127.0.0.1:1: ConnectionError" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_only_a_failed_connection_is_read_as_an_unreachable_engine() -> None:
    assert unreachable_engine(KafkaTimeoutError("Unable to bootstrap from ['127.0.0.1:1']")) == "Kafka"
    assert unreachable_engine(EsConnectionError("refused")) == "Elasticsearch"
    assert unreachable_engine(KafkaTimeoutError("Batch for TopicPartition expired")) is None
    assert unreachable_engine(ValueError("bootstrap")) is None


def _es_refusal(kind: type[AuthenticationException | AuthorizationException], status: int, reason: str) -> Exception:
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                           node=NodeConfig("https", "127.0.0.1", 9200))
    return kind(f"HTTP {status}", meta=meta, body={"error": {"type": "security_exception", "reason": reason}})


def test_a_refusal_names_the_engine_and_whose_credentials_and_never_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    es = Settings().elasticsearch.model_copy(update={"username": "deskwatch", "password": SecretStr("s3cret-pw")})
    s = Settings().model_copy(update={"elasticsearch": es})
    said = refused_credentials(_es_refusal(AuthenticationException, 401, "unable to authenticate user [deskwatch]"), s)
    assert said is not None and said.startswith(
        f"Elasticsearch at {es.url} refused the credentials (user 'deskwatch'): unable to authenticate user")
    forbidden = _es_refusal(AuthorizationException, 403, "action [indices:data/write/bulk] is unauthorized")
    by_key = s.model_copy(update={"elasticsearch": es.model_copy(update={"username": None, "api_key": SecretStr("k")})})
    assert refused_credentials(forbidden, by_key) == (
        f"Elasticsearch at {es.url} does not permit this to its API key: action [indices:data/write/bulk] is unauthorized")
    bootstrap = KafkaTimeoutError("Unable to bootstrap from ['127.0.0.1:1']")
    monkeypatch.setattr(KAFKA_REFUSALS, "last_refusal", None)
    assert refused_credentials(bootstrap, s) is None  # nothing refused: the broker was not reached (status 69)
    monkeypatch.setattr(KAFKA_REFUSALS, "last_refusal", "Authentication failed due to invalid credentials")
    said = refused_credentials(bootstrap, s)
    assert said is not None and "refused the credentials" in said and "invalid credentials" in said
    assert refused_credentials(EsConnectionError("refused"), s) is None
    assert all("s3cret-pw" not in (refused_credentials(e, s) or "") for e in (forbidden, bootstrap))


def test_a_missing_settings_file_is_named_with_status_78(tmp_path: Path) -> None:
    missing = tmp_path / "settings.yaml"
    done = _run(["produce", "-"], DESKWATCH_CONFIG=str(missing))
    assert done.returncode == EX_CONFIG
    assert f"deskwatch: the settings cannot be read: No such file or directory: {missing}" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_setting_is_named_without_its_value(tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text("kafka:\n  partitions: zero\n  sasl_password: [hunter2-secret]\n")
    done = _run(["produce", "-"], DESKWATCH_CONFIG=str(config))
    assert done.returncode == EX_CONFIG
    assert "kafka.partitions: Input should be a valid integer" in done.stderr
    assert "kafka.sasl_password: Input should be a valid string" in done.stderr
    assert "hunter2-secret" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_a_settings_file_that_is_not_yaml_says_where(tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text("kafka: [1\n")
    done = _run(["produce", "-"], DESKWATCH_CONFIG=str(config))
    assert done.returncode == EX_CONFIG
    assert "not YAML:" in done.stderr and f'in "{config}", line 1, column 8' in done.stderr  # the file, by name


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_lazy_subcommand_is_the_command_of_that_name(name: str) -> None:
    """A name in COMMANDS loads the click command that calls itself so (a renamed command or a
    moved module fails here, not in a user's shell)."""
    import click

    command = main.get_command(click.Context(main), name)
    assert isinstance(command, click.Command) and command.name == name


def test_produce_starts_without_the_clients_it_does_not_use() -> None:
    """`deskwatch produce` imports neither faust nor Elasticsearch's client: subcommands load lazily."""
    probe = ("import sys, click\nfrom deskwatch.cli import main\n"
             "assert main.get_command(click.Context(main), 'produce') is not None\n"
             "print(sorted(m for m in ('faust', 'elasticsearch', 'elastic_transport') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_a_subcommands_help_is_not_read_as_an_engines_refusal() -> None:
    """click ends --help with an exception; it once went through the refused-credentials check,
    which imported Elasticsearch's client for `deskwatch produce --help` (~0.4 s of its start)."""
    probe = ("import sys\nfrom deskwatch.cli import main\n"
             "try:\n    main(['produce', '--help'])\nexcept SystemExit as done:\n    code = done.code\n"
             "print(code, sorted(m for m in ('elasticsearch', 'elastic_transport') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "0 []"


def test_help_lists_every_subcommand() -> None:
    done = _run(["--help"])
    assert done.returncode == 0, done.stderr[-2000:]
    listed = {line.split()[0] for line in done.stdout.split("Commands:")[1].splitlines() if line.strip()}
    assert listed == set(COMMANDS)
