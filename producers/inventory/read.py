"""Read a GLPI / Active Directory inventory export (CSV or JSON) into ``Asset``s.

A bad row never stops the read: it comes back as a ``RowRejection`` naming the row, the column
and the value, so an operator can fix the export. Only a file that cannot be read at all (missing,
undecodable JSON document, no host column anywhere) raises ``InventoryError``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from deskwatch.producers.inventory.columns import (
    FIELD_ALIASES,
    map_columns,
    normalise_os_build,
    parse_device_class,
)
from deskwatch.schemas.asset import Asset, DeviceClass

_JSON_LINES_SUFFIXES = {".jsonl", ".ndjson"}
_JSON_LIST_KEYS = ("data", "items", "computers", "assets", "rows", "value", "results")
_CSV_DELIMITERS = (",", ";", "\t", "|")
_HOST_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.$-]*$")
_HOST_CHARS = "host name may hold only letters, digits, '-', '_', '.' and '$'"
_UNKNOWN_CLASS = "unknown device class; expected workstation, laptop or server"

Row = tuple[int, object]  # (row number, the decoded record: a mapping, or anything for JSON)


class InventoryError(ValueError):
    """The export as a whole cannot be read (missing file, broken JSON document, no host column)."""


@dataclass(frozen=True, slots=True)
class RowRejection:
    """One export row that did not become an ``Asset``, and why."""

    row: int  # CSV: line number in the file (header = 1); JSON: 1-based index; JSON lines: line
    column: str | None
    value: str | None
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}" + (f", column {self.column!r}" if self.column else "")
        shown = f", value {self.value!r}" if self.value is not None else ""
        return f"{where}{shown}: {self.reason}"


def read_inventory(path: str | Path) -> tuple[list[Asset], list[RowRejection]]:
    """Read a CSV, JSON or JSON-lines export; returns the assets and the rejected rows."""
    file = Path(path)
    text = _read_text(file)
    if file.suffix.lower() in _JSON_LINES_SUFFIXES:
        rows: Iterable[Row] = _json_lines_rows(text)
    elif file.suffix.lower() == ".json" or text.lstrip()[:1] in ("[", "{"):
        rows = _json_rows(text, file)
    else:
        rows = _csv_rows(text)
    return parse_rows(rows)


def parse_rows(rows: Iterable[Row]) -> tuple[list[Asset], list[RowRejection]]:
    """Turn decoded rows into assets; duplicates of an earlier host are rejected."""
    assets: list[Asset] = []
    rejections: list[RowRejection] = []
    first_row: dict[str, int] = {}
    column_cache: dict[tuple[str, ...], dict[str, str]] = {}
    for number, record in rows:
        outcome = _row_to_asset(number, record, column_cache)
        if isinstance(outcome, Asset):
            key = outcome.host.casefold()
            if key in first_row:
                outcome = RowRejection(
                    number,
                    _host_header(record, column_cache),
                    outcome.host,
                    f"duplicate host, first seen at row {first_row[key]}",
                )
            else:
                first_row[key] = number
                assets.append(outcome)
                continue
        if outcome is not None:
            rejections.append(outcome)
    if _no_host_column_at_all(assets, rejections):
        raise InventoryError(f"no host column; expected one of {', '.join(FIELD_ALIASES['host'])}")
    return assets, rejections


def _no_host_column_at_all(assets: list[Asset], rejections: list[RowRejection]) -> bool:
    """True when rows were read but none had any host column: the wrong file, not bad rows."""
    return not assets and bool(rejections) and all(r.reason == _NO_HOST_COLUMN for r in rejections)


_NO_HOST_COLUMN = "no host column in this row"


def _row_to_asset(
    number: int, record: object, cache: dict[tuple[str, ...], dict[str, str]]
) -> Asset | RowRejection | None:
    """One row's asset, its rejection, or None for a row with no value at all."""
    if isinstance(record, _Undecodable):
        return RowRejection(
            number, None, _show(record.line) if record.line else None, record.reason
        )
    if not isinstance(record, Mapping):
        return RowRejection(number, None, _show(record), "expected an object with named fields")
    surplus = record.get(None) or []  # csv.DictReader puts surplus fields under the key None
    if all(_blank(v) for k, v in record.items() if k is not None) and all(_blank(v) for v in surplus):
        return None  # a row of blank cells, however many, is not a row of data
    if None in record:
        return RowRejection(
            number,
            None,
            _show(record[None]),
            "more fields than the header has columns (unquoted delimiter?)",
        )
    columns = _columns_of(record, cache)
    if "host" not in columns:
        return RowRejection(number, None, None, _NO_HOST_COLUMN)
    values: dict[str, Any] = {}
    for field, header in columns.items():
        text, problem = _as_text(record.get(header))
        if problem:
            return RowRejection(number, header, _show(record.get(header)), problem)
        if text:
            values[field] = text
    return _build_asset(number, values, columns)


