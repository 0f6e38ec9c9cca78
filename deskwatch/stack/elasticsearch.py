"""The local Elasticsearch: configure, command line as the engine user, and its health probe."""

from __future__ import annotations

import pwd

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch

from deskwatch.settings import StackSettings
from deskwatch.stack.account import check_reachable, give_to
from deskwatch.stack.engine import EngineSpec, base_env, java_home, port_open
from deskwatch.stack.layout import Layout
from deskwatch.stack.render import LOOPBACK, render_elasticsearch_yml

MARKER = "org.elasticsearch"


def es_url(settings: StackSettings) -> str:
    """The HTTP address clients use."""
    return f"http://{LOOPBACK}:{settings.es_http_port}"


def elasticsearch_answers(url: str) -> bool:
    """True when cluster health reaches yellow (``GET /`` is missing from the integ-test build)."""
    host, _, port = url.rpartition("//")[2].partition(":")
    if not port_open(host, int(port)):
        return False  # skips the client's retry tracebacks while the node is still booting
    client = Elasticsearch(url, request_timeout=10, max_retries=0)
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
    config = layout.es_dist / "config" / "elasticsearch.yml"
    config.write_text(render_elasticsearch_yml(settings, layout.es_data, layout.es_logs))
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
    return EngineSpec(
        name="elasticsearch",
        port=settings.es_http_port,
        argv=[str(layout.es_dist / "bin" / "elasticsearch")],
        cwd=layout.es_run,
        log=layout.es_log,
        marker=MARKER,
        answers=lambda: elasticsearch_answers(url),
        env=env,
        user=user,
    )
