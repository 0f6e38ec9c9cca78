"""The local Elasticsearch: configure, command line as the engine user, and its health probe."""

from __future__ import annotations

import pwd
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from deskwatch.settings import StackSettings
from deskwatch.stack.account import check_reachable, give_to
from deskwatch.stack.engine import EngineSpec, base_env, java_home, port_open
from deskwatch.stack.layout import Layout
from deskwatch.stack.render import LOOPBACK, render_elasticsearch_yml

MARKER = "org.elasticsearch"


def es_url(settings: StackSettings) -> str:
    """The HTTP(S) address clients use."""
    scheme = "https" if settings.security == "on" else "http"
    return f"{scheme}://{LOOPBACK}:{settings.es_http_port}"


def elasticsearch_answers(url: str, options: dict[str, Any] | None = None) -> bool:
    """True when cluster health reaches yellow (``GET /`` is missing from the integ-test build).

    ``options`` are extra client options (``basic_auth``, ``ca_certs``) for a secured node.
    """
    host, _, port = url.rpartition("//")[2].partition(":")
    if not port_open(host, int(port)):
        return False  # skips the client's retry tracebacks while the node is still booting
    client = Elasticsearch(url, request_timeout=10, max_retries=0, **(options or {}))
    try:
        health = client.cluster.health(wait_for_status="yellow", timeout="5s")
        return health["status"] in ("yellow", "green")
    except (ApiError, TransportError):
        return False
    finally:
        client.close()


def prepare_elasticsearch(
    settings: StackSettings, layout: Layout, user: pwd.struct_passwd | None
) -> None:
    """Write elasticsearch.yml and hand the install, data and logs to the engine user."""
    layout.es_data.mkdir(parents=True, exist_ok=True)
    layout.es_logs.mkdir(parents=True, exist_ok=True)
    from deskwatch.stack.secure import (
        elasticsearch_security_lines,
        prepare_security,
        secure_elasticsearch_config,
    )

    config = layout.es_dist / "config" / "elasticsearch.yml"
    secured = settings.security == "on"
    security = elasticsearch_security_lines() if secured else None
    config.write_text(render_elasticsearch_yml(settings, layout.es_data, layout.es_logs, security))
    if secured:
        secure_elasticsearch_config(settings, layout, prepare_security(settings, layout))
    if user is not None:
        for path in (layout.es_dist, layout.es_data, layout.es_logs):
            check_reachable(path, user)
        give_to(user, layout.es_dist, layout.es_run)


def elasticsearch_spec(
    settings: StackSettings, layout: Layout, user: pwd.struct_passwd | None
) -> EngineSpec:
    """How to run Elasticsearch; under root it runs as ``user`` because it refuses root."""
    env = base_env() | {
        "ES_JAVA_HOME": str(java_home()),
        # Without an explicit heap it takes half the machine's memory.
        "ES_JAVA_OPTS": f"-Xms{settings.es_heap} -Xmx{settings.es_heap}",
    }
    if user is not None:
        env |= {"HOME": str(layout.es_run), "USER": user.pw_name}
    url = es_url(settings)

    def answers() -> bool:
        from deskwatch.stack.secure import es_probe_options

        secured = settings.security == "on"
        return elasticsearch_answers(url, es_probe_options(settings, layout) if secured else None)

    return EngineSpec(
        name="elasticsearch",
        port=settings.es_http_port,
        argv=[str(layout.es_dist / "bin" / "elasticsearch")],
        cwd=layout.es_run,
        log=layout.es_log,
        marker=MARKER,
        answers=answers,
        env=env,
        user=user,
    )
