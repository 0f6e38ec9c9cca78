"""Sources of the producers: file tail with checkpoints, drop folder, syslog and HTTP listeners,
inventory publishing. Each reads records, parses them with ``deskwatch.producers.parse`` and
publishes through one ``Publisher``; nothing is acknowledged to a sender, and no checkpoint moves,
before the broker holds the records.
"""

from deskwatch.producers.sources.checkpoint import Checkpoint, CheckpointError, CheckpointStore
from deskwatch.producers.sources.follow import Change, FileFollower, Line
from deskwatch.producers.sources.pending import PendingLines, Ticket
from deskwatch.producers.sources.tail import FileTail, TailOptions

__all__ = [
    "Change",
    "Checkpoint",
    "CheckpointError",
    "CheckpointStore",
    "FileFollower",
    "FileTail",
    "Line",
    "PendingLines",
    "TailOptions",
    "Ticket",
]
