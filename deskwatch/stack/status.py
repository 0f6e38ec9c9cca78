"""``stack_status``: each engine's state, pid, port and log, as recorded and as observed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deskwatch.settings import StackSettings
from deskwatch.stack.elasticsearch import elasticsearch_answers, es_url
from deskwatch.stack.kafka import kafka_answers, kafka_bootstrap
from deskwatch.stack.layout import Layout
from deskwatch.stack.state import read_state
from deskwatch.stack.supervise import alive

ENGINES = ("kafka", "elasticsearch")


@dataclass(frozen=True)
class EngineStatus:
    """One engine as ``deskwatch stack status`` shows it."""

    name: str
    running: bool
    pid: int | None
    port: int
    log: Path | None
    mode: str


def stack_status(settings: StackSettings) -> list[EngineStatus]:
    """Both engines, running or stopped (a recorded pid that died counts as stopped)."""
    state = read_state(Layout(settings.home).state_file)
    ports = {"kafka": settings.kafka_port, "elasticsearch": settings.es_http_port}
    statuses = []
    for name in ENGINES:
        record = state.engines.get(name) if state else None
        if state is not None and state.mode == "docker":
            running = _answers(name, settings)
            statuses.append(EngineStatus(name, running, None, ports[name], None, "docker"))
        elif record is None:
            statuses.append(EngineStatus(name, False, None, ports[name], None, "local"))
        else:
            running = alive(record.pid)
            statuses.append(
                EngineStatus(name, running, record.pid, record.port, record.log, "local")
            )
    return statuses


def _answers(name: str, settings: StackSettings) -> bool:
    # Docker owns those processes: whether they serve is the only thing we can observe.
    if name == "kafka":
        return kafka_answers(kafka_bootstrap(settings))
    return elasticsearch_answers(es_url(settings))
