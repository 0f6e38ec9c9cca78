"""The body signature receivers check: ``X-Deskwatch-Signature: sha256=<hex HMAC-SHA256 of the body>``."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Deskwatch-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def signature(secret: bytes, body: bytes) -> str:
    """``sha256=<hex digest>`` of ``body`` keyed by ``secret``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the body's signature (constant-time comparison)."""
    return header is not None and hmac.compare_digest(signature(secret, body), header)
