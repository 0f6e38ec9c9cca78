"""Import the shipped saved objects into Kibana: ``POST /api/saved_objects/_import?overwrite=true``.

Multipart form with one ``file`` part (the NDJSON) and the ``kbn-xsrf`` header Kibana requires on
every write; ``/s/<space>`` in front of the path targets a space other than the default one.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

import urllib3
from deskwatch.sinks.kibana.build import DATA_VIEWS, DEFAULT_PREFIX, view_title
from pydantic import SecretStr

NDJSON_NAME = "saved_objects.ndjson"


class KibanaImportError(RuntimeError):
    """Kibana refused the import, or answered with per-object errors."""


class KibanaUnreachableError(KibanaImportError):
    """No answer from Kibana at all (exit 69, as for Kafka and Elasticsearch)."""


@dataclass(frozen=True)
class KibanaTarget:
    """Where to import, and as whom (an API key wins over a user)."""

    url: str
    space: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    api_key: SecretStr | None = None
    timeout_s: float = 30.0

    def import_url(self) -> str:
        space = f"/s/{self.space}" if self.space and self.space != "default" else ""
        return f"{self.url.rstrip('/')}{space}/api/saved_objects/_import?overwrite=true"

    def headers(self) -> dict[str, str]:
        headers = {"kbn-xsrf": "deskwatch"}
        if self.api_key is not None:
            headers["Authorization"] = f"ApiKey {self.api_key.get_secret_value()}"
        elif self.username is not None:
            pair = f"{self.username}:{self.password.get_secret_value() if self.password else ''}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        return headers


def shipped_objects(prefix: str = DEFAULT_PREFIX) -> bytes:
    """The package's NDJSON, with data view titles moved to ``<prefix>-*`` when the prefix differs."""
    raw = resources.files("deskwatch.sinks.kibana").joinpath(NDJSON_NAME).read_bytes()
    if prefix == DEFAULT_PREFIX:
        return raw
    lines = []
    for line in raw.splitlines():
        obj = json.loads(line)
        if obj["type"] == "index-pattern" and obj["id"] in DATA_VIEWS:
            obj["attributes"]["title"] = view_title(obj["id"], prefix)
        lines.append(json.dumps(obj, sort_keys=True, separators=(",", ":")).encode())
    return b"\n".join(lines) + b"\n"


def import_objects(target: KibanaTarget, ndjson: bytes, http: urllib3.PoolManager | None = None) -> dict[str, Any]:
    """POST the objects; return Kibana's answer (``successCount`` …) or raise ``KibanaImportError``."""
    pool = http or urllib3.PoolManager()
    try:
        resp = pool.request("POST", target.import_url(), headers=target.headers(), timeout=target.timeout_s,
                            fields={"file": (NDJSON_NAME, ndjson, "application/ndjson")}, retries=False)
    except urllib3.exceptions.HTTPError as exc:
        raise KibanaUnreachableError(f"cannot reach Kibana at {target.url}: {exc}") from None
    if resp.status != 200:
        raise KibanaImportError(f"Kibana answered HTTP {resp.status}: {resp.data[:500].decode(errors='replace')}")
    answer: dict[str, Any] = json.loads(resp.data)
    if not answer.get("success", False):
        errors = [f"{e.get('type')}/{e.get('id')}: {e.get('error', {}).get('type')}" for e in answer.get("errors", [])]
        raise KibanaImportError(f"Kibana imported {answer.get('successCount', 0)} object(s) with errors: {errors}")
    return answer
