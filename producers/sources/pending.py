"""Which read lines the broker does not hold yet, and so how far a checkpoint may advance.

Envelopes are per host and interleave: host A's open envelope can hold a line older than every
line of an envelope host B already had acknowledged. The checkpoint is therefore the start offset
of the oldest line that is not acknowledged (still in an open envelope, in flight, or a dead
letter in flight), never the end of the last acknowledged envelope. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass


@dataclass(eq=False)
class Ticket:
    """One send unit (an envelope or a dead letter); ``seq`` is set when it is handed to the broker."""

    seq: int | None = None


class PendingLines:
    """Lines in read order with the ticket that will carry them; the checkpoint is the oldest open one.

    Sends are numbered 0, 1, 2 … and the broker acknowledges them in send order, so "send ``s`` is
    acknowledged" implies every send before it is too. A dead letter carries no number of its own
    through the publisher: it gets the number of the next envelope send, and is settled by that
    send's acknowledgement or by a full flush (``confirm_all``).
    """

    def __init__(self, start: int = 0) -> None:
        # Two parallel queues, not one of (start, ticket) tuples: 100k open lines would be 100k
        # GC-tracked tuples that every full collection walks; ints and shared tickets are not.
        self._starts: deque[int] = deque()
        self._tickets: deque[Ticket] = deque()
        self._open: dict[str, Ticket] = {}
        self._read_end = start
        self._next_seq = 0
        self._confirmed = -1
        self._highest = -1  # the highest send number any ticket carries

    def add_to_envelope(self, host: str, start: int, end: int) -> None:
        """A line [start, end) went into ``host``'s open envelope."""
        ticket = self._open.get(host)
        if ticket is None:
            ticket = self._open[host] = Ticket()
        self._push(start, end, ticket)

    def add_dead_letter(self, start: int, end: int) -> None:
        """A line [start, end) was sent as a dead letter; settled by the next envelope's ack or a flush."""
        self._highest = max(self._highest, self._next_seq)
        self._push(start, end, Ticket(seq=self._next_seq))

    def skip(self, end: int) -> None:
        """Bytes up to ``end`` were read and carry no record (blank lines)."""
        self._read_end = max(self._read_end, end)

    def envelope_sent(self, host: str) -> int:
        """``host``'s open envelope is handed to the broker; returns its send number (the watermark)."""
        ticket = self._open.pop(host, None) or Ticket()
        ticket.seq = self._next_seq
        self._next_seq += 1
        self._highest = ticket.seq
        return ticket.seq

    def confirm(self, seq: int | None) -> None:
        """The broker acknowledged send ``seq`` (and so every earlier one)."""
        if seq is not None and seq > self._confirmed:
            self._confirmed = seq

    def confirm_all(self) -> None:
        """Everything sent so far is acknowledged (after a flush); open envelopes stay pending."""
        self._confirmed = self._next_seq
        self._next_seq += 1  # dead letters numbered before the flush must not wait for the next send

    def checkpoint(self) -> int:
        """The offset to resume from: start of the oldest unacknowledged line, else the read end."""
        starts, tickets, confirmed = self._starts, self._tickets, self._confirmed
        while tickets and tickets[0].seq is not None and tickets[0].seq <= confirmed:
            tickets.popleft()
            starts.popleft()
        return starts[0] if starts else self._read_end

    @property
    def pending(self) -> int:
        """Lines not known to be acknowledged (an upper bound until ``checkpoint`` prunes)."""
        return len(self._starts)

    @property
    def unsent(self) -> bool:
        """Some envelope is still open (not yet handed to the broker)."""
        return bool(self._open)

    @property
    def unconfirmed(self) -> bool:
        """Something was sent and is not known to be acknowledged."""
        return self._highest > self._confirmed

    def _push(self, start: int, end: int, ticket: Ticket) -> None:
        self._starts.append(start)
        self._tickets.append(ticket)
        if end > self._read_end:
            self._read_end = end
