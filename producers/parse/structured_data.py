"""RFC 5424 STRUCTURED-DATA: ``[id k="v" ...][id2 ...] MSG`` into labels and the message.

Label keys are ``<SD-ID>/<PARAM-NAME>``: a dot would make Elasticsearch expand the key into an
object under ``labels``, whose values the mapping declares as plain keywords.
"""

from __future__ import annotations

import re
from typing import Final

NAME: Final = r'[^\s=\]"]{1,32}'
ELEMENT_START: Final = re.compile(r"\[(?P<id>" + NAME + r")")
PARAM: Final = re.compile(r" (?P<name>" + NAME + r')="(?P<value>(?:[^"\\]|\\.)*)"', re.DOTALL)
UNESCAPE: Final = re.compile(r'\\(["\\\]])')


def parse_structured_data(rest: str) -> tuple[dict[str, str], str] | str:
    """Labels and the message after the SD, or a description of what is malformed."""
    if rest.startswith("-"):
        return {}, rest[2:] if rest.startswith("- ") else rest[1:]
    labels: dict[str, str] = {}
    at = 0
    while at < len(rest) and rest[at] == "[":
        element = ELEMENT_START.match(rest, at)
        if element is None:
            return f"bad SD-ID at offset {at}"
        at = element.end()
        while (param := PARAM.match(rest, at)) is not None:
            labels[f"{element['id']}/{param['name']}"] = UNESCAPE.sub(r"\1", param["value"])
            at = param.end()
        if at >= len(rest) or rest[at] != "]":
            return f"unterminated SD-ELEMENT {element['id']!r}"
        at += 1
    if at == 0:
        return "neither '-' nor '[' where STRUCTURED-DATA starts"
    return labels, rest[at + 1 :] if rest[at : at + 1] == " " else rest[at:]
