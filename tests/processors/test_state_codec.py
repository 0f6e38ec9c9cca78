"""State records are stored compressed with a dictionary, read back exactly, and refused clearly."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deskwatch.processors.host_table import state_records
from deskwatch.processors.stage1 import ContentWindow, HostState, IdBucket
from deskwatch.processors.state_codec import ZSTD_V1, StateCodecError, pack, unpack

T = datetime(2026, 11, 29, 9, tzinfo=UTC)
HOST = "PC-LYON-01"
WINDOW = ContentWindow(window_start=T, window_s=600, first_seen=T, last_seen=T, count=2)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@given(st.dictionaries(st.text(), json_values, max_size=8))
def test_any_json_object_reads_back_byte_for_byte(document: dict[str, object]) -> None:
    raw = orjson.dumps(document)
    stored = pack(raw)
    assert unpack(stored) == raw
    assert len(stored) <= len(raw), "never larger than the JSON itself"


def test_a_host_state_is_stored_in_a_fraction_of_its_json() -> None:
    windows = {f"{n:032x}": WINDOW.model_copy(update={"count": n}) for n in range(40)}
    state = HostState(host=HOST, watermark=T, content=windows, id_buckets={0: IdBucket(ids={"e1": 1})})
    records = state_records(HOST, state)
    stored = sum(len(value) for _, value in records)
    plain = sum(len(unpack(value)) for _, value in records)
    assert {value[0] for _, value in records if len(unpack(value)) > 100} == {ZSTD_V1}
    assert stored < 0.5 * plain, f"{stored} stored bytes for {plain} of JSON"


def test_a_record_compression_does_not_shrink_is_stored_plain() -> None:
    assert pack(b"{}") == b"{}"
    assert unpack(b"{}") == b"{}"


def test_plain_json_written_before_compression_is_read_as_it_is() -> None:
    raw = ContentWindow(window_start=T, window_s=600, first_seen=T, last_seen=T, count=1).model_dump_json().encode()
    assert unpack(raw) is raw


@pytest.mark.parametrize(("record", "says"), [
    (b"", "empty state record"),
    (b"\x02abc", "starts with byte 2"),
    (b"\x01not zstd at all", "does not decompress"),
    (b'[{"a": 1}]', "starts with byte 91"),
])
def test_an_unknown_or_damaged_record_is_refused_with_its_reason(record: bytes, says: str) -> None:
    with pytest.raises(StateCodecError, match=says):
        unpack(record)
