"""``deskwatch kibana import`` against a stub of Kibana's ONE import endpoint.

No Kibana runs on these machines: the stub (http.server on 127.0.0.1) implements only
``POST /api/saved_objects/_import`` closely enough to check the request deskwatch sends —
method, path and query, ``kbn-xsrf`` and auth headers, and the multipart ``file`` part's content.
It proves the request's shape, not that a real Kibana accepts the objects.
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, cast

import pytest
from click.testing import CliRunner
from deskwatch.sinks.kibana.build import NDJSON

from deskwatch.cli import main
from deskwatch.components import write_settings_file
from deskwatch.settings import load_settings


@pytest.fixture
def stub() -> Iterator[dict[str, Any]]:
    seen: dict[str, Any] = {"answer": None}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.update(method="POST", path=self.path, headers=dict(self.headers.items()), body=body)
            answer = seen["answer"] or {"success": True, "successCount": body.count(b'"coreMigrationVersion"'),
                                        "successResults": []}
            data = json.dumps(answer).encode()
            self.send_response(seen.get("status", 200))
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    seen["url"] = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield seen
    server.shutdown()
    server.server_close()


def _file_part(headers: dict[str, str], body: bytes) -> tuple[str | None, bytes]:
    raw = f"Content-Type: {headers['Content-Type']}\r\n\r\n".encode() + body
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
    [part] = list(message.iter_parts())
    assert part.get_param("name", header="content-disposition") == "file"
    # a leaf part's decoded payload is its bytes (typeshed's get_payload also returns Message, Any)
    return part.get_filename(), cast(bytes, part.get_payload(decode=True))


def _run(tmp_path: Path, *args: str) -> Any:
    config = write_settings_file(load_settings(), tmp_path / "settings.yaml")
    return CliRunner().invoke(main, ["kibana", "import", *args], env={"DESKWATCH_CONFIG": str(config)})


@pytest.mark.parametrize(("args", "path", "auth"), [
    ([], "/api/saved_objects/_import?overwrite=true", None),
    (["--space", "ops"], "/s/ops/api/saved_objects/_import?overwrite=true", None),
    (["--user", "elastic", "--password", "pw"], "/api/saved_objects/_import?overwrite=true",
     "Basic " + base64.b64encode(b"elastic:pw").decode()),
    (["--api-key", "a2V5"], "/api/saved_objects/_import?overwrite=true", "ApiKey a2V5"),
], ids=["default-space", "space", "basic", "api-key"])
def test_import_request(stub: dict[str, Any], tmp_path: Path, args: list[str], path: str, auth: str | None) -> None:
    result = _run(tmp_path, "--url", stub["url"], *args)
    assert result.exit_code == 0, result.output
    assert "imported 15 saved object(s)" in result.output
    assert stub["method"] == "POST" and stub["path"] == path
    assert stub["headers"]["kbn-xsrf"] and stub["headers"].get("Authorization") == auth
    assert stub["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")
    filename, content = _file_part(stub["headers"], stub["body"])
    assert filename == "saved_objects.ndjson" and content == NDJSON.read_bytes()


@pytest.mark.parametrize(("status", "answer", "message"), [
    (401, {"statusCode": 401}, "HTTP 401"),
    (200, {"success": False, "successCount": 9, "errors": [{"type": "lens", "id": "x", "error": {"type": "conflict"}}]},
     "lens/x: conflict"),
], ids=["unauthorised", "object-errors"])
def test_import_failure_is_reported(stub: dict[str, Any], tmp_path: Path, status: int, answer: dict[str, Any],
                                    message: str) -> None:
    stub.update(status=status, answer=answer)
    result = _run(tmp_path, "--url", stub["url"])
    assert result.exit_code == 1 and message in result.output


def test_an_unreachable_kibana_is_exit_69_as_for_the_engines(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on: bound, never listened to
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        result = _run(tmp_path, "--url", f"http://127.0.0.1:{port}")
    assert result.exit_code == 69 and f"cannot reach Kibana at http://127.0.0.1:{port}" in result.output
