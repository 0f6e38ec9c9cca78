"""``ensure_up``: make both engines serve, reusing live ones, starting or fetching the rest."""

from __future__ import annotations

import pwd
import time
from dataclasses import dataclass
from typing import Literal

from deskwatch.settings import StackSettings
from deskwatch.stack.account import engine_account
from deskwatch.stack.docker import compose_up, docker_answers
from deskwatch.stack.elasticsearch import (
    elasticsearch_spec,
    es_url,
    prepare_elasticsearch,
)
from deskwatch.stack.engine import EngineSpec, port_open
from deskwatch.stack.errors import PortBusyError, StackError
from deskwatch.stack.fetch import fetch_elasticsearch, fetch_kafka
from deskwatch.stack.kafka import kafka_bootstrap, kafka_spec, prepare_kafka
from deskwatch.stack.layout import Layout
from deskwatch.stack.lock import stack_lock
from deskwatch.stack.progress import Report, silent
from deskwatch.stack.render import LOOPBACK
from deskwatch.stack.secure import prepare_security
from deskwatch.stack.state import EngineRecord, StackState, read_state, write_state
from deskwatch.stack.supervise import alive, cmdline, spawn, stop_group
from deskwatch.stack.wait import wait_serving


@dataclass(frozen=True)
class Endpoints:
    """Where clients reach the engines."""

    kafka_bootstrap: str
    es_url: str


def endpoints(settings: StackSettings) -> Endpoints:
    """The addresses both the local and the Docker engines publish (both bind loopback)."""
    return Endpoints(kafka_bootstrap=kafka_bootstrap(settings), es_url=es_url(settings))


def choose_mode(settings: StackSettings, docker_ok: bool) -> Literal["local", "docker"]:
    """``docker`` when asked for, or in ``auto`` when a Docker engine answers; else ``local``."""
    if settings.mode == "docker" and not docker_ok:
        raise StackError("stack.mode is 'docker' but no Docker engine answers (`docker info`)")
    mode: Literal["local", "docker"] = (
        "docker" if settings.mode != "local" and docker_ok else "local"
    )
    if mode == "docker" and settings.security == "on":
        raise StackError(
            "stack.security=on runs the local engines only (set stack.mode=local); with Docker, "
            "run `docker compose up` with the passwords in .env (README, Security)"
        )
    return mode


def ensure_up(settings: StackSettings, report: Report = silent) -> Endpoints:
    """Make Kafka and Elasticsearch serve on loopback and return their addresses (idempotent)."""
    docker_ok = settings.mode != "local" and docker_answers()
    mode = choose_mode(settings, docker_ok)
    layout = _prepared_home(settings)
    with stack_lock(layout.home, report):
        if mode == "local":
            return _local_up(settings, layout, report)
        compose_up(settings, report)
        write_state(layout.state_file, StackState(mode="docker"))
        _wait_all(_specs(settings, layout, None), settings, report)
        return endpoints(settings)


def _prepared_home(settings: StackSettings) -> Layout:
    layout = Layout(settings.home, settings.maven_repo)
    try:
        layout.home.mkdir(parents=True, exist_ok=True)
    except PermissionError as err:
        raise StackError(
            f"cannot create stack home {layout.home}: {err}; set DESKWATCH_STACK__HOME"
        ) from err
    layout.home.chmod(0o755)  # the engine user must traverse it
    return layout


def _specs(
    settings: StackSettings, layout: Layout, user: pwd.struct_passwd | None
) -> list[EngineSpec]:
    return [kafka_spec(settings, layout), elasticsearch_spec(settings, layout, user)]


def _wait_all(specs: list[EngineSpec], settings: StackSettings, report: Report) -> None:
    deadline = time.monotonic() + settings.start_timeout_s
    for spec in specs:
        if not spec.answers():
            _wait_probe_only(spec, deadline, report)


def _wait_probe_only(spec: EngineSpec, deadline: float, report: Report) -> None:
    while not spec.answers():
        if time.monotonic() > deadline:
            raise StackError(f"{spec.name} (docker) did not answer on port {spec.port} in time")
        time.sleep(1)
    report(f"{spec.name}: serving on port {spec.port}")


def _reusable(record: EngineRecord | None, spec: EngineSpec) -> bool:
    return record is not None and alive(record.pid) and spec.marker in cmdline(record.pid)


def _check_security(settings: StackSettings, state: StackState | None) -> None:
    """Refuse to hand out plain engines as secured ones (or the reverse) from one home."""
    if state is None or state.security == settings.security:
        return
    if any(alive(r.pid) for r in state.engines.values()):
        raise StackError(
            f"the engines of {settings.home} run with stack.security={state.security}, not "
            f"{settings.security}: stop them (`deskwatch stack down`) or choose another stack.home"
        )


def _local_up(settings: StackSettings, layout: Layout, report: Report) -> Endpoints:
    user = engine_account(settings.engine_user)
    state = read_state(layout.state_file)
    _check_security(settings, state)
    if settings.security == "on":
        prepare_security(settings, layout)
        report(f"security on: passwords in {layout.credentials_file} (0600), CA {layout.ca_pem}")
    records = dict(state.engines) if state and state.mode == "local" else {}
    specs = _specs(settings, layout, user)
    started: dict[str, int] = {}
    for spec in specs:
        record = records.get(spec.name)
        if _reusable(record, spec):
            assert record is not None
            report(f"{spec.name}: reusing running pid {record.pid}")
            started[spec.name] = record.pid
            continue
        records[spec.name] = _start(spec, settings, layout, user, report)
        started[spec.name] = records[spec.name].pid
        write_state(
            layout.state_file,
            StackState(mode="local", engines=records, security=settings.security),
        )
    for spec in specs:
        _wait_or_stop(spec, started[spec.name], settings, report)
    return endpoints(settings)


def _start(
    spec: EngineSpec,
    settings: StackSettings,
    layout: Layout,
    user: pwd.struct_passwd | None,
    report: Report,
) -> EngineRecord:
    if port_open(LOOPBACK, spec.port):
        raise PortBusyError(
            f"{spec.name}: port {spec.port} is taken by a process this stack did not start; "
            f"stop it or choose another port in settings (stack.*_port)"
        )
    if spec.name == "kafka":
        fetch_kafka(layout, report)
        prepare_kafka(settings, layout)
    else:
        fetch_elasticsearch(layout, report)
        prepare_elasticsearch(settings, layout, user)
    proc = spawn(spec.argv, cwd=spec.cwd, env=spec.env, log=spec.log, user=spec.user)
    report(f"{spec.name}: started pid {proc.pid}, log {spec.log}")
    return EngineRecord(
        name=spec.name, pid=proc.pid, port=spec.port, log=spec.log, command=spec.argv
    )


def _wait_or_stop(spec: EngineSpec, pid: int, settings: StackSettings, report: Report) -> None:
    try:
        wait_serving(spec, pid, settings.start_timeout_s, report)
    except StackError:
        # A half-started engine would hold its port and block the next attempt.
        stop_group(spec.name, pid, settings.stop_timeout_s, report)
        raise
