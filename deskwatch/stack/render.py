"""Configuration files of the local engines, rendered from settings (pure: text in, text out)."""

from __future__ import annotations

from pathlib import Path

from deskwatch.settings import StackSettings
from deskwatch.versions import KAFKA_SCALA_VERSION, KAFKA_VERSION, LOG4J_VERSION

LOOPBACK = "127.0.0.1"


def render_kafka_pom() -> str:
    """A pom whose runtime dependencies are exactly the jars a KRaft broker needs."""
    deps = [
        ("org.apache.kafka", f"kafka_{KAFKA_SCALA_VERSION}", KAFKA_VERSION),
        ("org.apache.kafka", "kafka-tools", KAFKA_VERSION),
        # Kafka logs through SLF4J 1.x: the binding is log4j-slf4j-impl, not -slf4j2-impl.
        ("org.apache.logging.log4j", "log4j-slf4j-impl", LOG4J_VERSION),
        ("org.apache.logging.log4j", "log4j-core", LOG4J_VERSION),
    ]
    body = "\n".join(
        f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId>"
        f"<version>{v}</version></dependency>"
        for g, a, v in deps
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.deskwatch.stack</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>{KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
{body}
  </dependencies>
</project>
"""


def render_kafka_log4j2() -> str:
    """Console logging at WARN, plus the one INFO line that says the server started."""
    return """status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = WARN
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = INFO
"""


def render_server_properties(
    settings: StackSettings, data_dir: Path, security: dict[str, str] | None = None
) -> str:
    """One KRaft node as broker and controller on loopback; topics are created explicitly only.

    ``security`` entries (listeners, SASL, TLS) replace or extend the plaintext defaults.
    """
    controller = f"{LOOPBACK}:{settings.kafka_controller_port}"
    broker = f"{LOOPBACK}:{settings.kafka_port}"
    props = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{controller}",
        "listeners": f"PLAINTEXT://{broker},CONTROLLER://{controller}",
        "advertised.listeners": f"PLAINTEXT://{broker}",
        "controller.listener.names": "CONTROLLER",
        "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "log.dirs": str(data_dir),
        "offsets.topic.replication.factor": "1",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        "group.initial.rebalance.delay.ms": "0",
        # design.md: topics come from the one topology declaration, never from a typo.
        "auto.create.topics.enable": "false",
    } | (security or {})
    return "".join(f"{key}={value}\n" for key, value in props.items())


def render_elasticsearch_yml(
    settings: StackSettings, data_dir: Path, logs_dir: Path, security: dict[str, str] | None = None
) -> str:
    """Single node on loopback, security (unless ``security`` turns it on) and ml off, no watermarks."""
    lines = {
        "cluster.name": "deskwatch-local",
        "discovery.type": "single-node",
        "network.host": LOOPBACK,
        "http.port": str(settings.es_http_port),
        "transport.port": str(settings.es_transport_port),
        "path.data": str(data_dir),
        "path.logs": str(logs_dir),
        "xpack.security.enabled": "false",
        "xpack.ml.enabled": "false",
        "cluster.routing.allocation.disk.threshold_enabled": "false",
    } | _write_pool(settings) | (security or {})
    return "".join(f"{key}: {value}\n" for key, value in lines.items())


def _write_pool(settings: StackSettings) -> dict[str, str]:
    """The write thread pool's size and queue when set (fault campaigns throttle ES with them)."""
    pool = {"thread_pool.write.size": settings.es_write_threads,
            "thread_pool.write.queue_size": settings.es_write_queue_size}
    return {key: str(value) for key, value in pool.items() if value is not None}
