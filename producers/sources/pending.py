"""Which read lines the broker does not hold yet, and so how far a checkpoint may advance.

Envelopes are per host and interleave: host A's open envelope can hold a line older than every
line of an envelope host B already had acknowledged. The checkpoint is therefore the start offset
of the oldest line that is not acknowledged (still in an open envelope, in flight, or a dead
letter in flight), never the end of the last acknowledged envelope. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Container
from dataclasses import dataclass


@dataclass(eq=False, slots=True)
class Ticket:
    """One send unit (an envelope or a dead letter) and the start of its first line; ``seq`` is set
    when it is handed to the broker."""

    first: int
    seq: int | None = None


class PendingLines:
    """Tickets in the order of their first lines; the checkpoint is the first line of the oldest open one.

    Sends are numbered 0, 1, 2 … and the broker acknowledges them in send order, so "send ``s`` is
    acknowledged" implies every send before it is too. A dead letter carries no number of its own
    through the publisher: it gets the number of the next envelope send, and is settled by that
    send's acknowledgement or by a full flush (``confirm_all``).

    One entry per ticket, not per line: a ticket's lines all start at or after its first line, and
    tickets are queued in the order of their first lines, so the oldest unacknowledged line is the
    first line of the first unacknowledged ticket. A line into an already open envelope costs one
    dict lookup (the tail: 0.1 us instead of 1 us for two deque appends per line).
    """

    def __init__(self, start: int = 0) -> None:
        self._tickets: deque[Ticket] = deque()
        self._open: dict[str, Ticket] = {}
        self._read_end = start
        self._next_seq = 0
        self._confirmed = -1
        self._highest = -1  # the highest send number any ticket carries

    def add_to_envelope(self, host: str, start: int, end: int) -> None:
        """A line [start, end) went into ``host``'s open envelope."""
        if host not in self._open:
            self.open_envelope(host, start)
        self.skip(end)

    def open_envelope(self, host: str, start: int) -> None:
        """The line at ``start`` is the first of ``host``'s new envelope (the caller then ``skip``s past it).

        For a reader of many lines at once: call it only when ``host`` is not in ``open_hosts``.
        """
        ticket = self._open[host] = Ticket(start)
        self._tickets.append(ticket)

    @property
    def open_hosts(self) -> Container[str]:
        """The hosts whose envelope is open (a line for them needs no ``open_envelope``)."""
        return self._open.keys()

    def add_dead_letter(self, start: int, end: int) -> None:
        """A line [start, end) was sent as a dead letter; settled by the next envelope's ack or a flush."""
        self._highest = max(self._highest, self._next_seq)
        self._tickets.append(Ticket(start, seq=self._next_seq))
        self.skip(end)

    def skip(self, end: int) -> None:
        """Bytes up to ``end`` were read (blank lines, or the end of lines already ticketed)."""
        self._read_end = max(self._read_end, end)

    def envelope_sent(self, host: str) -> int:
        """``host``'s open envelope is handed to the broker; returns its send number (the watermark)."""
        ticket = self._open.pop(host, None) or Ticket(self._read_end)
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
        tickets, confirmed = self._tickets, self._confirmed
        while tickets and tickets[0].seq is not None and tickets[0].seq <= confirmed:
            tickets.popleft()
        return tickets[0].first if tickets else self._read_end

    @property
    def pending(self) -> int:
        """Send units not known to be acknowledged (an upper bound until ``checkpoint`` prunes)."""
        return len(self._tickets)

    @property
    def unsent(self) -> bool:
        """Some envelope is still open (not yet handed to the broker)."""
        return bool(self._open)

    @property
    def unconfirmed(self) -> bool:
        """Something was sent and is not known to be acknowledged."""
        return self._highest > self._confirmed
