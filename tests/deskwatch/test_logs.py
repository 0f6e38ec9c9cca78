"""The engines' repeated log lines collapse to one per window, with a count; deskwatch's never do."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from kafka.errors import KafkaConnectionError, KafkaTimeoutError, SaslAuthenticationFailedError

from deskwatch.logs import (
    ClosedTransportFilter,
    PeerGoneFilter,
    KafkaRefusals,
    RepeatFilter,
    collapse_repeats,
    drop_closed_transport_errors,
)


def _record(name: str, msg: str, *args: object, at: float, level: int = logging.ERROR) -> logging.LogRecord:
    record = logging.LogRecord(name, level, __file__, 1, msg, args, None)
    record.created = at
    return record


def _shown(f: RepeatFilter, records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if f.filter(r)]


def test_a_template_repeated_inside_the_window_shows_once_then_says_how_many_it_left_out() -> None:
    f = RepeatFilter(window_s=30)
    records = [_record("aiokafka.client", "Unable connect to node with id %s: %s", 1, "refused", at=t)
               for t in (0.0, 0.1, 0.2, 5.0, 29.9, 30.0, 30.5, 61.0)]
    assert _shown(f, records) == [
        "Unable connect to node with id 1: refused",
        "Unable connect to node with id 1: refused [4 more like this in the 30 s before, not shown]",
        "Unable connect to node with id 1: refused [1 more like this in the 30 s before, not shown]",
    ]


def test_templates_levels_and_loggers_are_counted_apart() -> None:
    f = RepeatFilter(window_s=30)
    records = [
        _record("aiokafka.client", "Unable connect to node with id %s", 1, at=0.0),
        _record("aiokafka.client", "Unable connect to node with id %s", 2, at=0.1),  # same template
        _record("aiokafka.consumer.fetcher", "Unable connect to node with id %s", 1, at=0.2),
        _record("aiokafka.client", "Unable connect to node with id %s", 1, at=0.3, level=logging.WARNING),
        _record("kafka.conn", "%s: Connection lost: %s", "<conn>", "reset", at=0.4),
    ]
    assert _shown(f, records) == [
        "Unable connect to node with id 1",
        "Unable connect to node with id 1",
        "Unable connect to node with id 1",
        "<conn>: Connection lost: reset",
    ]


def test_a_template_with_another_error_among_its_values_is_another_line() -> None:
    # the refused password is the line that says why the connections fail: not hidden behind the resets
    f = RepeatFilter(window_s=30)
    reset, refused = KafkaConnectionError("socket disconnected"), SaslAuthenticationFailedError("invalid credentials")
    records = [_record("kafka.net.connection", "%s: Connection lost: %s", "<conn>", error, at=t)
               for t, error in ((0.0, reset), (0.1, refused), (0.2, reset), (0.3, refused))]
    assert _shown(f, records) == ["<conn>: Connection lost: KafkaConnectionError: socket disconnected",
                                  "<conn>: Connection lost: [Error 58] SaslAuthenticationFailedError: invalid credentials"]


def test_a_refused_kafka_password_is_remembered_in_its_own_words() -> None:
    watch = KafkaRefusals()
    watch.handle(_record("kafka.net.connection", "%s: Connection lost: %s", "<conn>",
                         KafkaConnectionError("socket disconnected"), at=0.0))
    assert watch.last_refusal is None
    watch.handle(_record("kafka.net.connection", "%s: Connection lost: %s", "<conn>",
                         SaslAuthenticationFailedError("SaslAuthenticationFailedError: invalid credentials"), at=0.1))
    assert watch.last_refusal == "invalid credentials"


def test_a_refusal_outlives_the_brokers_own_closes_and_not_a_broker_that_cannot_be_reached() -> None:
    watch = KafkaRefusals()
    watch.handle(_record("kafka.net.connection", "%s: Connection lost: %s", "<conn>",
                         SaslAuthenticationFailedError("invalid credentials"), at=0.0))
    # a refused SCRAM handshake is mostly seen as the broker closing the socket: it answered
    watch.handle(_record("kafka.net.connection", "%s: Connection lost: %s", "<conn>",
                         KafkaConnectionError("socket disconnected"), at=0.1))
    assert watch.last_refusal == "invalid credentials"
    # later no connection can be made at all: whatever fails next is not the password
    watch.handle(_record("kafka.net.manager", "Connection failed: %s", KafkaConnectionError("111 ECONNREFUSED"), at=5.0))
    assert watch.last_refusal is None
    watch.handle(_record("kafka.net.manager", "Connection failed: %s",
                         SaslAuthenticationFailedError("invalid credentials"), at=6.0))
    assert watch.last_refusal == "invalid credentials"


def test_a_refusal_explains_only_a_bootstrap_deadline() -> None:
    watch = KafkaRefusals()
    deadline = KafkaTimeoutError("Unable to bootstrap from ['127.0.0.1:9092']")
    assert watch.explains(deadline) is None  # nothing refused yet
    watch.handle(_record("kafka.net.connection", "%s: Connection lost: %s", "<conn>",
                         SaslAuthenticationFailedError("invalid credentials"), at=0.0))
    assert watch.explains(deadline) == "invalid credentials"
    assert watch.explains(KafkaTimeoutError("Timeout after waiting for 30 secs")) is None
    assert watch.explains(KafkaConnectionError("socket disconnected")) is None


def test_deskwatch_own_lines_are_never_collapsed() -> None:
    f = RepeatFilter(window_s=30)
    records = [_record("deskwatch.sinks.run", "elasticsearch unavailable", at=t) for t in (0.0, 0.1, 0.2)]
    assert len(_shown(f, records)) == 3


def _handlers(n: int) -> list[tuple[logging.Handler, io.StringIO]]:
    out: list[tuple[logging.Handler, io.StringIO]] = []
    for _ in range(n):
        buffer = io.StringIO()
        out.append((logging.StreamHandler(buffer), buffer))
    return out


def test_a_record_reaching_two_handlers_gets_the_same_answer_at_both() -> None:
    pairs = _handlers(2)
    collapse_repeats([h for h, _ in pairs], 30)
    for t in range(5):
        record = _record("aiokafka.consumer.group_coordinator", "Heartbeat failed for group %s", "deskwatch",
                         at=float(t))
        for handler, _ in pairs:
            handler.handle(record)
    assert [b.getvalue() for _, b in pairs] == ["Heartbeat failed for group deskwatch\n"] * 2


def test_window_zero_leaves_every_line() -> None:
    ((handler, out),) = _handlers(1)
    collapse_repeats([handler], 0)
    for t in range(3):
        handler.handle(_record("aiokafka.conn", "Fetch to node %s failed", 1, at=float(t)))
    assert out.getvalue().count("Fetch to node 1 failed") == 3


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """configure_logging sets process-wide levels and structlog's config: put them back."""
    import structlog

    names = ("", "faust", "aiokafka", "mode", "kafka", "elastic_transport")
    levels = {name: logging.getLogger(name).level for name in names}
    config = structlog.get_config()
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        structlog.configure(**config)


