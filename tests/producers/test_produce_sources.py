"""`deskwatch produce` reads files, standard input and every log inside a zip archive."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner
from deskwatch.processors.evaluate.loghub import default_data_dir
from deskwatch.producers.cli import _sources
from kafka import KafkaConsumer

from deskwatch.cli import main
from deskwatch.components import write_settings_file
from deskwatch.connect import kafka_python_options
from deskwatch.settings import Settings
from deskwatch.topics import read_to_end
from deskwatch.schemas.envelope import EventBatch, decode_events_record
from deskwatch.topology import EVENTS
from tests.prefixed import prefixed


def test_a_zip_yields_each_member_except_macos_resource_forks(tmp_path: Path) -> None:
    archive = tmp_path / "capture.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("capture.json", b'{"a": 1}\n{"a": 2}\n')
        z.writestr("__MACOSX/._capture.json", b"\x00\x05\x16\x07")
        z.writestr("nested/", b"")
    found = [(name, size) for name, _, size in _sources(archive)]
    assert found == [(f"{archive}!capture.json", 18)]
    (_, opener, _), = _sources(archive)
    with opener() as stream:
        assert stream.peek(4)[:4] == b'{"a"' and stream.read() == b'{"a": 1}\n{"a": 2}\n'


def test_a_plain_file_is_one_source(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_bytes(b"x\n")
    (name, opener, size), = _sources(log)
    assert (name, size) == (str(log), 2)
    with opener() as stream:
        assert stream.read() == b"x\n"


@pytest.mark.integration
def test_produce_reads_an_evtx_file_inside_a_zip_and_from_standard_input(settings: Settings, tmp_path: Path) -> None:
    """Both used to fail: the evtx reader was given 'archive.zip!member' (or '-') as a path."""
    root = Path(os.environ.get("DESKWATCH_SHARED_DATA", default_data_dir()))
    plain = root / "evtx" / "system.evtx"
    if not plain.is_file():
        pytest.skip(f"{plain} not found (set DESKWATCH_SHARED_DATA)")
    archive = tmp_path / "capture.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(plain, "logs/system.evtx")
    s = prefixed(settings, 1)
    env = {"DESKWATCH_CONFIG": str(write_settings_file(s, tmp_path / "settings.yaml"))}
    zipped = CliRunner().invoke(main, ["produce", str(archive)], env=env)
    assert zipped.exit_code == 0, zipped.output
    assert f"{archive}!logs/system.evtx: read=1881 published=1881 rejected=0" in zipped.output
    with plain.open("rb") as stdin:  # a real pipe: CliRunner's input has no peek(), standard input has
        piped = subprocess.run([str(Path(sys.executable).parent / "deskwatch"), "produce", "-"], stdin=stdin,
                               env={**os.environ, **env}, capture_output=True, text=True, timeout=120, check=False)
    assert piped.returncode == 0 and "-: read=1881 published=1881 rejected=0" in piped.stdout, piped.stderr
    assert sum(r.value.count(b'"message"') for r in _records(s, EVENTS.name(s.kafka))) == 2 * 1881


@pytest.mark.integration
def test_tail_reads_a_syslog_file_in_the_year_zone_and_host_it_is_given(settings: Settings, tmp_path: Path) -> None:
    """RFC 3164 lines carry no year and no zone; `ingest tail` takes them as `produce` does
    (it used to take neither option, and read every such line as UTC of the current year)."""
    s = prefixed(settings, 1, tail={"state_dir": tmp_path / "state"})
    env = {"DESKWATCH_CONFIG": str(write_settings_file(s, tmp_path / "settings.yaml"))}
    auth = tmp_path / "auth.log"
    auth.write_bytes(b"Jun 14 15:16:01 combo sshd[1]: Failed password for root\n"
                     b"Jun 14 15:16:02 sshd[2]: a line without a host\n")
    tailed = CliRunner().invoke(main, ["ingest", "tail", "--until-eof", "--year", "2005", "--tz", "Europe/Paris",
                                       "--host", "fallback", str(auth)], env=env)
    assert tailed.exit_code == 0, tailed.output
    assert f"{auth}: read=2 published=2 rejected=0" in tailed.output
    events = [e for r in _records(s, EVENTS.name(s.kafka))
              for e in cast(EventBatch, decode_events_record(r.value)).events]
    assert [(e.host.name, e.timestamp.isoformat()) for e in events] == [
        ("combo", "2005-06-14T15:16:01+02:00"), ("fallback", "2005-06-14T15:16:02+02:00")]  # CEST


def _records(s: Settings, topic: str) -> list[Any]:
    consumer = KafkaConsumer(enable_auto_commit=False, **kafka_python_options(s.kafka))
    try:
        return [r for records in read_to_end(consumer, topic) for r in records]
    finally:
        consumer.close()


@pytest.mark.integration
def test_produce_and_tail_say_what_they_cannot_read_without_a_traceback(settings: Settings, tmp_path: Path) -> None:
    """A missing path, a folder, an unknown format name, a file whose format cannot be told: each
    is named, with the exit code of its kind; the readable files of the same run still go."""
    s = prefixed(settings, 1)
    env = {"DESKWATCH_CONFIG": str(write_settings_file(s, tmp_path / "settings.yaml"))}
    (tmp_path / "folder").mkdir()
    garbage, empty, hostless = tmp_path / "bin.dat", tmp_path / "empty.log", tmp_path / "cbs.log"
    garbage.write_bytes(b"\x00\x01garbage\xff\n")
    empty.write_bytes(b"")
    hostless.write_bytes(b"2026-11-29 08:00:01, Info                  CBS    Starting TrustedInstaller\n")

    def run(*args: str) -> Any:
        return CliRunner().invoke(main, list(args), env=env)

    for args, said in [(["produce", str(tmp_path / "missing.log")], "does not exist"),
                       (["produce", str(tmp_path / "folder")], "is a directory"),
                       (["produce", "--format", "bogus", str(empty)], "'bogus' is not one of"),
                       (["ingest", "tail", "--until-eof", str(tmp_path / "missing.log")], "does not exist"),
                       (["ingest", "tail", "--format", "evtx", str(empty)], "'evtx' is not one of"),
                       (["produce", "--tz", "Mars/Olympus", str(empty)], "'Mars/Olympus' is not a time zone"),
                       (["ingest", "tail", "--tz", "Mars/Olympus", str(empty)], "'Mars/Olympus' is not a time zone")]:
        result = run(*args)
        assert result.exit_code == 2 and said in result.output and result.exception is not None, (args, result.output)
        assert isinstance(result.exception, SystemExit), result.exception  # click's usage error, no traceback
    mixed = run("produce", str(garbage), str(empty), str(hostless))
    assert mixed.exit_code == 1 and isinstance(mixed.exception, SystemExit), mixed.output
    assert f"Error: cannot tell the format of '{garbage}'" in mixed.output and "(name it with --format)" in mixed.output
    assert f"{empty}: read=0 published=0 rejected=0 (-)" in mixed.output
    assert f"{hostless}: read=1 published=0 rejected=1 (missing_host=1)" in mixed.output
    assert "give one with --host" in mixed.output
    tail = run("ingest", "tail", "--until-eof", str(garbage))
    assert tail.exit_code == 1 and "(name it with --format)" in tail.output and isinstance(tail.exception, SystemExit)
