"""The bench's latency scenario: half the end-to-end rate, halved once more when that rate outran the pipeline."""

from __future__ import annotations

from typing import Any

import pytest

import bench.latency
from bench.__main__ import Volumes, run_latency
from bench.report import Results


def _figures(rate: float, p99: float) -> dict[str, Any]:
    return {"rate_achieved": rate, "incidents_measured": 20, "p50_ms": p99 / 2, "p99_ms": p99,
            "refresh_interval": "1s", "target_p99_ms": 1250.0}


@pytest.mark.parametrize(("p99_at_half", "rates", "halved"), [
    pytest.param(1_900.0, [500.0], False, id="sustained"),
    pytest.param(35_000.0, [500.0, 250.0], True, id="outran-halved-once"),
])
def test_latency_rate(monkeypatch: pytest.MonkeyPatch, p99_at_half: float, rates: list[float], halved: bool) -> None:
    asked: list[float] = []

    def measure(rate: float, seconds: float, hosts: int) -> dict[str, Any]:
        asked.append(rate)
        return _figures(rate, p99_at_half if len(asked) == 1 else 1_500.0)

    monkeypatch.setattr(bench.latency, "measure", measure)
    results = Results()
    results.raw["e2e"] = {"events_per_s": 1000.0}
    run_latency(Volumes(), results)
    assert asked == rates
    label = results.rows[-1].baseline_label
    assert ("not sustained" in label) is halved
    assert ("latency_unsustained" in results.raw) is halved
