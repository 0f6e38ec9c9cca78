"""Hand-written mutators: hostile variants of real records, deterministic for a seed.

Each mutator takes the seed record and a ``random.Random`` and returns bytes. The kinds the issue
asks for are all here: invalid UTF-8, NUL bytes, 10 MB lines, deeply nested JSON, timestamps out of
range (year 0, 99999, negative epoch), plus generic byte flips, cuts and splices.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Final

Mutator = Callable[[bytes, random.Random], bytes]

HUGE_BYTES: Final = 10 * 1024 * 1024
DEEP_LEVELS: Final = 100_000
BAD_UTF8: Final = (b"\xff", b"\xc3\x28", b"\xe2\x82", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\x80")
BAD_STAMPS: Final = (b"0000-01-01T00:00:00Z", b"99999-12-31T23:59:59Z", b"-0001-01-01T00:00:00Z",
                     b"0001-01-01T00:00:00+23:59", b"9999-12-31T23:59:59-23:59", b"2026-02-30T25:61:61Z",
                     b"-62135596800", b"1e308", b"NaN", b"", b"2026-13-01", b"Feb 30 99:99:99")
ISO_STAMP: Final = re.compile(rb"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)?")
BSD_STAMP: Final = re.compile(rb"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d")


def flip_bytes(seed: bytes, rng: random.Random) -> bytes:
    """Flip a few random bits."""
    data = bytearray(seed or b"x")
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    return bytes(data)


def invalid_utf8(seed: bytes, rng: random.Random) -> bytes:
    """Insert byte sequences that are not UTF-8."""
    at = rng.randrange(len(seed) + 1)
    return seed[:at] + rng.choice(BAD_UTF8) + seed[at:]


def nul_bytes(seed: bytes, rng: random.Random) -> bytes:
    """Insert NUL bytes (one, a run, or at both ends)."""
    at = rng.randrange(len(seed) + 1)
    return b"\x00" * rng.randint(0, 3) + seed[:at] + b"\x00" * rng.randint(1, 64) + seed[at:]


def cut(seed: bytes, rng: random.Random) -> bytes:
    """Keep a random prefix or suffix."""
    at = rng.randrange(len(seed) + 1)
    return seed[:at] if rng.random() < 0.5 else seed[at:]


def splice(seed: bytes, rng: random.Random) -> bytes:
    """Repeat or delete a random slice."""
    a, b = sorted(rng.randrange(len(seed) + 1) for _ in range(2))
    return seed[:a] + seed[a:b] * rng.randint(0, 5) + seed[b:]


def bad_timestamp(seed: bytes, rng: random.Random) -> bytes:
    """Replace the record's timestamp with one out of range or malformed."""
    stamp = rng.choice(BAD_STAMPS)
    replaced, count = ISO_STAMP.subn(stamp, seed, count=1)
    if count:
        return replaced
    replaced, count = BSD_STAMP.subn(rng.choice((b"Feb 30 25:61:61", b"Xyz 99 00:00:00")), seed, count=1)
    return replaced if count else stamp + b" " + seed


def epoch_timestamp(seed: bytes, rng: random.Random) -> bytes:
    """A JSON timestamp as a number (negative, huge, fractional) instead of text."""
    number = rng.choice((b"-1", b"-99999999999999", b"253402300800", b"1e300", b"-0.5", b"0"))
    field = rb'("(?:@timestamp|EventTime|TimeCreated)"\s*:\s*)"[^"]*"'
    return re.sub(field, rb"\g<1>" + number, seed, count=1)


def deep_json(seed: bytes, rng: random.Random) -> bytes:
    """JSON nested ``DEEP_LEVELS`` deep, alone or as a field of the record."""
    opener, closer = rng.choice(((b"[", b"]"), (b'{"a":', b"}")))
    deep = opener * DEEP_LEVELS + b"1" + closer * DEEP_LEVELS
    if seed.startswith(b"{") and rng.random() < 0.5:
        return b'{"deep":' + deep + b"," + seed[1:]
    return deep


def huge_line(seed: bytes, rng: random.Random) -> bytes:
    """A 10 MB record: the seed with its message padded."""
    return seed + b" " + bytes([rng.randrange(32, 127)]) * (HUGE_BYTES - len(seed))


def random_bytes(seed: bytes, rng: random.Random) -> bytes:
    """Bytes with no relation to the seed."""
    return rng.randbytes(rng.randint(0, 512))


# Weighted: the expensive kinds (10 MB, 100k levels) are rare so a campaign stays minutes long.
MUTATORS: Final[tuple[tuple[Mutator, int], ...]] = (
    (flip_bytes, 20), (invalid_utf8, 12), (nul_bytes, 10), (cut, 12), (splice, 10),
    (bad_timestamp, 14), (epoch_timestamp, 8), (random_bytes, 6), (deep_json, 1), (huge_line, 1),
)


def mutants(seeds: Sequence[bytes], count: int, seed: int = 0,
            max_bytes: int | None = None) -> Iterator[tuple[str, bytes]]:
    """``count`` inputs as ``(mutator name, bytes)``: a tenth unmutated seeds, the rest mutants.

    The first ones are one of each mutator, so even a short run meets every kind. ``max_bytes``
    drops the 10 MB kind where a transport could not carry it (a UDP datagram).
    """
    rng = random.Random(seed)
    kinds = [(m, w) for m, w in MUTATORS if max_bytes is None or m is not huge_line]
    functions, weights = [m for m, _ in kinds], [w for _, w in kinds]
    for i in range(count):
        original = rng.choice(seeds)
        if i < len(functions):
            mutator = functions[i]
        elif rng.random() < 0.1:
            yield "seed", original
            continue
        else:
            mutator = rng.choices(functions, weights)[0]
        data = mutator(original, rng)
        yield mutator.__name__, data if max_bytes is None else data[:max_bytes]
