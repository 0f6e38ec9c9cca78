"""Deterministic identities: one length-prefixed hash for event ids, letter ids and signal ids."""

from __future__ import annotations

from deskwatch.schemas.dead_letter import DeadLetter
from deskwatch.schemas.event import compute_event_id
from deskwatch.schemas.identity import parts_digest


def test_the_same_parts_give_the_same_id_and_another_split_of_their_bytes_another() -> None:
    assert parts_digest((b"ab", b"c")) == parts_digest((b"ab", b"c"))
    assert parts_digest((b"ab", b"c")) != parts_digest((b"a", b"bc"))
    assert parts_digest((b"a\x1fb",)) != parts_digest((b"a", b"b")), "no byte acts as a separator"
    assert parts_digest((b"", b"x")) != parts_digest((b"x",)), "an empty part still counts"


def test_a_person_and_a_size_make_ids_of_another_kind() -> None:
    plain = parts_digest((b"x",))
    assert parts_digest((b"x",), person=b"deskwatch-sig") != plain
    assert len(plain) == 32 and len(parts_digest((b"x",), size=8)) == 16


def test_ids_written_by_earlier_versions_are_made_again_unchanged() -> None:
    # Values from before the hash was shared (2026-12-04): a re-read line or a re-refused input
    # after an upgrade must keep its id, or downstream dedup and the sink's _id would miss it.
    line = b"Dec  4 10:00:00 ws-0001 sshd[1]: ok"
    assert compute_event_id("/var/log/auth.log", "ws-0001", line, 17) == "cbb78c1be0c04f3b398bb0e931e7eba4"
    letter = DeadLetter.of(reason="invalid_json", detail="x", stage="producer", source="http",
                           position=3, original=b"{oops")
    assert letter.letter_id == "1ad97c6a4f1fd9d5306891ce6ee128f7"
