"""The whole pipeline on the secured engines, and the secret scan of everything it left behind.

``produce`` and ``ingest serve-http`` → ``processor run`` → ``sink run`` → ``search``, all as the
deskwatch user over SASL_SSL and HTTPS. Then every log the components wrote, their output, every
record of every topic the test made (dead letters and changelogs included), the documents in
Elasticsearch and the CLI outputs are searched for the passwords and the ingest token (plain and
base64, alone and as ``user:password``): nothing may hold them. A control scan of the 0600 settings
file, which must hold them, proves the scanner sees them where they are.
"""

# ruff: noqa: F811  (fixtures imported from secure_engines are parameters by design)
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
from deskwatch.sinks.elasticsearch.templates import incidents_alias
from elasticsearch import ApiError
from kafka import KafkaAdminClient, KafkaConsumer

from deskwatch.components import Component, write_settings_file
from deskwatch.processors.state_codec import unpack
from deskwatch.connect import elasticsearch_client, kafka_python_options
from deskwatch.settings import Settings
from deskwatch.stack.layout import Layout

from .conftest import wait_for
from .secure_engines import (  # noqa: F401
    secure_launch,
    secure_pipeline_settings,
    secure_settings,
    secure_stack,
)

pytestmark = pytest.mark.integration


def _event(ts: str, host: str, code: str, provider: str, msg: str) -> bytes:
    return orjson.dumps(
        {
            "@timestamp": ts,
            "event": {"code": code, "provider": provider},
            "host": {"name": host},
            "log": {"level": "error"},
            "message": msg,
        }
    )


FILE_LINES = [
    _event(
        "2026-11-29T08:00:00Z",
        "PC-101",
        "1058",
        "Microsoft-Windows-GroupPolicy",
        "GPO processing failed (1)",
    ),
    _event(
        "2026-11-29T08:05:00Z",
        "PC-101",
        "1058",
        "Microsoft-Windows-GroupPolicy",
        "GPO processing failed (2)",
    ),
    _event(
        "2026-11-29T08:10:00Z",
        "PC-101",
        "1058",
        "Microsoft-Windows-GroupPolicy",
        "GPO processing failed (3)",
    ),
    b"this is not json",  # a dead letter: its topic is scanned too
]
HTTP_LINES = [
    _event("2026-11-29T08:01:00Z", "PC-102", "7", "disk", "The device has a bad block."),
    _event("2026-11-29T08:02:00Z", "PC-102", "7", "disk", "The device has a bad block."),
]


def secret_needles(s: Settings) -> dict[str, bytes]:
    """Each secret in every form it could leak in: plain, base64, and base64 of ``user:secret``."""
    assert s.kafka.sasl_password and s.elasticsearch.password and s.http_ingest.token
    secrets = {
        "kafka": (s.kafka.sasl_username or "", s.kafka.sasl_password.get_secret_value()),
        "elasticsearch": (
            s.elasticsearch.username or "",
            s.elasticsearch.password.get_secret_value(),
        ),
        "ingest-token": ("", s.http_ingest.token.get_secret_value()),
    }
    needles = {}
    for name, (user, secret) in secrets.items():
        needles[f"{name}"] = secret.encode()
        needles[f"{name} base64"] = base64.b64encode(secret.encode()).rstrip(b"=")
        needles[f"{name} basic-auth"] = base64.b64encode(f"{user}:{secret}".encode()).rstrip(b"=")
    return needles


def leaks(corpus: dict[str, bytes], needles: dict[str, bytes]) -> list[str]:
    """``where: which secret`` for every needle found in any part of the corpus."""
    return [
        f"{where}: {name}"
        for where, blob in corpus.items()
        for name, n in needles.items()
        if n in blob
    ]


