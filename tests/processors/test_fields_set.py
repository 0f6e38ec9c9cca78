"""Frozen models' fields sets shared: only where nothing can change them in place."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from deskwatch.processors.fields_set import every_field_set, share_fields_set, share_nested
from deskwatch.processors.stage1 import ContentWindow, HostState

T = datetime(2026, 11, 29, 9, tzinfo=UTC)
WINDOW: dict[str, Any] = dict(  # ContentWindow's fields, by name
    window_start=T, window_s=600, first_seen=T, last_seen=T, count=2, rule_ids=("r",), group_keys=("g",))
def test_a_decoded_instance_shares_the_set_only_when_frozen_and_fully_set() -> None:
    decoded = ContentWindow.model_validate_json(window_json := ContentWindow(**WINDOW).model_dump_json())
    share_fields_set(decoded)
    assert decoded.__pydantic_fields_set__ is every_field_set(ContentWindow)
    assert decoded == ContentWindow.model_validate_json(window_json)
    sparse = ContentWindow.model_validate_json(b'{"window_start":"2026-11-29T09:00:00Z","window_s":1,'
                                               b'"first_seen":"2026-11-29T09:00:00Z",'
                                               b'"last_seen":"2026-11-29T09:00:00Z","count":1}')
    share_fields_set(sparse)
    assert sparse.__pydantic_fields_set__ is not every_field_set(ContentWindow)

    class Mutable(BaseModel):
        a: int = 0

    assert every_field_set(Mutable) is None, "assignment adds to a mutable instance's own set"
    mutable = Mutable(a=1)
    own = mutable.__pydantic_fields_set__
    share_fields_set(mutable)
    assert mutable.__pydantic_fields_set__ is own


def test_share_nested_reaches_models_in_dicts_lists_and_fields() -> None:
    state = HostState.model_validate_json(HostState(host="a", content={"f": ContentWindow(**WINDOW)}).model_dump_json())
    window = state.content["f"]
    assert window.__pydantic_fields_set__ is not every_field_set(ContentWindow)
    share_nested(state)
    assert window.__pydantic_fields_set__ is every_field_set(ContentWindow)
