"""encoder_for / encode_lines: every format's records as (host, event JSON) or their rejection."""

from __future__ import annotations

import json

import pytest
from deskwatch.producers.parse import Rejected, parse_lines
from deskwatch.producers.parse.encode import encode_event, encode_lines, encoder_for
from deskwatch.producers.parse.encode_jsonl import encode_jsonl

from .samples import make_ctx

CTX = make_ctx("agent", default_host="pc-9")
JSON_LINE = json.dumps({"@timestamp": "2026-11-29T08:00:00Z", "event": {"code": "7", "provider": "p"},
                        "host": {"name": "PC-1"}, "message": "m"}).encode()
LINES = {
    "jsonl": [JSON_LINE + b"\n", b"\n", b"{not json\n", JSON_LINE + b"\r\n"],
    "syslog": [b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed\n", b"  continued\n", b"garbage\n"],
    "cbs": [b"2016-09-28 04:30:30, Info                  CBS    Starting TrustedInstaller initialization.\n"],
}


@pytest.mark.parametrize("fmt", list(LINES), ids=list(LINES))
def test_encoded_lines_are_the_parsed_models_serialised(fmt: str) -> None:
    numbered = list(enumerate(LINES[fmt], 1))
    encoded = list(encode_lines(numbered, fmt, CTX))
    parsed = list(parse_lines(numbered, fmt, CTX))
    assert [(p, r) for p, r, _ in encoded] == [(p, r) for p, r, _ in parsed]
    assert [e if isinstance(e, Rejected) else e for _, _, e in encoded] == [
        m if isinstance(m, Rejected) else encode_event(m) for _, _, m in parsed]
    assert any(not isinstance(e, Rejected) for _, _, e in encoded)


def test_jsonl_takes_the_typed_dict_pass() -> None:
    assert encoder_for("jsonl") is encode_jsonl
