"""TCP syslog framing (RFC 6587): octet counting (``LEN SP MSG``) and newline-delimited messages.

Pure and incremental: ``feed`` takes whatever bytes arrived and returns the complete messages. Each
message picks its framing by its first byte (a digit: octet counting; anything else: up to LF), as
rsyslog and syslog-ng do. A message over ``max_bytes`` raises ``FramingError``: the stream cannot
be trusted after it, so the caller dead-letters the head and closes the connection.
"""

from __future__ import annotations

from dataclasses import dataclass


class FramingError(Exception):
    """The stream broke the framing (oversize message, bad length); carries the offending head."""

    def __init__(self, reason: str, head: bytes) -> None:
        super().__init__(reason)
        self.reason = reason
        self.head = head


@dataclass
class SyslogFramer:
    """Splits one TCP stream into messages."""

    max_bytes: int
    _buf: bytes = b""

    def feed(self, data: bytes) -> list[bytes]:
        """Complete messages in ``data`` (plus what earlier calls left over)."""
        self._buf += data
        messages: list[bytes] = []
        while self._buf:
            message = self._next()
            if message is None:
                break
            if message.strip():
                messages.append(message)
        return messages

    def pending(self) -> int:
        """Bytes held of an unfinished message."""
        return len(self._buf)

    def rest(self) -> bytes:
        """Bytes of an unfinished message (at connection close: a last message without LF)."""
        rest, self._buf = self._buf, b""
        return rest.rstrip(b"\r\n\x00")

    def _next(self) -> bytes | None:
        buf = self._buf
        if buf[:1].isdigit():
            return self._octet_counted(buf)
        cut = buf.find(b"\n")
        if cut < 0:
            if len(buf) > self.max_bytes:
                raise FramingError("oversize_message", buf[: self.max_bytes])
            return None
        if cut > self.max_bytes:
            raise FramingError("oversize_message", buf[: self.max_bytes])
        self._buf = buf[cut + 1:]
        return buf[:cut].rstrip(b"\r\x00")

    def _octet_counted(self, buf: bytes) -> bytes | None:
        space = buf.find(b" ", 0, 12)
        if space < 0:
            if len(buf) >= 12 or not buf.isdigit():
                raise FramingError("invalid_framing", buf[:64])
            return None
        digits = buf[:space]
        if not digits.isdigit():
            raise FramingError("invalid_framing", buf[:64])
        length = int(digits)
        if length > self.max_bytes:
            raise FramingError("oversize_message", buf[space + 1: space + 1 + self.max_bytes])
        end = space + 1 + length
        if len(buf) < end:
            return None
        self._buf = buf[end:]
        return buf[space + 1: end].rstrip(b"\r\n\x00")
