"""The checkpoint never passes a line the broker has not acknowledged, whatever the interleaving."""

from __future__ import annotations

import random
from typing import Any

import pytest
from deskwatch.producers.sources.pending import PendingLines

# Each step: ("line", host, start, end) | ("dead", start, end) | ("blank", end) | ("send", host)
#            | ("ack", seq) | ("flush",) ; "expect" after the steps is the checkpoint.
CASES = [
    ("nothing read", [], 0),
    ("one open line blocks", [("line", "A", 0, 10)], 0),
    ("sent but unacked blocks", [("line", "A", 0, 10), ("send", "A")], 0),
    ("acked advances to read end", [("line", "A", 0, 10), ("send", "A"), ("ack", 0)], 10),
    ("older line of A still open while B acked",
     [("line", "A", 0, 10), ("line", "B", 10, 20), ("line", "A", 20, 30), ("send", "B"), ("ack", 0)], 0),
    ("A acked, B open in the middle",
     [("line", "A", 0, 10), ("line", "B", 10, 20), ("line", "A", 20, 30), ("send", "A"), ("ack", 0)], 10),
    ("second send acked acks the first",
     [("line", "A", 0, 10), ("line", "B", 10, 20), ("send", "A"), ("send", "B"), ("ack", 1)], 20),
    ("first acked, second not",
     [("line", "A", 0, 10), ("line", "B", 10, 20), ("send", "A"), ("send", "B"), ("ack", 0)], 10),
    ("dead letter pending until a later send acks",
     [("dead", 0, 10), ("line", "A", 10, 20)], 0),
    ("dead letter settled by next envelope ack",
     [("dead", 0, 10), ("line", "A", 10, 20), ("send", "A"), ("ack", 0)], 20),
    ("dead letter after last send is not settled by that send",
     [("line", "A", 0, 10), ("send", "A"), ("dead", 10, 20), ("ack", 0)], 10),
    ("flush settles dead letters", [("line", "A", 0, 10), ("send", "A"), ("dead", 10, 20), ("flush",)], 20),
    ("flush leaves open envelopes pending", [("line", "A", 0, 10), ("line", "B", 10, 20), ("send", "B"),
                                             ("flush",)], 0),
    ("send after flush is not already confirmed",
     [("line", "A", 0, 10), ("send", "A"), ("flush",), ("line", "B", 10, 20), ("send", "B")], 10),
    ("blank lines move the read end", [("line", "A", 0, 10), ("send", "A"), ("ack", 0), ("blank", 15)], 15),
    ("blank after pending line does not pass it", [("line", "A", 0, 10), ("blank", 15)], 0),
    ("stale ack number is ignored",
     [("line", "A", 0, 10), ("send", "A"), ("ack", 0), ("line", "A", 10, 20), ("send", "A"), ("ack", 0)], 10),
]


def _apply(p: PendingLines, step: tuple[Any, ...]) -> None:  # (kind, *arguments)
    kind, *args = step
    if kind == "line":
        p.add_to_envelope(*args)
    elif kind == "dead":
        p.add_dead_letter(*args)
    elif kind == "blank":
        p.skip(*args)
    elif kind == "send":
        p.envelope_sent(*args)
    elif kind == "ack":
        p.confirm(*args)
    else:
        p.confirm_all()


@pytest.mark.parametrize(("steps", "expect"), [(s, e) for _, s, e in CASES], ids=[c[0] for c in CASES])
def test_checkpoint_after_steps(steps: list[tuple[Any, ...]], expect: int) -> None:
    p = PendingLines()
    for step in steps:
        _apply(p, step)
    assert p.checkpoint() == expect


@pytest.mark.parametrize("seed", range(40), ids=[f"seed{i}" for i in range(40)])
def test_random_interleavings_never_pass_an_unacked_line(seed: int) -> None:
    """A model of the broker (acks in send order, at random times) against the bookkeeping."""
    rng = random.Random(seed)
    p = PendingLines()
    open_lines: dict[str, list[int]] = {}  # host -> starts in its open envelope
    sends: list[list[int]] = []  # per send number, the starts it carries (dead letters: own send slot)
    dead_waiting: list[int] = []  # dead letters that wait for the next envelope send
    acked_upto = -1
    offset = 0
    for _ in range(300):
        roll = rng.random()
        if roll < 0.5:
            host = rng.choice("ABCDE")
            p.add_to_envelope(host, offset, offset + 7)
            open_lines.setdefault(host, []).append(offset)
            offset += 7
        elif roll < 0.58:
            p.add_dead_letter(offset, offset + 5)
            dead_waiting.append(offset)
            offset += 5
        elif roll < 0.75 and open_lines:
            host = rng.choice(sorted(open_lines))
            assert p.envelope_sent(host) == len(sends)
            sends.append(dead_waiting + open_lines.pop(host))
            dead_waiting = []
        elif roll < 0.95 and acked_upto + 1 < len(sends):
            acked_upto = rng.randrange(acked_upto + 1, len(sends))
            p.confirm(acked_upto)
        elif roll >= 0.95 and not open_lines:
            sends.append([])  # a flush uses up one send number (see confirm_all)
            acked_upto = len(sends) - 1
            p.confirm_all()
            dead_waiting = []
        unacked = [s for i, starts in enumerate(sends) if i > acked_upto for s in starts]
        unacked += dead_waiting + [s for starts in open_lines.values() for s in starts]
        checkpoint = p.checkpoint()
        assert checkpoint <= min(unacked, default=offset)
        assert checkpoint == min(unacked, default=offset)  # and it is not needlessly behind