def _build_asset(
    number: int, values: dict[str, Any], columns: dict[str, str]
) -> Asset | RowRejection:
    """Normalise the mapped values and validate them as an ``Asset``."""
    host = values.get("host", "")
    if not _HOST_NAME.match(host):
        reason = "empty host name" if not host else _HOST_CHARS
        return RowRejection(number, columns["host"], host, reason)
    if "os_build" in values:
        values["os_build"] = normalise_os_build(values["os_build"])
    device_class = _device_class(values)
    if device_class is None:
        column, value = columns["device_class"], values["device_class"]
        return RowRejection(number, column, value, _UNKNOWN_CLASS)
    values["device_class"] = device_class
    try:
        return Asset(**values)
    except ValidationError as err:
        first = err.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        value = _show(values.get(field))
        return RowRejection(number, columns.get(field, field), value, first["msg"])


def _device_class(values: dict[str, Any]) -> DeviceClass | None:
    """The named class (None when unknown), else ``server`` for a server OS, else workstation."""
    if "device_class" in values:
        return parse_device_class(values["device_class"])
    return "server" if "server" in values.get("os_build", "").lower() else "workstation"


def _columns_of(
    record: Mapping[Any, Any], cache: dict[tuple[str, ...], dict[str, str]]
) -> dict[str, str]:
    """The field→header map for this row's keys, computed once per distinct key set."""
    keys = tuple(str(k) for k in record)
    if keys not in cache:
        cache[keys] = map_columns(keys)
    return cache[keys]


def _host_header(record: object, cache: dict[tuple[str, ...], dict[str, str]]) -> str | None:
    """The header the host came from, for a row already known to be a mapping with a host."""
    assert isinstance(record, Mapping)
    return _columns_of(record, cache).get("host")


def _as_text(value: object) -> tuple[str, str | None]:
    """A cell as stripped text, or a reason it is not text-like."""
    if value is None:
        return "", None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return "", f"expected text, got {type(value).__name__}"
    return str(value).strip(), None


def _blank(value: object) -> bool:
    """True for a missing or whitespace-only cell."""
    return value is None or (isinstance(value, str) and not value.strip())


def _show(value: object) -> str:
    """A value as the rejection quotes it, shortened."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return text if len(text) <= 200 else text[:197] + "..."


def _read_text(file: Path) -> str:
    """The file's text: UTF-8 (with or without BOM), else Windows-1252 as Excel writes it."""
    try:
        raw = file.read_bytes()
    except OSError as err:
        raise InventoryError(f"cannot read inventory {str(file)!r}: {err.strerror}") from err
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _csv_rows(text: str) -> Iterator[Row]:
    """CSV rows with their line numbers; the delimiter is the most frequent one in the header."""
    header = text.split("\n", 1)[0]
    delimiter = (
        max(_CSV_DELIMITERS, key=header.count) if any(d in header for d in _CSV_DELIMITERS) else ","
    )
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as err:  # e.g. a field over csv.field_size_limit(): reject, read on
            yield reader.line_num, _Undecodable(f"unreadable CSV row: {err}", "")
            continue
        yield reader.line_num, record


def _json_rows(text: str, file: Path) -> Iterator[Row]:
    """Rows of a JSON array, or of the array under a usual key (``data``, ``value``…)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as whole_error:
        if text.lstrip().startswith("{") and "\n" in text.strip():
            yield from _json_lines_rows(text)  # JSON lines saved as .json
            return
        raise InventoryError(f"{str(file)!r} is not valid JSON: {whole_error}") from whole_error
    if isinstance(document, dict):
        listed = next(
            (document[k] for k in _JSON_LIST_KEYS if isinstance(document.get(k), list)), None
        )
        document = listed if listed is not None else [document]
    if not isinstance(document, list):
        raise InventoryError(f"{str(file)!r}: expected a JSON array of objects")
    yield from enumerate(document, start=1)


def _json_lines_rows(text: str) -> Iterator[Row]:
    """One object per non-blank line; an undecodable line is a row of its own."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as err:
            yield number, _Undecodable(f"invalid JSON: {err.msg}", line)


@dataclass(frozen=True, slots=True)
class _Undecodable:
    """A JSON line that could not be decoded, carried to the row parser as a row."""

    reason: str
    line: str
