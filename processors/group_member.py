"""A worker's identity in its consumer group: a static member, so a restart is not a rebalance.

Decision: static membership (Kafka's ``group.instance.id``) by default. A worker restarted after a
crash, an upgrade or a stall exit (processors/heartbeat.py) joined as a new member, and the
coordinator held the whole group until the old member's session had timed out (faust's
``broker_session_timeout``, 60 s): nothing was processed meanwhile. A static member that comes back
under the same id takes its partitions back at once. reliability/soak.py, 3 minutes of 60 hosts at
~30 events/s, the processor SIGKILLed at minute 1 and started again at once (2026-12-04, same seed,
one run each): records not yet committed peaked at 2,311 and the worker sat idle ~60 s as a dynamic
member; 204, back under 100 within 10 s, as a static one. The cost: a worker stopped for good keeps
its partitions until that timeout (a static member does not leave the group when it stops), as a
crashed one already did, unless it is removed (``deskwatch members remove processor <id>``,
deskwatch/members.py: 12.2 s to drain in the fault campaign against 66.9 s); a worker that starts
elsewhere under a new id is a new member as before.

The id must be unique per live worker, or the broker fences one of the two. ``auto`` derives it from
the app id, the host name and the data dir, and the worker holds a lock on its data dir: two
workers of one app on one host need a data dir each (as they do for their tables), and a second one
started on a busy data dir stops at once with a clear error instead of fencing the first.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO

from deskwatch.flock import lock_within
from deskwatch.settings import ProcessorSettings

LOCK_NAME = "worker.lock"


class DatadirBusy(RuntimeError):
    """Another live worker holds this data dir."""


def group_instance_id(p: ProcessorSettings, hostname: str) -> str | None:
    """The static member id this worker joins its group with; None for a dynamic member."""
    if p.instance_id == "off":
        return None
    if p.instance_id != "auto":
        return p.instance_id
    where = hashlib.sha256(str(p.datadir.resolve()).encode()).hexdigest()[:10]
    return f"{p.app_id}@{hostname}:{where}"


def hold_datadir(datadir: Path, wait_s: float = 10.0) -> IO[str]:
    """Lock ``datadir`` for this process's life (the kernel drops the lock with the process, even on
    SIGKILL); keep the returned handle open. A previous worker may still be exiting: wait up to
    ``wait_s``, then raise ``DatadirBusy``."""
    datadir.mkdir(parents=True, exist_ok=True)
    handle = lock_within(datadir / LOCK_NAME, wait_s)
    if handle is None:
        raise DatadirBusy(f"another processor worker uses the data dir {datadir}: give each worker its own "
                          "processor.datadir (its static member id in the group is derived from it)")
    return handle
