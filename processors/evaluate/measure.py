"""Measure the content fingerprint's grouping against the loghub labels.

Each line's predicted group is its full fingerprint (host, provider, code, template), the key
that stage 1's content dedup uses. The template alone is measured too: it is what Drain's
published figures group by (the ``Content`` column), so the two columns separate what the masks
do from what host and provider add. Host and provider come from the raw line's header; a
syslog tag ``prog(module)`` counts as provider ``module`` (see :func:`.loghub.provider_of`):
counted as the whole tag, su's and sshd's identical pam_unix lines split and Linux falls to
0.633 (measured), below Drain's figure; the producers' syslog parser should read tags the same
way for the fingerprint to group them in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deskwatch.processors.fingerprint import fingerprint, message_template

from .loghub import LOGHUB_SETS, LoghubLine, LoghubSet, loghub_dir, read_set
from .score import grouping_accuracy


@dataclass(frozen=True)
class GroupingResult:
    """One dataset's figures, next to Drain's published grouping accuracy."""

    dataset: str
    lines: int
    groups_found: int
    groups_true: int
    ga: float
    ga_template_only: float
    drain_ga: float

    @property
    def passed(self) -> bool:
        """At least as high as Drain's published figure."""
        return self.ga >= self.drain_ga


def measure_set(spec: LoghubSet, lines: list[LoghubLine]) -> GroupingResult:
    """Score one dataset's fingerprints and templates against its ``EventId`` labels."""
    templates = [message_template(line.content) for line in lines]
    # loghub formats carry no event code: the code field is empty for every line.
    predicted = [
        fingerprint(line.host, line.provider, "", template)
        for line, template in zip(lines, templates, strict=True)
    ]
    truth = [line.event_id for line in lines]
    return GroupingResult(
        dataset=spec.name,
        lines=len(lines),
        groups_found=len(set(predicted)),
        groups_true=len(set(truth)),
        ga=grouping_accuracy(predicted, truth),
        ga_template_only=grouping_accuracy(templates, truth),
        drain_ga=spec.drain_ga,
    )


def measure_grouping(data_dir: Path) -> list[GroupingResult]:
    """Measure every declared loghub set found under ``data_dir``."""
    folder = loghub_dir(data_dir)
    return [measure_set(spec, read_set(folder, spec)) for spec in LOGHUB_SETS]
