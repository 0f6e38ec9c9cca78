"""Choosing a parser: by name, and by a file's name and first bytes."""

from __future__ import annotations

import itertools
import zipfile
from pathlib import Path

import pytest
from deskwatch.producers.parse.dispatch import SNIFF_LINES, choose_format, member_name, parse_file
from deskwatch.producers.parse import (
    PARSERS,
    UnknownFormatError,
    detect_format,
    parse_cbs,
    parse_lines,
    parse_syslog,
    parser_for,
)
from deskwatch.schemas.event import WorkstationEvent

from .samples import make_ctx

NXLOG = (
    b'{"SourceName":"ESENT","Level":"2","Channel":"Application","Hostname":"DC01","EventID":412}\n'
)
ECS = b'{"@timestamp":"2024-01-01T00:00:00Z","winlog":{"event_id":"1"},"host":{"name":"pc"}}\n'
OWN = (
    b'{"@timestamp":"2024-01-01T00:00:00Z","event":{"code":"1","provider":"p"},'
    b'"host":{"name":"pc"}}\n'
)


@pytest.mark.parametrize(
    ("name", "head", "fmt"),
    [
        ("System.evtx", b"ElfFile\x00\x00", "evtx"),
        ("renamed.bin", b"ElfFile\x00\x00", "evtx"),
        ("Empty.EVTX", b"", "evtx"),
        ("a.json", NXLOG, "nxlog_json"),
        ("a.json", ECS, "ecs_json"),
        ("a.json", b'{"ecs":{"version":"8"},"message":"x"}', "ecs_json"),
        ("a.log", OWN, "jsonl"),
        ("a.json", b"\xef\xbb\xbf\n" + NXLOG, "nxlog_json"),
        ("a.json", NXLOG[:-6], "nxlog_json"),
        ("a.json", ECS[:50], "ecs_json"),
        ("x.ndjson", b'{"something": "else"}', "jsonl"),
        ("messages", b"Jun 14 15:16:01 combo sshd[1]: x\n", "syslog"),
        ("remote.log", b"<34>1 2003-10-11T22:14:15.003Z h su - ID47 - x", "syslog"),
        ("remote.log", b"<13>Feb  5 17:32:18 sshd[42]: x", "syslog"),
        ("CBS.log", b"2016-09-28 04:30:30, Info                  CBS    Loaded\r\n", "cbs"),
    ],
    ids=[
        "evtx-ext-and-magic",
        "evtx-magic",
        "evtx-ext",
        "nxlog",
        "ecs-winlog",
        "ecs-version",
        "own",
        "bom-blank",
        "nxlog-cut",
        "ecs-cut",
        "ndjson-extension",
        "rfc3164",
        "rfc5424",
        "pri-3164",
        "cbs",
    ],
)
def test_detect_format(name: str, head: bytes, fmt: str) -> None:
    assert detect_format(Path(name), head) == fmt


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("a.txt", b"hello world"),
        ("a.json", b'{"unknown": 1}'),
        ("a.log", b""),
        ("a.json", b"[1,2]"),
    ],
    ids=["text", "unknown-json", "empty", "json-array"],
)
def test_detect_format_refuses_to_guess(name: str, head: bytes) -> None:
    with pytest.raises(UnknownFormatError, match="cannot tell the format"):
        detect_format(Path(name), head)


def test_a_foreign_first_line_does_not_hide_the_format_of_the_lines_after_it() -> None:
    assert detect_format(Path("a.log"), b"-- log rotated --\n\n" + OWN) == "jsonl"
    assert detect_format(Path("auth"), b"garbage\nJun 14 15:16:01 combo sshd[1]: x\n") == "syslog"
    with pytest.raises(UnknownFormatError, match=r"from 'one' or the 2 lines after it"):
        detect_format(Path("a.txt"), b"one\ntwo\nthree\n")
    lines = b"".join(b"line %d\n" % n for n in range(SNIFF_LINES)) + OWN
    with pytest.raises(UnknownFormatError, match=f"or the {SNIFF_LINES - 1} lines after it"):
        detect_format(Path("a.log"), lines)  # only the first SNIFF_LINES lines are read


def test_a_whole_input_is_read_in_the_named_format_else_the_sniffed_one_and_empty_reads_as_none(
        tmp_path: Path) -> None:
    assert choose_format("cbs", Path("a.json"), ECS) == "cbs"  # named: not sniffed
    assert choose_format("auto", Path("a.log"), NXLOG) == "nxlog_json"
    assert choose_format("auto", Path("a.log"), b"") == "jsonl"  # no record in any format
    with pytest.raises(UnknownFormatError, match="cannot tell the format of 'a.log'"):
        choose_format("auto", Path("a.log"), b"\n")  # a blank line is not nothing: it cannot be told
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    assert list(parse_file(empty, make_ctx(str(empty)))) == []
    archive = tmp_path / "capture.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("x!y/empty.log", b"")
        z.writestr("logs/a.evtx", b"")
    assert list(parse_file(archive, make_ctx(str(archive)))) == []


