"""Where everything of the local stack lives under ``stack.home`` (outside the repository and HOME)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deskwatch.versions import ELASTICSEARCH_VERSION, KAFKA_VERSION


@dataclass(frozen=True)
class Layout:
    """Paths of the Maven cache, the engine installs, their data and logs, and the state file."""

    home: Path
    maven_repo: Path | None = None  # a shared cache: a second (secured) home needs no new download

    @property
    def m2(self) -> Path:
        """Maven's local repository: kept here so it stays warm when CI runs with an empty HOME."""
        return self.maven_repo or self.home / "m2"

    @property
    def kafka_dist(self) -> Path:
        return self.home / "dist" / f"kafka-{KAFKA_VERSION}"

    @property
    def kafka_libs(self) -> Path:
        return self.kafka_dist / "libs"

    @property
    def es_download(self) -> Path:
        return self.home / "dist" / "downloads"

    @property
    def es_dist(self) -> Path:
        return self.home / "dist" / f"elasticsearch-{ELASTICSEARCH_VERSION}"

    @property
    def kafka_run(self) -> Path:
        return self.home / "run" / "kafka"

    @property
    def kafka_data(self) -> Path:
        return self.kafka_run / "data"

    @property
    def kafka_log(self) -> Path:
        return self.kafka_run / "kafka.log"

    @property
    def es_run(self) -> Path:
        return self.home / "run" / "elasticsearch"

    @property
    def es_data(self) -> Path:
        return self.es_run / "data"

    @property
    def es_logs(self) -> Path:
        return self.es_run / "logs"

    @property
    def es_log(self) -> Path:
        return self.es_run / "console.log"

    @property
    def state_file(self) -> Path:
        return self.home / "state.json"

    @property
    def secure(self) -> Path:
        """Certificates and the generated passwords of the secured stack (mode 0700)."""
        return self.home / "secure"

    @property
    def credentials_file(self) -> Path:
        return self.secure / "credentials.json"

    @property
    def ca_pem(self) -> Path:
        """The CA certificate in PEM: what Python clients verify both engines against."""
        return self.secure / "ca.pem"
