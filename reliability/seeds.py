"""Seeds of the fuzz campaign: real records from /work/shared/data, per parser format, read in place.

syslog from loghub's Linux and OpenSSH logs, cbs from loghub's Windows (CBS) log, nxlog_json from
the OTRF capture (its first lines), and jsonl / ecs_json re-shaped from those same OTRF records so
every format starts from real host names, providers, codes and messages.
"""

from __future__ import annotations

import itertools
import json
import zipfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

DATA: Final = Path("/work/shared/data")
OTRF_ZIP: Final = DATA / "otrf" / "cmd_wevtutil_modify_security_eventlog_path.zip"
OTRF_LINES: Final = 3000
EVTX_FILES: Final = ("system.evtx", "Application_no_crc32.evtx", "sample_with_a_bad_chunk_magic.evtx")


class SeedError(Exception):
    """The sample data the campaign is seeded from is missing."""


def _lines(path: Path, limit: int = 2000) -> list[bytes]:
    if not path.exists():
        raise SeedError(f"sample file {str(path)!r} is missing")
    with open(path, "rb") as handle:
        return [line.rstrip(b"\r\n") for line in itertools.islice(handle, limit) if line.strip()]


def otrf_records(limit: int = OTRF_LINES) -> list[dict[str, Any]]:
    """The first ``limit`` JSON records of the OTRF capture, read from the zip in place."""
    if not OTRF_ZIP.exists():
        raise SeedError(f"sample file {str(OTRF_ZIP)!r} is missing")
    with zipfile.ZipFile(OTRF_ZIP) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".json") and "MACOSX" not in n)
        with archive.open(name) as handle:
            return [json.loads(line) for line in itertools.islice(handle, limit) if line.strip()]


def _as_jsonl(record: dict[str, Any]) -> bytes:
    return json.dumps({
        "@timestamp": record.get("@timestamp"),
        "event": {"code": str(record.get("EventID", "")), "provider": record.get("SourceName")},
        "host": {"name": record.get("Hostname")},
        "log": {"level": "warning"},
        "message": str(record.get("Message", ""))[:2000],
    }).encode()


def _as_ecs(record: dict[str, Any]) -> bytes:
    return json.dumps({
        "@timestamp": record.get("@timestamp"),
        "ecs": {"version": "8.0.0"},
        "event": {"code": str(record.get("EventID", "")), "provider": record.get("SourceName")},
        "host": {"name": str(record.get("Hostname", "")).lower()},
        "message": str(record.get("Message", ""))[:2000],
        "winlog": {"channel": record.get("Channel"), "event_id": str(record.get("EventID", "")),
                   "provider_name": record.get("SourceName"),
                   "computer_name": record.get("Hostname"), "record_id": record.get("RecordNumber")},
    }).encode()


@lru_cache(maxsize=1)
def seeds() -> dict[str, tuple[bytes, ...]]:
    """Seed records per line format (jsonl, ecs_json, nxlog_json, syslog, cbs)."""
    records = otrf_records()
    raw_otrf = tuple(json.dumps(r).encode() for r in records)
    loghub = DATA / "loghub"
    return {
        "jsonl": tuple(_as_jsonl(r) for r in records),
        "ecs_json": tuple(_as_ecs(r) for r in records),
        "nxlog_json": raw_otrf,
        "syslog": tuple(_lines(loghub / "Linux_2k.log") + _lines(loghub / "OpenSSH_2k.log")),
        "cbs": tuple(_lines(loghub / "Windows_2k.log")),
    }


def evtx_samples() -> Iterator[Path]:
    """The sample .evtx files."""
    for name in EVTX_FILES:
        path = DATA / "evtx" / name
        if not path.exists():
            raise SeedError(f"sample file {str(path)!r} is missing")
        yield path
