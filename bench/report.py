"""The benchmark table and its JSON: one row per figure, each with its baseline, ratio and target.

A row's target is checked against its ratio when it has a baseline (``ratio``), or against the
figure itself (``figure``: memory, latency). The JSON carries the commit, the machine's load and
every scenario's raw figures, so two runs can be compared line by line.
"""

from __future__ import annotations

import json
import operator
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from rich.console import Console
from rich.table import Table

COMPARE: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le}
SYMBOL = {">=": "≥", "<=": "≤"}


class ReportError(Exception):
    """A results file that cannot be read back."""


@dataclass(frozen=True)
class Target:
    """``on`` (the ratio or the figure) must be ``op`` ``value``."""

    op: Literal[">=", "<="]
    value: float
    on: Literal["ratio", "figure"] = "ratio"

    def met(self, row: Row) -> bool | None:
        """True / False, or None when the compared quantity is missing."""
        got = row.ratio if self.on == "ratio" else row.figure
        return None if got is None else COMPARE[self.op](got, self.value)

    def text(self, unit: str) -> str:
        """E.g. ``ratio ≥ 0.70`` or ``≤ 1024 MiB``."""
        where = "ratio " if self.on == "ratio" else ""
        tail = "" if self.on == "ratio" else f" {unit}"
        return f"{where}{SYMBOL[self.op]} {self.value:g}{tail}"


@dataclass(frozen=True)
class Row:
    """One line of the table: what deskwatch did, against what, and whether the target is met."""

    scenario: str
    figure: float | None
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: Target | None = None
    note: str = ""
    ratio_of: Literal["figure/baseline", "baseline/figure", "none"] = "figure/baseline"
    # the median of each repetition's own ratio, where a scenario pairs deskwatch and its baseline
    # per repetition: it is the ratio shown then (the medians' ratio can mix a slow rep of one with
    # a fast rep of the other)
    paired_ratio: float | None = None

    @property
    def ratio(self) -> float | None:
        """figure ÷ baseline (rates) or baseline ÷ figure (durations), None without a baseline;
        the paired ratio where there is one."""
        if self.paired_ratio is not None:
            return self.paired_ratio
        if self.figure is None or not self.baseline or self.ratio_of == "none":
            return None
        if self.ratio_of == "figure/baseline":
            return self.figure / self.baseline
        return self.baseline / self.figure if self.figure else None

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.target.met(self)

    def as_json(self) -> dict[str, Any]:
        """The row with its derived ratio and verdict, target spelled out."""
        data = asdict(self)
        data.update(ratio=self.ratio, met=self.met, target=self.target and self.target.text(self.unit))
        return data


@dataclass
class Results:
    """Every row of one run, each scenario's raw figures, and how long each took."""

    rows: list[Row] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


def number(value: float | None, unit: str = "") -> str:
    """A figure for the table: thousands grouped, three significant digits below 100."""
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return f"{text} {unit}".strip()


def verdict(met: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "—"}[met]


def table(rows: Sequence[Row], title: str = "deskwatch benchmarks (medians)") -> Table:
    """The rich table the command prints."""
    out = Table(title=title)
    for column in ("scenario", "deskwatch", "baseline", "ratio", "target", "result"):
        out.add_column(column, justify="left" if column in ("scenario", "baseline") else "right")
    for row in rows:
        base = f"{number(row.baseline, row.unit)} ({row.baseline_label})" if row.baseline is not None else row.baseline_label or "—"
        ratio = "—" if row.ratio is None else f"{row.ratio:.3g}"
        target = "—" if row.target is None else row.target.text(row.unit)
        out.add_row(row.scenario, number(row.figure, row.unit), base, ratio, target, verdict(row.met))
    return out


def markdown(rows: Sequence[Row]) -> str:
    """The same table as Markdown, for a README or a commit message."""
    lines = ["| scenario | deskwatch | baseline | ratio | target | result |", "|---|---:|---|---:|---:|---|"]
    for row in rows:
        base = f"{number(row.baseline, row.unit)} ({row.baseline_label})" if row.baseline is not None else row.baseline_label or "—"
        ratio = "—" if row.ratio is None else f"{row.ratio:.3g}"
        target = "—" if row.target is None else row.target.text(row.unit)
        lines.append(f"| {row.scenario} | {number(row.figure, row.unit)} | {base} | {ratio} | {target} | "
                     f"{verdict(row.met)} |")
    return "\n".join(lines)


def print_results(results: Results, console: Console | None = None) -> None:
    """The table, then any scenario that failed, then the seconds each scenario took."""
    console = console or Console()
    console.print(table(results.rows))
    for name, error in results.errors.items():
        console.print(f"[red]{name} failed:[/red] {error}")
    console.print("seconds per scenario: " + ", ".join(f"{k} {v:.0f}" for k, v in results.seconds.items()))


def commit() -> str:
    """The checked-out commit (with ``+dirty`` when tracked files differ), or ``unknown``."""
    here = Path(__file__).resolve().parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--"], cwd=here).returncode != 0
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def document(results: Results, options: dict[str, Any]) -> dict[str, Any]:
    """The JSON document of one run."""
    return {
        "format": 1,
        "commit": commit(),
        "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "options": options,
        "rows": [row.as_json() for row in results.rows],
        "seconds": results.seconds,
        "errors": results.errors,
        "scenarios": results.raw,
    }


def write_json(path: Path, doc: dict[str, Any]) -> Path:
    """Write ``doc`` to ``path`` (folders created); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    return path


def read_rows(path: Path) -> dict[str, dict[str, Any]]:
    """A results file's rows by scenario name, for comparing two runs."""
    try:
        doc = json.loads(path.read_text())
        return {row["scenario"]: row for row in doc["rows"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ReportError(f"{path}: not a deskwatch bench results file ({exc})") from exc


def compare(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> Table:
    """Ratios (or figures, where there is no ratio) of two runs side by side."""
    out = Table(title="compared with the previous results")
    for column in ("scenario", "before", "now", "change"):
        out.add_column(column, justify="left" if column == "scenario" else "right")
    for name, row in new.items():
        key = "ratio" if row.get("ratio") is not None else "figure"
        before = old.get(name, {}).get(key)
        now = row.get(key)
        change = "—" if before in (None, 0) or now is None else f"{now / before - 1:+.0%}"
        out.add_row(name, number(before), number(now), change)
    return out
