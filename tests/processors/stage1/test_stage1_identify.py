"""identify: the cached fingerprint is the plain fingerprint, whatever came before it."""

from __future__ import annotations

import pytest
from stage1_build import DISK_MSG, event

from deskwatch.processors.fingerprint import fingerprint, message_template
from deskwatch.processors.stage1.identify import TEMPLATE_MAX, identify
from deskwatch.schemas.event import WorkstationEvent

CASES = [
    ("disk", event(message=DISK_MSG)),
    ("same_template_other_host", event(message=DISK_MSG, host="PC-METZ-01")),
    ("host_case_folds", event(message=DISK_MSG, host="pc-lyon-01")),
    ("other_code", event(code="51", message=DISK_MSG)),
    ("other_provider", event(provider="Ntfs", message=DISK_MSG)),
    ("digits_masked", event(message="Service pid 4242 exited after 17 ms")),
    ("long_template_truncated", event(message="word " * 600)),
]


@pytest.mark.parametrize("ev", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_identify_equals_uncached_fingerprint(ev: WorkstationEvent) -> None:
    template = message_template(ev.message)[:TEMPLATE_MAX]
    expected = (fingerprint(ev.host.name, ev.event.provider, ev.event.code, template), template)
    assert identify(ev) == expected
    assert identify(ev) == expected  # second call: from the cache


def test_cache_keeps_different_identities_apart() -> None:
    fps = {identify(ev)[0] for _, ev in CASES if _ != "host_case_folds"}
    assert len(fps) == len(CASES) - 1
    assert identify(CASES[0][1])[0] == identify(CASES[2][1])[0]
