"""Content fingerprint of stage 1: host, provider, event code and the message's template.

Pure and deterministic: no faust, kafka or elasticsearch import, no state, no I/O. See
:mod:`.templatize` for why the template is a pure function of the message instead of the
output of an online miner such as drain3.
"""

from __future__ import annotations

from .digest import FINGERPRINT_VERSION, Fingerprinter, event_fingerprint, fingerprint, with_change

# ``mask`` (the function) stays in its module: re-exported here it would hide the submodule.
from .mask import MASK_RULES, WILDCARD, MaskRule
from .templatize import message_template

__all__ = [
    "FINGERPRINT_VERSION",
    "Fingerprinter",
    "MASK_RULES",
    "WILDCARD",
    "MaskRule",
    "event_fingerprint",
    "fingerprint",
    "message_template",
    "with_change",
]