def test_an_archive_member_is_sniffed_by_its_own_name(tmp_path: Path) -> None:
    archive = tmp_path / "a!b.zip"  # a "!" in the archive's own path does not cut its members' names
    assert member_name(archive, f"{archive}!logs/x!1.jsonl") == Path("logs/x!1.jsonl")
    assert member_name(Path("plain.log"), "plain.log") == Path("plain.log")
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("logs/x!1.jsonl", b'{"no": "host"}\n')  # JSON lines by the member's extension alone
        z.writestr("logs/x!2.log", b'{"no": "host"}\n')
    results = parse_file(archive, make_ctx(str(archive)))
    assert [getattr(r, "reason", None) for _, _, r in itertools.islice(results, 1)] == ["missing_host"]
    with pytest.raises(UnknownFormatError, match=r"cannot tell the format of 'logs/x!2.log'"):
        next(results)


def test_parse_file_reads_a_zip_archive_member_by_member(tmp_path: Path) -> None:
    archive = tmp_path / "capture.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a/events.json", OWN + b"not json\n")
        z.writestr("b/auth.log", b"Jun 14 15:16:01 combo sshd[1]: x\n")
        z.writestr("__MACOSX/._auth.log", b"\x00\x05\x16\x07")
    got = [(pos, type(result).__name__, getattr(result, "reason", None))
           for pos, _, result in parse_file(archive, make_ctx(str(archive), year=2024))]
    assert got == [(1, "WorkstationEvent", None), (2, "Rejected", "invalid_json"), (1, "WorkstationEvent", None)]
    sources = {r.event.id for _, _, r in parse_file(archive, make_ctx(str(archive), year=2024))
               if isinstance(r, WorkstationEvent)}
    assert len(sources) == 2  # each member is its own source: line 1 of each has its own id


def test_an_evtx_file_inside_a_zip_reads_as_the_file_itself(shared_data: Path, tmp_path: Path) -> None:
    """Copied to a private temporary file first (the reader seeks, and reads damaged chunks back)."""
    plain = shared_data / "evtx" / "sample_with_a_bad_chunk_magic.evtx"
    archive = tmp_path / "capture.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(plain, "logs/bad.evtx")
    zipped = [(pos, getattr(r, "reason", None)) for pos, _, r in parse_file(archive, make_ctx(str(archive)))]
    direct = [(pos, getattr(r, "reason", None)) for pos, _, r in parse_file(plain, make_ctx(str(plain)))]
    assert zipped == direct and len(zipped) == 272  # 269 records, 2 damaged chunks, 1 bad timestamp
    assert {r for _, r in zipped} == {None, "damaged_evtx_chunk", "invalid_timestamp"}


def test_parser_for_every_format_and_unknown() -> None:
    assert parser_for("cbs") is parse_cbs and parser_for("syslog") is parse_syslog
    assert set(PARSERS) == {"jsonl", "ecs_json", "nxlog_json", "syslog", "cbs", "evtx"}
    with pytest.raises(UnknownFormatError, match="'xml'"):
        parser_for("xml")


def test_parse_lines_frames_then_parses() -> None:
    lines = [
        (1, b"2016-09-28 04:30:30, Info   CBS    a"),
        (2, b"  continued"),
        (3, b"2016-09-28 04:30:31, Info   CBS    b"),
    ]
    results = list(parse_lines(lines, "cbs", make_ctx("cbs", default_host="pc")))
    assert [(pos, raw) for pos, raw, _ in results] == [
        (1, lines[0][1] + b"\n  continued"),
        (3, lines[2][1]),
    ]
    first = results[0][2]
    assert isinstance(first, WorkstationEvent) and isinstance(results[1][2], WorkstationEvent)
    assert first.message == "a\n  continued"


def test_read_file_with_encoded_lines_gives_what_parse_file_gives_encoded(shared_data: Path, tmp_path: Path) -> None:
    """A publishing source (the drop folder) reads a file's lines straight to (host, JSON bytes):
    record for record the same positions, originals, rejections and bytes as ``parse_file``'s
    models through their serializer; an archive's evtx member still comes as models."""
    from deskwatch.producers.parse.dispatch import read_file
    from deskwatch.producers.parse.encode import encode_event, encode_lines

    archive = tmp_path / "capture.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a/events.json", OWN + b"not json\n" + OWN.replace(b'"pc"', b'"pc2"'))
        z.writestr("b/auth.log", b"Jun 14 15:16:01 combo sshd[1]: x\nJun 14 15:16:02 combo sshd[1]: y\n")
        z.writestr("c/app.log", NXLOG + ECS)
        z.write(shared_data / "evtx" / "Application_no_crc32.evtx", "d/app.evtx")
    ctx = make_ctx(str(archive), year=2024)
    parsed = list(parse_file(archive, ctx))
    encoded = list(read_file(archive, ctx, "auto", encode_lines))
    assert len(encoded) == len(parsed) > 20
    for (pos, raw, want), (pos2, raw2, got) in zip(parsed, encoded, strict=True):
        assert (pos2, raw2) == (pos, raw)
        if isinstance(want, WorkstationEvent) and not isinstance(got, WorkstationEvent):
            assert got == encode_event(want)
        else:  # a rejection, or an evtx record (models either way)
            assert got == want
