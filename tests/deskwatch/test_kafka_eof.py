"""kafka-python's transports parse what a broker sent before closing (deskwatch.kafka_eof).

On real loopback sockets: the peer writes an answer and closes, as a broker does after refusing a
password; one read returns both. The library's own method drops the answer (checked here, so a
kafka-python that changes this contract fails the test); wrapped, the answer comes first and the
close on the next read.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest
from kafka.errors import KafkaConnectionError
from kafka.net.transport import KafkaSSLTransport, KafkaTCPTransport

from deskwatch.connect import kafka_python_options
from deskwatch.kafka_eof import _reads_before_close, read_before_close
from deskwatch.settings import KafkaSettings

ANSWER = b"\x00\x00\x00\x06answer"


@pytest.fixture
def answered_and_closed() -> Iterator[KafkaTCPTransport]:
    """A transport over a client socket whose peer already wrote ``ANSWER`` and closed."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        client = socket.create_connection(server.getsockname())
        peer, _ = server.accept()
        peer.sendall(ANSWER)
        peer.close()
        client.setblocking(False)
        time.sleep(0.05)  # both the bytes and the close are in the client's buffer
        try:
            yield KafkaTCPTransport(None, client)
        finally:
            client.close()


def test_the_pinned_library_drops_an_answer_that_came_with_the_close(answered_and_closed: KafkaTCPTransport) -> None:
    own = KafkaTCPTransport.__dict__["_sock_recv"]
    original = getattr(own, "__wrapped__", own)
    data, err = original(answered_and_closed)
    assert data == ANSWER and isinstance(err, KafkaConnectionError)  # its read loop aborts on err first


def test_the_answer_is_read_first_and_the_close_next(answered_and_closed: KafkaTCPTransport) -> None:
    own = KafkaTCPTransport.__dict__["_sock_recv"]
    read = _reads_before_close(getattr(own, "__wrapped__", own))
    assert read(answered_and_closed) == (ANSWER, None)
    data, err = read(answered_and_closed)
    assert data == b"" and isinstance(err, KafkaConnectionError)


def test_every_client_option_set_wraps_both_transports_once() -> None:
    kafka_python_options(KafkaSettings())
    read_before_close()  # again: still one wrapper
    for cls in (KafkaTCPTransport, KafkaSSLTransport):
        wrapper = cls.__dict__["_sock_recv"]
        assert getattr(wrapper, "_deskwatch_reads_before_close", False)
        assert not getattr(wrapper.__wrapped__, "_deskwatch_reads_before_close", False)