def _cli(config: Path, *args: str) -> bytes:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKWATCH_")} | {
        "DESKWATCH_CONFIG": str(config)
    }
    exe = str(Path(sys.executable).with_name("deskwatch"))
    done = subprocess.run([exe, *args], env=env, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _post(s: Settings, body: bytes, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{s.http_ingest.port}/v1/events?format=jsonl",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as err:
        return int(err.code), bytes(err.read())
    except OSError:
        return 0, b""  # not listening yet


def topic_records(s: Settings, tag: str) -> dict[str, bytes]:
    """Every record (key, value, headers) of every topic whose name carries ``tag``, by topic;
    changelog values as the JSON they store."""
    opts = kafka_python_options(s.kafka)
    admin = KafkaAdminClient(**opts)
    try:
        names = [t for t in admin.list_topics() if tag in t]
    finally:
        admin.close()
    out = {}
    for name in names:
        consumer = KafkaConsumer(
            name,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            consumer_timeout_ms=4000,
            **opts,
        )
        try:
            # a table's changelog stores its records compressed: scan what they hold
            value = unpack if name.endswith("-changelog") else bytes
            out[f"topic {name}"] = b"\n".join(
                b"|".join([r.key or b"", value(r.value or b"{}"), *(v or b"" for _, v in r.headers)])
                for r in consumer
            )
        finally:
            consumer.close()
    return out


def _files(folder: Path, skip: set[Path]) -> dict[str, bytes]:
    return {f"file {p}": p.read_bytes() for p in folder.rglob("*") if p.is_file() and p not in skip}


def _incidents(s: Settings, want: int) -> Callable[[], dict[str, Any] | None]:
    def settled() -> dict[str, Any] | None:
        client = elasticsearch_client(s.elasticsearch)
        try:
            client.indices.refresh(index=incidents_alias(s.elasticsearch))
            hits = client.search(index=incidents_alias(s.elasticsearch), size=100)["hits"]["hits"]
        except ApiError:  # the sink has not created the index yet
            return None
        docs = {h["_id"]: h["_source"] for h in hits}
        return docs if sorted(d["event_count"] for d in docs.values()) == [2, 3][:want] else None

    return settled


def test_secured_pipeline_end_to_end_leaves_no_secret_anywhere(
    secure_pipeline_settings: Settings, secure_launch: Callable[..., Component], tmp_path: Path
) -> None:
    s = secure_pipeline_settings.model_copy(
        update={"logging": secure_pipeline_settings.logging.model_copy(update={"level": "DEBUG"})}
    )
    config = write_settings_file(
        s, tmp_path / "settings.yaml"
    )  # DEBUG: the chattiest the components get
    tag = s.processor.app_id.removeprefix("test-proc-")
    (tmp_path / "events.jsonl").write_bytes(b"\n".join(FILE_LINES) + b"\n")
    outputs = {
        "cli produce": _cli(config, "produce", "--format", "jsonl", str(tmp_path / "events.jsonl"))
    }
    assert b"published=3 rejected=1" in outputs["cli produce"]

    comps = [
        Component(args, config, tmp_path / "logs" / f"{args[0]}.log")
        for args in (["ingest", "serve-http"], ["processor", "run"], ["sink", "run"])
    ]
    try:
        token = s.http_ingest.token.get_secret_value() if s.http_ingest.token else ""
        assert (
            wait_for(lambda: _post(s, b"", "wrong-" + token)[0], 60, "the ingest endpoint") == 401
        )
        status, body = _post(s, b"\n".join(HTTP_LINES) + b"\n", token)
        assert status == 200 and json.loads(body)["accepted"] == 2, body
        docs = wait_for(
            _incidents(s, 2),
            180,
            "two incidents in Elasticsearch",
            lambda: "\n---\n".join(c.tail() for c in comps),
        )
        assert {d["hosts"][0] for d in docs.values()} == {"PC-101", "PC-102"}
        outputs["cli search"] = _cli(config, "search", "--json")
        assert outputs["cli search"].count(b'"rule_id"') >= 2, outputs["cli search"]
        outputs["cli stack status"] = _cli(config, "stack", "status")
        assert (
            b"credentials" in outputs["cli stack status"]
            and b"running" in outputs["cli stack status"]
        )
        outputs["cli topics list"] = _cli(config, "topics", "list")
    finally:
        for c in comps:
            c.stop()

    es = elasticsearch_client(s.elasticsearch)
    es_docs = es.search(index=f"{s.elasticsearch.index_prefix}-*", size=10_000)["hits"]["hits"]
    layout = Layout(s.stack.home)
    corpus = {
        **outputs,
        **_files(tmp_path, {config}),
        **topic_records(s, tag),
        "elasticsearch documents": json.dumps(es_docs).encode(),
        "kafka engine log": layout.kafka_log.read_bytes(),
        **_files(layout.es_logs, set()),
        "elasticsearch console": layout.es_log.read_bytes(),
    }
    assert sum(1 for k in corpus if k.startswith("topic ") and "dead-letter" in k) == 1, sorted(
        corpus
    )
    assert sum(1 for k in corpus if k.startswith("file ") and k.endswith(".log")) >= 3
    needles = secret_needles(s)
    print(
        f"scanned {len(corpus)} sources, {sum(map(len, corpus.values()))} bytes, for {len(needles)} needles:",
        *(f"{k} ({len(v)} B)" for k, v in sorted(corpus.items())),
        sep="\n  ",
    )
    assert leaks(corpus, needles) == []
    control = leaks({"settings file": config.read_bytes()}, needles)
    assert {line.split(": ")[1] for line in control} >= {"kafka", "elasticsearch", "ingest-token"}
