"""``deskwatch evaluate``: quality measurements of the pure core against public labelled data."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import click

from .loghub import LoghubError, default_data_dir
from .measure import GroupingResult, measure_grouping

_HEADERS = (
    "dataset",
    "lines",
    "groups found",
    "groups true",
    "GA deskwatch",
    "GA template only",
    "GA Drain (published)",
    "verdict",
)


@click.group()
def evaluate() -> None:
    """Measure deskwatch's pure core against labelled public data."""


@click.command()
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="DESKWATCH_SHARED_DATA",
    default=None,
    help="shared data folder holding loghub/ (default: <repo root>/../shared/data)",
)
def grouping(data_dir: Path | None) -> None:
    """Grouping accuracy of the content fingerprint on loghub Windows, Linux and OpenSSH."""
    try:
        results = measure_grouping(data_dir or default_data_dir())
    except LoghubError as exc:  # say which folder was read and how to name another
        where = data_dir or default_data_dir()
        raise click.ClickException(
            f"{exc}: no loghub data under {where} (its loghub/ folder, or the files themselves); "
            "name the shared data folder with --data or DESKWATCH_SHARED_DATA") from exc
    click.echo(render_table(results))
    failed = [result.dataset for result in results if not result.passed]
    if failed:
        raise click.ClickException(f"below Drain's published GA: {', '.join(failed)}")


evaluate.add_command(grouping)


def render_table(results: list[GroupingResult]) -> str:
    """A plain-text table, one row per dataset, columns aligned."""
    rows = [_HEADERS] + [_row(result) for result in results]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADERS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _row(result: GroupingResult) -> tuple[str, ...]:
    return (
        result.dataset,
        str(result.lines),
        str(result.groups_found),
        str(result.groups_true),
        f"{result.ga:.4f}",
        f"{result.ga_template_only:.4f}",
        f"{result.drain_ga:.4f}",
        "≥" if result.passed else "<",
    )


@click.command("incidents")
@click.option("--seeds", default="1,2,3", show_default=True, help="comma-separated simulator seeds")
@click.option("--hours", type=float, default=24.0, show_default=True, help="simulated duration per seed")
@click.option("--tick-every", "tick_s", type=float, default=300.0, show_default=True,
              help="event-time seconds between ticks (timeouts fire at most this late)")
@click.option("--show-errors", is_flag=True, help="list false positives and missed injections")
def incidents(seeds: str, hours: float, tick_s: float, show_errors: bool) -> None:
    """Precision and recall of the incidents found on simulated fleets, against their injected truth."""
    from .simulated import evaluate_seeds, render_scores

    try:
        chosen = [int(s) for s in seeds.split(",") if s.strip()]
    except ValueError as exc:
        raise click.BadParameter(f"--seeds {seeds!r}: {exc}") from exc
    rows = evaluate_seeds(chosen, timedelta(hours=hours), timedelta(seconds=tick_s))
    click.echo(render_scores(rows, show_errors))


evaluate.add_command(incidents)