@pytest.mark.usefixtures("restored_logging")
def test_configure_logging_leaves_handlers_it_did_not_make() -> None:
    # Under pytest the root logger already has the session's capture handlers (reused by every
    # test's caplog): a filter put on them by one test hid another test's log lines.
    from deskwatch.logs import configure_logging
    from deskwatch.settings import LoggingSettings

    def filtered() -> list[logging.Handler]:
        return [h for h in logging.root.handlers if any(isinstance(f, RepeatFilter) for f in h.filters)]

    had = filtered()
    configure_logging(LoggingSettings())
    assert filtered() == had


class _Catcher(logging.Handler):
    def __init__(self, seen: list[logging.LogRecord]) -> None:
        super().__init__()
        self.seen = seen

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record)


def _receive_error(transport: object) -> list[logging.LogRecord]:
    """What kafka-python's transport logger lets through when a read fails as it does on close."""
    from kafka.net import transport as kafka_transport

    seen: list[logging.LogRecord] = []
    catcher = _Catcher(seen)
    logger = kafka_transport.log
    logger.addHandler(catcher)
    try:
        try:
            None.recv(4096)  # type: ignore[attr-defined]  # the socket close() set to None
        except AttributeError:
            logger.exception("%s: Error receiving network data closing socket", transport)
    finally:
        logger.removeHandler(catcher)
    return seen


def test_a_read_on_a_transport_closed_under_it_logs_no_traceback() -> None:
    from kafka.net.transport import KafkaTCPTransport

    drop_closed_transport_errors()
    drop_closed_transport_errors()  # once only
    assert sum(isinstance(f, ClosedTransportFilter) for f in logging.getLogger("kafka.net.transport").filters) == 1
    closing = KafkaTCPTransport(None, None)
    closing._closed = True  # what close() sets before the read thread's recv
    assert _receive_error(closing) == []
    live = KafkaTCPTransport(None, None)
    assert len(_receive_error(live)) == 1  # an error on a live connection still shows


def test_a_connection_the_peer_reset_is_one_line_with_its_error_not_a_traceback() -> None:
    # A real reset: the peer closes a loopback TCP connection with SO_LINGER 0 (an RST), as a
    # broker that dies does, and the read then fails as kafka-python's transport read fails.
    import socket
    import struct

    from kafka.net import transport as kafka_transport

    drop_closed_transport_errors()
    drop_closed_transport_errors()  # once only
    assert sum(isinstance(f, PeerGoneFilter) for f in logging.getLogger("kafka.net.transport").filters) == 1
    seen: list[logging.LogRecord] = []
    catcher = _Catcher(seen)
    kafka_transport.log.addHandler(catcher)
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        peer, _ = server.accept()
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        peer.close()
        try:
            try:
                client.recv(4096)
            except OSError:
                kafka_transport.log.exception("%s: Error receiving network data closing socket", "<transport>")
            try:
                raise ValueError("not a connection error")
            except ValueError:
                kafka_transport.log.exception("%s: Error receiving network data closing socket", "<transport>")
        finally:
            client.close()
            kafka_transport.log.removeHandler(catcher)
    reset, other = (logging.Formatter().format(r) for r in seen)
    assert reset == ("<transport>: Error receiving network data closing socket "
                     "(ConnectionResetError: [Errno 104] Connection reset by peer)")
    assert "Traceback" in other and "ValueError: not a connection error" in other  # other errors keep theirs
