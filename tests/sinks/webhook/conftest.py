"""A real HTTP receiver on 127.0.0.1 for the webhook tests: scripted statuses, every request kept."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next scripted status for its path (200 once the script runs out)."""

    url: str
    script: dict[str, list[int]] = field(default_factory=dict)
    requests: list[Received] = field(default_factory=list)

    def on(self, path: str, *statuses: int) -> str:
        """Script ``path``'s answers; return its full URL."""
        self.script[path] = list(statuses)
        return self.url + path


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                state.requests.append(Received(self.path, {k: v for k, v in self.headers.items()}, body))
                queue = state.script.get(self.path, [])
                status = queue.pop(0) if queue else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
