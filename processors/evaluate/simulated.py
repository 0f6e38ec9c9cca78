"""Evaluate the default rule pack on simulated fleets: simulate, replay, score, and tabulate; and
where the simulator injected a cause, where the suspected changes ranked it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

from deskwatch.processors.rules import RuleSet, load_default_pack
from deskwatch.processors.rules.host_change import ChangeDefinition, load_changes
from deskwatch.producers.simulate import FleetSpec, simulate_fleet
from deskwatch.settings import WebhookSettings

from .causes import CauseCheck, DigestLog, check_cause
from .incidents import IncidentScore, notifications, score
from .replay import replay

EVALUATION_START = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)  # a Monday: work hours happen
_HEADERS = ("seed", "events", "injected", "found", "matched inj", "matched found", "absorbed",
            "also fired", "false pos", "precision", "recall", "events/incident", "never absorbed",
            "events/never absorbed", "notified", "notified, no hold", "GPO wave = 1 parent",
            "cause ranked 1st")


@dataclass(frozen=True)
class SeedScore:
    """One seed's score (seed None = the sum over seeds), and its injected causes' rankings."""

    seed: int | None
    score: IncidentScore
    causes: tuple[CauseCheck, ...] = ()


def evaluate_seed(seed: int, duration: timedelta, tick_every: timedelta, rules: RuleSet | None = None,
                  definitions: Sequence[ChangeDefinition] | None = None) -> SeedScore:
    """Simulate one default fleet, replay it through both cores, score it and rank its causes."""
    sim = simulate_fleet(FleetSpec(seed=seed, start=EVALUATION_START, duration=duration))
    definitions = load_changes() if definitions is None else definitions
    log = DigestLog.for_definitions(definitions)
    rules = rules or load_default_pack()
    result = replay(iter(sim.events), rules, sim.assets, tick_every, source="simulator",
                    on_digests=log.add, changes=definitions)
    found = list(result.incidents.values())
    checks = tuple(c for t in sim.truth if (c := check_cause(t, found, log, definitions)) is not None)
    held, unheld = (notifications(result.changes, result.change_times, rules.children, wait)
                    for wait in (WebhookSettings().absorb_wait_s, 0.0))
    scored = replace(score(result.incidents, result.changes, sim.truth, result.events),
                     notified=held, notified_unheld=unheld)
    return SeedScore(seed, scored, checks)


def evaluate_seeds(seeds: Sequence[int], duration: timedelta, tick_every: timedelta) -> list[SeedScore]:
    """Every seed's score, then the overall one."""
    rules, definitions = load_default_pack(), load_changes()
    rows = [evaluate_seed(seed, duration, tick_every, rules, definitions) for seed in seeds]
    return rows + [SeedScore(None, total([r.score for r in rows]), tuple(c for r in rows for c in r.causes))]


def total(scores: Sequence[IncidentScore]) -> IncidentScore:
    """The sum of several scores (ratios recomputed from the sums)."""
    return IncidentScore(
        events=sum(s.events for s in scores), injected=sum(s.injected for s in scores),
        found=sum(s.found for s in scores), matched_injected=sum(s.matched_injected for s in scores),
        matched_found=sum(s.matched_found for s in scores), absorbed_found=sum(s.absorbed_found for s in scores),
        also_fired_found=sum(s.also_fired_found for s in scores),
        false_positives=[i for s in scores for i in s.false_positives],
        missed=[t for s in scores for t in s.missed],
        gpo_wave=None,  # the overall row counts the seeds whose wave was one parent instead
        top_level=sum(s.top_level for s in scores),
        notified=sum(s.notified for s in scores), notified_unheld=sum(s.notified_unheld for s in scores),
    )


def render_scores(rows: Sequence[SeedScore], show_errors: bool = False) -> str:
    """A plain-text table, one row per seed and one overall; optionally the errors below it."""
    per_seed = [r for r in rows if r.seed is not None]
    ones = sum(1 for r in per_seed if r.score.gpo_wave is not None and r.score.gpo_wave.one_parent)
    table = [_HEADERS] + [_row(r, f"{ones}/{len(per_seed)} seeds") for r in rows]
    widths = [max(len(row[c]) for row in table) for c in range(len(_HEADERS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table]
    if show_errors:
        lines += _errors(per_seed)
    return "\n".join(lines)


def _row(row: SeedScore, overall_wave: str) -> tuple[str, ...]:
    s = row.score
    wave = overall_wave if row.seed is None else _wave(s)
    return (
        "all" if row.seed is None else str(row.seed), str(s.events), str(s.injected), str(s.found),
        str(s.matched_injected), str(s.matched_found), str(s.absorbed_found), str(s.also_fired_found),
        str(len(s.false_positives)), f"{s.precision:.3f}", f"{s.recall:.3f}", f"{s.noise_reduction:.1f}",
        str(s.top_level), f"{s.operator_reduction:.1f}", str(s.notified), str(s.notified_unheld), wave,
        _causes(row.causes, overall=row.seed is None),
    )


def _causes(checks: Sequence[CauseCheck], overall: bool) -> str:
    """How many injected causes the suspects ranked first; for one seed, the cause and its figures."""
    if not checks:
        return "no cause injected"
    first = sum(1 for c in checks if c.rank == 1)
    if overall or len(checks) > 1:
        return f"{first}/{len(checks)}"
    (check,) = checks
    top = check.suspects[0] if check.suspects else None
    if check.rank is None or top is None:
        return f"NO ({check.cause} not among {len(check.suspects)} suspects)"
    lead = next(s for s in check.suspects if s.name == check.cause)
    verdict = "yes" if check.rank == 1 else f"NO (rank {check.rank})"
    return (f"{verdict}: {check.cause} on {len(lead.hosts)}/{lead.failing} failing hosts, "
            f"{100 * lead.base_rate:.0f} % of {lead.others} others")


def _wave(s: IncidentScore) -> str:
    w = s.gpo_wave
    if w is None:
        return "no wave injected"
    verdict = "yes" if w.one_parent else "NO"
    return f"{verdict} ({w.parents} parent, {w.absorbed}/{w.children} host incidents absorbed)"


def _errors(rows: Sequence[SeedScore]) -> list[str]:
    out: list[str] = []
    for r in rows:
        for i in r.score.false_positives:
            out.append(f"seed {r.seed} false positive: {i.rule_id} {i.group_key} hosts={i.hosts[:3]} "
                       f"events={i.event_count} {i.first_seen:%H:%M}-{i.last_seen:%H:%M} "
                       f"{'/'.join(i.providers)} {'/'.join(i.event_codes)} {i.sample_message[:60]!r}")
        for c in r.causes:
            if c.rank != 1:
                listed = ", ".join(f"{s.name} ({s.score:.2f})" for s in c.suspects) or "none"
                out.append(f"seed {r.seed} cause {c.cause} ranked {c.rank or '-'} for {c.incident_id}: {listed}")
        for t in r.score.missed:
            out.append(f"seed {r.seed} missed: {t.scenario} rule={t.rule_id} hosts={len(t.hosts)} "
                       f"{t.start:%H:%M}-{t.end:%H:%M} events={t.expected_event_count}")
    return out
