"""Parsers of the producers: raw records of each source format into ``WorkstationEvent``s.

Every line parser has the shape ``parse_<format>(raw, position, ctx) -> WorkstationEvent |
Rejected``: pure, and it never raises on bad input. ``frame_records`` joins continuation lines
first; ``read_evtx`` reads binary .evtx files; ``parser_for``/``detect_format`` pick the parser.
"""

from deskwatch.producers.parse.cbs import parse_cbs
from deskwatch.producers.parse.contract import (
    LineParser,
    ParseError,
    ParseResult,
    Rejected,
    SourceContext,
    UnknownFormatError,
)
from deskwatch.producers.parse.dispatch import PARSERS, detect_format, parse_lines, parser_for
from deskwatch.producers.parse.ecs_json import parse_ecs_json
from deskwatch.producers.parse.evtx_file import read_evtx
from deskwatch.producers.parse.evtx_record import parse_evtx_record, render_fields
from deskwatch.producers.parse.frame import frame_records
from deskwatch.producers.parse.jsonl import parse_jsonl
from deskwatch.producers.parse.nxlog_json import parse_nxlog_json
from deskwatch.producers.parse.syslog import parse_syslog

__all__ = [
    "PARSERS",
    "LineParser",
    "ParseError",
    "ParseResult",
    "Rejected",
    "SourceContext",
    "UnknownFormatError",
    "detect_format",
    "frame_records",
    "parse_cbs",
    "parse_ecs_json",
    "parse_evtx_record",
    "parse_jsonl",
    "parse_lines",
    "parse_nxlog_json",
    "parse_syslog",
    "parser_for",
    "read_evtx",
    "render_fields",
]
