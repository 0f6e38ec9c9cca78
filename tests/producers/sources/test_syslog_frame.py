"""RFC 6587 framing: octet counting and newline framing, split arbitrarily across reads."""

from __future__ import annotations

import pytest
from deskwatch.producers.sources.syslog_frame import FramingError, SyslogFramer

MSG_A = b"<34>1 2026-11-29T08:00:00Z PC-1 app - - - hello"
MSG_B = b"<13>Nov 29 08:00:01 PC-2 sshd[1]: world"


@pytest.mark.parametrize(("stream", "expect"), [
    (b"%d %s%d %s" % (len(MSG_A), MSG_A, len(MSG_B), MSG_B), [MSG_A, MSG_B]),
    (MSG_A + b"\n" + MSG_B + b"\n", [MSG_A, MSG_B]),
    (MSG_A + b"\r\n" + MSG_B + b"\r\n", [MSG_A, MSG_B]),
    (b"%d %s" % (len(MSG_A), MSG_A) + MSG_B + b"\n", [MSG_A, MSG_B]),
    (b"%d %s\n" % (len(MSG_A) + 1, MSG_A), [MSG_A]),
    (b"\n\n" + MSG_B + b"\n", [MSG_B]),
], ids=["octet-counting", "lf", "crlf", "mixed", "octet-count-includes-trailing-lf", "blank-lines"])
@pytest.mark.parametrize("chunk", [1, 7, 10_000], ids=["byte-by-byte", "chunks-of-7", "whole"])
def test_framing(stream: bytes, expect: list[bytes], chunk: int) -> None:
    framer = SyslogFramer(max_bytes=4096)
    got: list[bytes] = []
    for i in range(0, len(stream), chunk):
        got += framer.feed(stream[i:i + chunk])
    assert got == expect
    assert framer.rest() == b""


def test_unterminated_last_line_is_left_for_close() -> None:
    framer = SyslogFramer(max_bytes=4096)
    assert framer.feed(MSG_B) == []
    assert framer.rest() == MSG_B


@pytest.mark.parametrize(("stream", "reason"), [
    (b"99999 <34>x", "oversize_message"),
    (b"<34>" + b"x" * 200, "oversize_message"),
    (b"<34>" + b"x" * 200 + b"\n", "oversize_message"),
    (b"12x4 <34>abc", "invalid_framing"),
    (b"1234567890123 ", "invalid_framing"),
], ids=["octet-count-too-big", "line-too-long-unterminated", "line-too-long", "bad-length", "length-too-long"])
def test_framing_errors(stream: bytes, reason: str) -> None:
    framer = SyslogFramer(max_bytes=100)
    with pytest.raises(FramingError) as caught:
        framer.feed(stream)
    assert caught.value.reason == reason
    assert len(caught.value.head) <= 100
