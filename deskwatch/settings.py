"""The one typed settings tree, read once at the entry point.

Values come from defaults, then an optional YAML file (``DESKWATCH_CONFIG``), then environment
variables ``DESKWATCH_<SECTION>__<FIELD>``. Each component receives only its own section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _number_as_text(value: Any) -> Any:
    # YAML reads `password: 12345678` as a number; rejecting it would quote the password in the error.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


SecretText = Annotated[SecretStr | None, BeforeValidator(_number_as_text)]


class KafkaSettings(_Section):
    bootstrap_servers: str = "127.0.0.1:19092"
    topic_prefix: str = "deskwatch."
    partitions: int = Field(default=8, ge=1, description="partitions of every keyed topic")
    replication_factor: int = Field(default=1, ge=1)
    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretText = None
    ssl_cafile: Path | None = None
    bootstrap_timeout_s: float = Field(
        default=30.0, gt=0, description="how long a Kafka client waits for a first answer from a broker; "
        "then a command says Kafka cannot be reached (exit 69)")


class ElasticsearchSettings(_Section):
    url: str = "http://127.0.0.1:19200"
    username: str | None = None
    password: SecretText = None
    api_key: SecretText = None
    ca_file: Path | None = None
    index_prefix: str = "deskwatch"
    refresh_interval: str = "1s"  # the incident indices' (the sink also refreshes them after writing)
    # Decision: 5 s, not 1 s. Raw events are searched by an operator following up an incident, a few
    # seconds late is fine; each refresh of the busy events index cuts a segment, and on the 2-core
    # machine the latency bench's p99 (incidents) was 3,259 / 1,832 / 679 ms with 1 s against
    # 1,203 / 1,071 / 662 ms with 5 s (alternated runs at 500 events/s).
    events_refresh_interval: str = Field(
        default="5s", description="the events indices' periodic refresh: how soon a raw event is searchable")
    request_timeout_s: float = 30.0


class StackSettings(_Section):
    """Where and how the local engines run (no Docker engine needed)."""

    mode: Literal["auto", "local", "docker"] = "auto"
    home: Path = Path("/var/lib/deskwatch")
    engine_user: str = "deskwatch"
    kafka_port: int = 19092
    kafka_controller_port: int = 19093
    es_http_port: int = 19200
    es_transport_port: int = 19300
    kafka_heap: str = "768m"
    es_heap: str = "1g"
    start_timeout_s: float = 120.0
    stop_timeout_s: float = Field(default=30.0, gt=0, description="SIGTERM grace before SIGKILL")
    compose_file: Path = Field(
        default=Path("docker-compose.yml"), description="used when the engines run under Docker"
    )
    security: Literal["off", "on"] = Field(
        default="off", description="on: Elasticsearch over HTTPS with users, Kafka over SASL_SSL"
    )
    maven_repo: Path | None = Field(
        default=None, description="Maven cache to fetch the engines from; default <home>/m2"
    )
    es_user: str = Field(default="deskwatch", description="file-realm user of the secured stack")
    kafka_user: str = Field(default="deskwatch", description="SCRAM user of the secured stack")
    es_role_indices: tuple[str, ...] = Field(
        default=("deskwatch-*", "test-*"), description="indices the deskwatch role may use"
    )
    es_write_threads: int | None = Field(
        default=None, ge=1, description="thread_pool.write.size; a tiny pool + queue makes ES throttle (429)"
    )
    es_write_queue_size: int | None = Field(
        default=None, ge=1, description="thread_pool.write.queue_size; None = Elasticsearch's default"
    )
    kafka_acl_topic_prefixes: tuple[Annotated[str, Field(min_length=1)], ...] = Field(
        default=("deskwatch", "test-"),
        description="topic prefixes kafka_user may create, read and write (faust's start with processor.app_id)",
    )
    kafka_acl_group_prefixes: tuple[Annotated[str, Field(min_length=1)], ...] = Field(
        default=("deskwatch", "test-"), description="consumer group and transactional id prefixes of kafka_user"
    )


class ProducerSettings(_Section):
    batch_max_events: int = Field(default=500, ge=1)
    batch_max_bytes: int = Field(default=900_000, ge=1024)
    linger_ms: int = Field(default=50, ge=0)
    # zstd (level 3): 1.6 us of CPU per event against gzip's 15.4 (kafka-python fixes gzip at level 9),
    # and 71 B per event on the wire against 89 (bench/producer.py, simulated fleet envelopes)
    compression: Literal["zstd", "gzip", "none"] = "zstd"
    default_host: str | None = Field(
        default=None, description="host name for sources whose lines carry none"
    )
    source: str = "stdin"


StateStore = Literal["memory", "disk"]
STATE_STORES: tuple[str, ...] = get_args(StateStore)  # what `processor.state_store` and the benches' --store take


class ProcessorSettings(_Section):
    app_id: str = "deskwatch-processor"
    # Beside the stack's home, not in /tmp: a fixed name in a world-writable folder can be made
    # ahead of us by another user (ruff S108).
    datadir: Path = Path("/var/lib/deskwatch/processor")
    instance_id: str = Field(
        default="auto", min_length=1, max_length=200,
        description="this worker's static member id in the consumer group, unique per worker: 'auto' derives it "
                    "from the app id, the host name and the data dir; 'off' joins as a dynamic member "
                    "(processors/group_member.py)")
    leave_group_on_stop: bool = Field(
        default=False,
        description="on SIGTERM/SIGINT, once stopped, remove this worker's static member from its group, so the "
                    "workers left take its partitions at once (a worker stopped for good); off: a restart takes "
                    "its partitions back without a rebalance (deskwatch/members.py)")
    web_enabled: bool = False
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    commit_every: int = 10_000
    # Decision: 1 s, not faust's 2.8. A worker's last records stayed uncommitted until the next
    # period: its lag read 23-2,211 records for 1.6-2.1 s after their outputs were in
    # Elasticsearch (bench/e2e.py, 2026-12-05), so a watcher (the demo, the bench's clock, the
    # fault campaign's drain) waited on bookkeeping, and a crash replays up to a period's records.
    # The cost is one offset commit per second per worker.
    commit_interval_s: float = Field(
        default=1.0, gt=0, description="how often the worker commits what it processed (faust's broker_commit_interval)")
    # Decision: 50 ms, as the sink's, not faust's fixed 1,500. A fetch in flight leaves out the
    # partitions that still hold buffered records, and they wait until it returns; at the end of a
    # burst nothing new comes for the partitions it asked for, so the broker held it the full 1.5 s:
    # a lag trace of bench/e2e.py (60,000 events, 2026-12-05) showed the worker idle 1.0-1.5 s with
    # 53-3,375 records of its inputs not yet processed. The cost is an idle worker's fetch every 50 ms.
    fetch_max_wait_ms: int = Field(
        default=50, ge=0, description="longest a fetch waits at the broker; partitions left out of it wait as long")
    event_loop: Literal["uvloop", "asyncio"] = Field(
        default="uvloop", description="the worker's event loop; asyncio's own if uvloop misbehaves somewhere")
    tick_interval_s: float = Field(default=10.0, gt=0, description="period of the ticks that drive timeouts")
    # Decision: faust's 60 s, kept (Kafka's consumers default to 45 s since KIP-735, raised from 10 s
    # for spurious rebalances). A static member that restarts is back long before it ends
    # (processors/group_member.py); only a worker lost for good waits for it: the fault campaign's
    # "1 of 2 workers SIGKILLed for good" row drained in 67.1 s at 60 s and 36.6 s at 20 s
    # (2026-12-04, same fleet, 0 lost, 0 duplicated either way). A shorter one evicts a worker whose
    # event loop is held that long; the longest hold measured (loop_delay_ms, memory bench, 100k
    # hosts recovered from 197 MiB of changelog) was 63 ms recovering and 302 ms processing, so a
    # deployment of several workers that wants a faster takeover can lower it, reading its own
    # loop_delay_ms first. The broker's floor is 6 s; faust heartbeats every 3 s, requests wait 90 s.
    session_timeout_s: float = Field(
        default=60.0, ge=10, le=90,
        description="a worker silent this long leaves its group, and another takes its partitions over")
    heartbeat_interval_s: float = Field(default=15.0, gt=0, description="period of the worker's progress line")
    heartbeat_stall_after_s: float = Field(default=60.0, gt=0,
                                           description="a waiting or stalled phase this long is logged as a warning")
    heartbeat_resume_stalled: bool = Field(
        default=True, description="resume the input partitions of a worker stalled that long, and read again the "
                                  "changelog partitions of a table recovery that read nothing that long "
                                  "(see processors/stall.py)")
    heartbeat_exit_after_s: float = Field(
        default=300.0, gt=0,
        description="a worker waiting this long (starting, rebalancing, stalled; not when recovering its tables "
                    "or without partitions) exits with code 75 for its supervisor to restart it")
    host_max_event_ids: int = Field(default=8_000, ge=10, description="exact-dedup ids kept per host (24 h horizon)")
    host_max_fingerprints: int = Field(default=1_000, ge=1, description="content-dedup windows kept per host")
    # Decoded states kept per table (processors/views.py). Decision: a bound, because the cache held
    # every key the worker ever touched: ~10 KB of Python objects per host of a few events, against
    # ~1-2 KB of JSON in the table's store. bench/memory.py --hosts 50000 --events 500000 (every host
    # sends again after a restart): 1,570 MiB RSS unbounded, 1,007 MiB with 20,000. A key beyond it is
    # decoded again from the store when next needed (~100 us a host state). 10,000 rather than 20,000:
    # at 100k hosts and 1M events the two caches held ~340 MB at 20,000 (983 MiB RSS, the goal 1 GiB);
    # what a cache spares is the decode of a host or group that comes back soon (a chatty host, an
    # incident's group), and a host sending once a minute outlives either size in a fleet that large.
    state_cache_max: int = Field(
        default=10_000, ge=1,
        description="decoded host and group states kept in memory per table (the most recently used); "
                    "the others are decoded again from the table when next needed")
    # Decision: the host states' cache is bounded by bytes as well. A count alone let it grow with
    # what each host holds: a host at its id cap (8,000) decodes to ~1.3 MiB of Python objects (139
    # KiB in the store), a host of ~25 events an hour to ~0.24 MiB (bench/state_cache.py), so 10,000
    # hosts at the cap would have held ~13 GiB, and 10,000 quieter ones ~2.4 GiB. Bounded, a host
    # beyond it costs a decode when it next sends (at the cap 3.6 ms on a quiet machine, ~10 ms on a
    # busy one) instead of memory. 256 MiB: with the store and the rest, a worker stays under 1 GiB.
    state_cache_max_mib: int = Field(
        default=256, ge=1,
        description="estimated MiB of decoded host states kept in memory (the most recently used); "
                    "with state_cache_max, whichever bound is reached first")
    # Decision: so are the group states' (stage 2). A group's lists are capped, but a group whose
    # window holds WINDOW_CAP pending signals decodes to ~1.6 MiB, so 10,000 such groups could have
    # held ~15 GiB, where 10,000 per-host incidents (~15 KiB each, as estimated) hold ~150 MiB.
    # 160 MiB keeps that common case whole and bounds the rare one (bench/group_state.py).
    group_cache_max_mib: int = Field(
        default=160, ge=1,
        description="estimated MiB of decoded group states kept in memory (the most recently used); "
                    "with state_cache_max, whichever bound is reached first")
    # Decision: on disk by default, as Kafka Streams keeps its state stores. A restarted worker on
    # its data dir reads only the changelog's tail (the database keeps what the broker acknowledged
    # with its offsets, processors/disk_store.py): bench/restart.py's 20k hosts, 3.1 s against
    # 41.9 s in memory, which reads every record at each start (290-384 s at 100k hosts); the
    # worker holds its decoded-state caches and RocksDB's buffers, not every record (465 against
    # 773 MiB of RSS at 100k hosts and 1M events). A record costs ~4-6 us to write instead of a
    # dict's ~0.5, and a host read past the caches 12.7 against 7.2 ms; the processor bench's rate
    # did not tell them apart (bench/RESULTS.md, 2026-12-06 and 12-07). 'memory' keeps every record
    # in the worker, for a worker without a lasting disk. Either way the changelog is the durable
    # copy.
    state_store: StateStore = Field(
        default="disk",
        description="where a worker keeps its tables' records: 'disk' (RocksDB in the data dir, kept across "
                    "restarts so a restarted worker reads only the changelog's tail) or 'memory' (every record "
                    "in the worker, read again from the changelog at each start)")
    state_max_record_bytes: int = Field(default=4_194_304, ge=1_048_576,
                                        description="largest state record a changelog accepts")
    rule_files: list[Path] = Field(default_factory=list, description="rule YAML files; empty = the default pack")
    change_file: Path | None = Field(
        default=None, description="change definitions YAML (what names an update, an install, a policy change); "
                                  "unset = the shipped processors/rules/host_changes.yaml. Stage 1 keeps each "
                                  "named change's events apart, and `deskwatch incident show|changes` ranks them")
    # Decision: input held in memory is bounded in records, and each record is a host envelope of up
    # to producer.batch_max_events events (~45 KB at 67 events in the dense bench, 900 KB at most by
    # default), so the three bounds below are small. They were faust-sized (5,000 records a fetch,
    # 65,536 in the stream's buffer, 2,000 a batch): a backlog was read into memory whole, and the
    # processor's RSS grew with it. bench/processor.py --hosts 1500 --events 600000 --reps 1
    # (2026-12-01, one run each, fetch / buffer / batch): peak RSS 1,279 MiB with 5,000 / 65,536 /
    # 2,000; 874 with 500 / 1,024 / 2,000; 457 with 500 / 1,024 / 256; 448 with 256 / 512 / 256, at
    # 8,632, 10,663, 10,795 and 9,139 events/s after warm-up (0.30, 0.39, 0.43, 0.41 of Quix Streams
    # in the same runs: noise, no loss). The agent works through 256 dense envelopes in ~1.5 s; a
    # live batch holds what batch_within_s brought, ~100-200 one-event envelopes; and a dense host
    # sends one envelope in ~1,500, so a host's writes coalesce within a batch as before. The cost:
    # one fetch loop feeds every agent, so a full stage 1 buffer (~0.5 s of live input at 512
    # records) holds stage 2's signals back behind it; a live A/B at 800 events/s put stage 1's hop
    # p99 at 493 / 606 ms against 310 / 264 with the old values, within the machine's noise
    # (bench/RESULTS.md).
    # Then the fetch and the buffer shrank (256 / 512 -> 64 / 128): envelopes near the producers'
    # largest held ~2x more than those figures show. 727 envelopes of ~460 events (--hosts 100
    # --events 300000, 15:33-15:46 UTC, fetch / buffer / batch): peak RSS 626 MiB with 256 / 512 /
    # 256, 551 with 64 / 128 / 256, 319 with 64 / 128 / 64. A smaller batch costs CPU where a host's
    # envelopes are spread over the backlog (dense shape, alternated: 129 and 116 us of CPU per event
    # with batches of 64, 106 and 111 with 256: each batch writes the state of every host it
    # touched), the smaller fetch and buffer do not (94 and 88 against 108 and 89). So at most 448
    # envelopes are held, ~400 MB at 900 KB each (1,024 and ~920 MB before); 2,075 envelopes of ~485
    # events (1M events): 642 MiB against 787 with 256 / 512 / 256, at 0.45 and 0.42 of Quix Streams.
    batch_max_records: int = Field(default=256, ge=1, description="records an agent takes per batch")
    fetch_max_records: int = Field(default=64, ge=1, description="records one fetch from the broker hands over")
    input_buffer_records: int = Field(
        default=128, ge=1, description="records fetched and waiting for an agent, per input; fetching waits beyond")
    # Decision: 0.1 s, not 0.05. Each batch pays fixed costs (a state write per host it touched, one
    # wait for its outputs' acknowledgement), and live traffic brings about one event per host
    # envelope, so a longer batch coalesces more of a host's writes: in process, stage 1 and its
    # table cost 212 us per one-event envelope flushed every 75 envelopes, 177 every 300 (min of 4).
    # Paced live runs on 2026-12-01 (bench.latency, 500 hosts, 60 s, a noisy machine), p99 in s:
    # at 1,000 events/s 5.2, 1.0, 4.5 with 0.05 and 1.9, 4.2, 1.1 with 0.1 (median 4.5 vs 1.9); at
    # 1,300 events/s 43.5, 19.8, 11.6 with 0.05 and 4.4 with 0.1. Noise is as large as the effect:
    # it is the direction, with the mechanism above, that decided. An idle pipeline waits at most
    # 50 ms more per stage.
    batch_within_s: float = Field(default=0.1, gt=0, description="longest wait to fill a batch")
    # Decision: 0.5 s (processors/state_writes.py says why states are written per interval; in
    # process, 53 us of stage 1's table work per live envelope at 0.5 s, 40 at 1 s, 79 per batch of
    # 0.1 s). Not 1 s: the last records' commit, which a watcher of the lag waits for, comes up to an
    # interval later.
    state_write_interval_s: float = Field(
        default=0.5, gt=0, description="longest an agent keeps its host or group states staged before writing them; "
                                       "commits wait for the write")
    # Decision: a bound on what is staged, so memory does not grow with a long interval; 2,048 keys
    # is four times a live 0.5 s of the latency bench's 500 hosts.
    state_write_max_keys: int = Field(
        default=2_048, ge=1, description="an agent writes its staged states once this many keys are staged")
    producer_linger_ms: int = Field(
        default=0, ge=0, description="output batching delay; 0 = adaptive: what comes during a request rides the next"
    )


class SinkSettings(_Section):
    group_id: str = "deskwatch-sink"
    instance_id: str = Field(
        default="auto", min_length=1, max_length=200,
        description="this sink's static member id in its group, unique per sink: 'auto' takes a free slot under "
                    "state_dir; 'off' joins as a dynamic member (sinks/static_member.py)")
    state_dir: Path = Field(default=Path("/var/lib/deskwatch/sink"), description="the member slots' lock files")
    leave_group_on_stop: bool = Field(
        default=False, description="on SIGTERM/SIGINT, once stopped, remove this sink's static member from its "
                                   "group, as processor.leave_group_on_stop")
    bulk_max_docs: int = Field(default=2000, ge=1)
    bulk_max_bytes: int = Field(default=5_000_000, ge=1024)
    # Decision: two bulk requests in flight. One alone left Elasticsearch idle while the sink polled
    # and encoded the next batch (and one write thread of the node busy): catching up 50,000
    # records (bench/sink.py's documents, four rotations, 2026-12-07) took 3.06 s one batch after the
    # other, 2.71 with one request in flight beside the polling, 2.29 with two, 2.21 with three.
    bulk_in_flight: int = Field(
        default=2, ge=1, le=8,
        description="bulk requests running while the next batch is polled; each batch is committed once it and "
                    "every batch before it settled")
    flush_interval_s: float = Field(
        default=0.5, gt=0, description="ceiling on a record's wait while records keep arriving; drained = write at once"
    )
    fetch_max_wait_ms: int = Field(
        default=50, ge=0, description="longest a fetch waits at the broker; partitions left out of it wait as long"
    )
    retry_max_backoff_s: float = 30.0
    startup_wait_s: float = Field(
        default=120.0, ge=0,
        description="how long a starting sink waits for Elasticsearch to answer (with backoff) before it exits "
                    "69; 0 = exit at once")
    events_retention_days: int = Field(default=30, ge=1, description="daily events and dead-letters indices older are deleted")
    prune_interval_s: float = Field(default=3600.0, gt=0, description="how often the running sink prunes")
    heartbeat_interval_s: float = Field(default=15.0, gt=0, description="one 'sink heartbeat' log line this often")
    rejoin_after_s: float = Field(
        default=60.0, gt=0, description="a consumer out of its group this long is replaced by a new one")
    incident_refresh: bool = Field(
        default=True, description="refresh the incident indices after writing to them (off: periodic refresh only)")
    incident_refresh_min_interval_s: float = Field(
        default=0.2, ge=0, description="explicit refreshes of the incident indices at most this often")


class LoggingSettings(_Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_output: bool = False
    engine_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="WARNING", description="faust, aiokafka and mode loggers (their INFO lines: rebalances, recovery)")
    engine_repeat_window_s: float = Field(
        default=30.0, ge=0, description="an engine library's repeated message (same logger, level, text before "
                                        "its values and error class among them) is shown once per this many "
                                        "seconds, with a count; 0 shows all")


class TailSettings(_Section):
    """File tail and drop folder: where checkpoints and ledgers live, and how eagerly to read."""

    state_dir: Path = Path("/var/lib/deskwatch/sources")
    poll_interval_s: float = Field(default=0.02, gt=0, description="wait at end of file before reading again")
    checkpoint_interval_s: float = Field(default=1.0, gt=0, description="checkpoint writes at most this often")
    partial_line_settle_s: float = Field(default=30.0, gt=0, description="emit an unterminated last line after")
    chunk_bytes: int = Field(default=1_048_576, ge=4096)
    max_line_bytes: int = Field(default=262_144, ge=1024)
    max_in_flight: int = Field(default=2000, ge=2, description="envelopes unacknowledged before send blocks")
    max_open_events: int = Field(default=100_000, ge=1, description="events in open envelopes before the oldest are sent (a tenth of this at a time)")
    drain_when_caught_up: bool = Field(
        default=True, description="a read that finds nothing new sends every open envelope; off: they wait for the linger")
    parse_process: bool = Field(
        default=False, description="the file tail reads and encodes in a child process; this one only sends")
    drop_extensions: tuple[str, ...] = (".evtx", ".jsonl", ".log")
    drop_settle_s: float = Field(default=2.0, ge=0, description="a dropped file must be unchanged this long")
    drop_move_done: bool = Field(default=True, description="move ingested files into a done/ subfolder")


class SyslogSettings(_Section):
    """The syslog listener (UDP and TCP)."""

    host: str = "127.0.0.1"
    udp_port: int = Field(default=5514, ge=0, le=65535)
    tcp_port: int = Field(default=5514, ge=0, le=65535)
    max_message_bytes: int = Field(default=65_536, ge=480)
    max_connections: int = Field(default=256, ge=1)
    idle_timeout_s: float = Field(default=300.0, gt=0)
    message_timeout_s: float = Field(
        default=30.0, gt=0, description="a TCP message begun must end within this, else close (slow senders)"
    )
    udp_receive_buffer_bytes: int = Field(
        default=4_194_304, ge=65_536, description="SO_RCVBUF of the UDP socket (the kernel caps it at rmem_max)"
    )
    allowed_networks: tuple[str, ...] = ("127.0.0.0/8",)
    tls_certfile: Path | None = Field(default=None, description="PEM certificate: TCP speaks TLS (RFC 5425)")
    tls_keyfile: Path | None = Field(default=None, description="PEM private key of tls_certfile")


class HttpIngestSettings(_Section):
    """The HTTP batch ingest endpoint (POST /v1/events, NDJSON)."""

    host: str = "127.0.0.1"
    port: int = Field(default=8088, ge=0, le=65535)
    token: SecretStr | None = Field(default=None, description="bearer token; required to start")
    max_body_bytes: int = Field(default=10_485_760, ge=1024)
    ack_timeout_s: float = Field(default=30.0, gt=0, description="give up waiting for the broker after")
    header_timeout_s: float = Field(
        default=10.0, gt=0, description="close a connection without a complete request head by then (and idle ones)"
    )
    body_timeout_s: float = Field(default=30.0, gt=0, description="answer 408 when the body takes longer")
    max_concurrent_requests: int = Field(
        default=64, ge=1, description="answer 429 past this many requests in progress"
    )
    rate_limit_per_s: float = Field(
        default=20.0, gt=0, description="requests per second one client address may sustain (429 past it)"
    )
    rate_limit_burst: int = Field(default=100, ge=1, description="requests one client address may send at once")


class WebhookSettings(_Section):
    """The webhook sink: every incident change POSTed, signed, to each URL."""

    urls: tuple[str, ...] = Field(default=(), description="receivers; each gets every change")
    secret: SecretStr | None = Field(default=None, description="HMAC-SHA256 key of X-Deskwatch-Signature")
    group_id: str = "deskwatch-webhook"
    instance_id: str = Field(
        default="auto", min_length=1, max_length=200,
        description="this relay's static member id in its group: 'auto', an id, or 'off', as sink.instance_id")
    state_dir: Path = Field(default=Path("/var/lib/deskwatch/webhook"), description="the member slots' lock files")
    leave_group_on_stop: bool = Field(
        default=False, description="on SIGTERM/SIGINT, once stopped, remove this relay's static member from its "
                                   "group, as processor.leave_group_on_stop")
    connect_timeout_s: float = Field(default=3.0, gt=0)
    read_timeout_s: float = Field(default=10.0, gt=0)
    max_attempts: int = Field(default=5, ge=1, description="per URL, then the change is dead-lettered")
    backoff_initial_s: float = Field(default=0.5, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    notify_only: bool = Field(default=True, description="skip changes with notify=false (silenced, absorbed)")
    # Decision: 120 s. A parent's claim reaches a child opened by the same events within a second
    # or two; a blue screen's 1001 report is logged 15-120 s after the Kernel-Power 41 it explains
    # (the simulator's range). Children are hosts' symptoms of a wider problem, so their own first
    # notice can wait that long; other rules' incidents are never held.
    absorb_wait_s: float = Field(
        default=120.0, ge=0, description="with notify_only: hold a child rule's new incident this long, "
                                        "dropping it if a parent absorbs it meanwhile (0: off)")
    heartbeat_interval_s: float = Field(default=15.0, gt=0, description="one 'webhook heartbeat' log line this often")
    rejoin_after_s: float = Field(
        default=60.0, gt=0, description="a consumer out of its group this long is replaced by a new one")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DESKWATCH_", env_nested_delimiter="__", frozen=True, extra="forbid"
    )

    kafka: KafkaSettings = KafkaSettings()
    elasticsearch: ElasticsearchSettings = ElasticsearchSettings()
    stack: StackSettings = StackSettings()
    producer: ProducerSettings = ProducerSettings()
    processor: ProcessorSettings = ProcessorSettings()
    sink: SinkSettings = SinkSettings()
    logging: LoggingSettings = LoggingSettings()
    tail: TailSettings = TailSettings()
    syslog: SyslogSettings = SyslogSettings()
    http_ingest: HttpIngestSettings = HttpIngestSettings()
    webhook: WebhookSettings = WebhookSettings()

    @model_validator(mode="after")
    def _groups_follow_the_topic_prefix(self) -> Settings:
        """The processor's app id (its consumer group, and the prefix of its tables' changelog
        topics) and the sink's and webhook's consumer groups, when not set, are named after
        ``kafka.topic_prefix``: ``<prefix>-processor``, ``<prefix>-sink``, ``<prefix>-webhook``
        (``deskwatch-…`` for the default prefix, as before).

        Decision: derived, not fixed. With fixed names, two deployments on one cluster that set
        only their topic prefix shared the processor's tables: the second one's stage 2 read the
        first one's groups, saw its signals as replays and opened nothing."""
        base = self.kafka.topic_prefix.rstrip("._-") or "deskwatch"
        for section, name, suffix in (("processor", "app_id", "processor"), ("sink", "group_id", "sink"),
                                      ("webhook", "group_id", "webhook")):
            current = getattr(self, section)
            if name not in current.model_fields_set:
                object.__setattr__(self, section, current.model_copy(update={name: f"{base}-{suffix}"}))
        return self

    def separate(self, name: str, folder: Path | None = None) -> Settings:
        """These settings for another deployment on the same engines, called ``name``: topic prefix
        ``<name>.``, index prefix ``<name>``, the processor's app id and the sink's and webhook's
        groups ``<name>-processor|sink|webhook``, and, with ``folder``, the processor's, the tail's,
        the sink's and the webhook relay's state under it. Nothing it reads, writes or commits is
        this one's, so the benchmarks, the soak and the fault campaign each run in a corner of their
        own and delete it after."""
        update: dict[str, Any] = {
            "kafka": self.kafka.model_copy(update={"topic_prefix": f"{name}."}),
            "elasticsearch": self.elasticsearch.model_copy(update={"index_prefix": name}),
            "processor": self.processor.model_copy(update={"app_id": f"{name}-processor"}),
            "sink": self.sink.model_copy(update={"group_id": f"{name}-sink"}),
            "webhook": self.webhook.model_copy(update={"group_id": f"{name}-webhook"}),
        }
        if folder is not None:
            update["processor"] = update["processor"].model_copy(update={"datadir": folder / "proc"})
            update["tail"] = self.tail.model_copy(update={"state_dir": folder / "tail-state"})
            update["sink"] = update["sink"].model_copy(update={"state_dir": folder / "sink"})
            update["webhook"] = update["webhook"].model_copy(update={"state_dir": folder / "webhook"})
        return self.model_copy(update=update)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlSource(settings_cls))


class _YamlSource(PydanticBaseSettingsSource):
    """Reads the file named by DESKWATCH_CONFIG, if any."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        import os

        path = os.environ.get("DESKWATCH_CONFIG")
        if not path:
            return {}
        with Path(path).open(encoding="utf-8") as stream:  # a stream: YAML's errors name the file
            data = yaml.safe_load(stream) or {}
        if not isinstance(data, dict):
            raise ValueError(f"DESKWATCH_CONFIG={path!r}: expected a mapping at the top level")
        return data


def load_settings(**overrides: Any) -> Settings:
    """Read the settings tree once; keyword overrides win over files and environment."""
    return Settings(**overrides)
