"""Read the loghub benchmark files: message content from the raw log, labels from the CSV.

The header formats are the public loghub benchmark settings (the format strings logparser uses).
Content, host and provider come from the raw ``.log`` only; the ``_structured`` CSV is read for
its ``LineId`` and ``EventId`` columns and nothing else, so no mask or template can leak from it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


class LoghubError(Exception):
    """A loghub file is missing or does not match its declared format."""


@dataclass(frozen=True)
class LoghubSet:
    """One benchmark file: where it is, how its lines read, and Drain's published GA."""

    name: str
    log_file: str
    labels_file: str
    header: str
    host_field: str | None
    provider_field: str | None
    drain_ga: float


@dataclass(frozen=True)
class LoghubLine:
    """One raw line's parts that the fingerprint sees, with its ground-truth label."""

    host: str
    provider: str
    content: str
    event_id: str


LOGHUB_SETS: tuple[LoghubSet, ...] = (
    LoghubSet(
        name="Windows",
        log_file="Windows_2k.log",
        labels_file="Windows_2k.log_structured.csv",
        header="<Date> <Time>, <Level> <Component> <Content>",
        host_field=None,  # a CBS.log names no host: one machine
        provider_field="Component",
        drain_ga=0.997,
    ),
    LoghubSet(
        name="Linux",
        log_file="Linux_2k.log",
        labels_file="Linux_2k.log_structured.csv",
        header=r"<Month> <Date> <Time> <Level> <Component>(\[<PID>\])?: <Content>",
        host_field="Level",  # loghub's name for the RFC 3164 host column
        provider_field="Component",
        drain_ga=0.690,
    ),
    LoghubSet(
        name="OpenSSH",
        # SOURCES.md: the corrected file fixes two OpenSSH labels.
        log_file="OpenSSH_2k.log",
        labels_file="OpenSSH_2k.log_structured_corrected.csv",
        header=r"<Date> <Day> <Time> <Component> sshd\[<Pid>\]: <Content>",
        host_field="Component",  # loghub calls the host column Component here
        provider_field=None,  # the format fixes the provider: sshd
        drain_ga=0.7875,
    ),
)


_MODULE_TAG = re.compile(r"^[\w.-]+\(([\w.-]+)\)$")


def default_data_dir() -> Path:
    """``<repo root>/../shared/data``: where the shared data sit beside a checkout."""
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def loghub_dir(data_dir: Path) -> Path:
    """The loghub folder: ``data_dir/loghub``, or ``data_dir`` itself when it holds the files."""
    nested = data_dir / "loghub"
    return nested if nested.is_dir() else data_dir


def header_regex(header: str) -> re.Pattern[str]:
    """Compile a logparser format string: ``<Field>`` → named group, spaces → ``\\s+``."""
    pattern = ""
    for part in re.split(r"(<[^<>]+>)", header):
        if part.startswith("<") and part.endswith(">"):
            pattern += f"(?P<{part[1:-1]}>.*?)"
        else:
            pattern += re.sub(r" +", r"\\s+", part)
    return re.compile(f"^{pattern}$")


def read_set(data_dir: Path, spec: LoghubSet) -> list[LoghubLine]:
    """Read one benchmark file: raw lines parsed by its header, joined to labels by line id."""
    labels = _read_labels(data_dir / spec.labels_file)
    lines = list(_parse_log(data_dir / spec.log_file, spec))
    if len(lines) != len(labels):
        raise LoghubError(
            f"{spec.log_file}: {len(lines)} lines match the header, "
            f"{spec.labels_file} labels {len(labels)}"
        )
    return [
        LoghubLine(host=host, provider=provider, content=content, event_id=labels[line_id])
        for line_id, (host, provider, content) in enumerate(lines, start=1)
    ]


def _parse_log(path: Path, spec: LoghubSet) -> Iterator[tuple[str, str, str]]:
    """Yield (host, provider, content) of each line that matches the header, as logparser does."""
    regex = header_regex(spec.header)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError as exc:
        raise LoghubError(f"missing loghub file {path}") from exc
    for raw in text.splitlines():
        match = regex.search(raw.strip())
        if match is None:
            continue  # logparser skips such lines, and its line ids count only matches
        fields = match.groupdict()
        host = fields[spec.host_field] if spec.host_field else ""
        provider = provider_of(fields[spec.provider_field]) if spec.provider_field else ""
        yield host, provider, fields["Content"]


def provider_of(tag: str) -> str:
    """The writer named by a syslog tag: ``prog(module)`` is written by the module.

    ``sshd(pam_unix)`` and ``su(pam_unix)`` carry text that pam_unix wrote, from one format
    string; the program in front only says who loaded the module.
    """
    match = _MODULE_TAG.match(tag)
    return match.group(1) if match else tag


def _read_labels(path: Path) -> dict[int, str]:
    """Map ``LineId`` to ``EventId``; the other columns are never read."""
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            return {int(row["LineId"]): row["EventId"] for row in csv.DictReader(handle)}
    except FileNotFoundError as exc:
        raise LoghubError(f"missing loghub labels {path}") from exc
