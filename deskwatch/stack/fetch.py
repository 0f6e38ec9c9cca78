"""Fetch the engines from Maven Central into ``stack.home`` once; later runs find them complete."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

from deskwatch.stack.errors import FetchError
from deskwatch.stack.layout import Layout
from deskwatch.stack.progress import Report
from deskwatch.stack.render import render_kafka_pom
from deskwatch.stack.supervise import tail
from deskwatch.versions import ELASTICSEARCH_VERSION

DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
ES_ARTIFACT = (
    f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ELASTICSEARCH_VERSION}:zip"
)
MARKER = ".complete.json"


def is_complete(folder: Path) -> bool:
    """True when ``folder`` holds every file its completion marker lists."""
    marker = folder / MARKER
    if not marker.exists():
        return False
    files = json.loads(marker.read_text())["files"]
    return bool(files) and all((folder / name).is_file() for name in files)


def _mark_complete(folder: Path) -> None:
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    (folder / MARKER).write_text(json.dumps({"files": files}))


def _run_mvn(args: list[str], *, what: str, cwd: Path, layout: Layout, report: Report) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise FetchError(f"{what}: 'mvn' is not on PATH; install Maven or use Docker")
    command = [mvn, "-q", "-B", f"-Dmaven.repo.local={layout.m2}", *args]
    log = cwd / "mvn.log"
    report(f"{what}: fetching from Maven Central ({' '.join(command[1:4])} …)")
    start = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        while proc.poll() is None:
            time.sleep(5)
            if proc.poll() is None:
                report(f"{what}: still fetching, {time.monotonic() - start:.0f}s")
    if proc.returncode != 0:
        raise FetchError(
            f"{what}: {' '.join(command)} exited {proc.returncode}; last lines of {log}:\n{tail(log)}"
        )
    report(f"{what}: fetched in {time.monotonic() - start:.0f}s")


def fetch_kafka(layout: Layout, report: Report) -> None:
    """The Kafka broker's runtime jars into ``layout.kafka_libs`` (skipped when complete)."""
    if is_complete(layout.kafka_dist):
        report(f"kafka: jars present in {layout.kafka_libs}")
        return
    layout.kafka_dist.mkdir(parents=True, exist_ok=True)
    (layout.kafka_dist / "pom.xml").write_text(render_kafka_pom())
    goal = f"{DEPENDENCY_PLUGIN}:copy-dependencies"
    args = [goal, f"-DoutputDirectory={layout.kafka_libs}", "-DincludeScope=runtime"]
    _run_mvn(args, what="kafka", cwd=layout.kafka_dist, layout=layout, report=report)
    (layout.kafka_dist / "mvn.log").unlink(missing_ok=True)
    _mark_complete(layout.kafka_dist)


def fetch_elasticsearch(layout: Layout, report: Report) -> None:
    """Elasticsearch's integ-test-zip, unpacked into ``layout.es_dist`` (skipped when complete)."""
    if is_complete(layout.es_dist):
        report(f"elasticsearch: install present in {layout.es_dist}")
        return
    layout.es_download.mkdir(parents=True, exist_ok=True)
    args = [f"{DEPENDENCY_PLUGIN}:copy", f"-Dartifact={ES_ARTIFACT}", "-DoutputDirectory=."]
    _run_mvn(args, what="elasticsearch", cwd=layout.es_download, layout=layout, report=report)
    archive = layout.es_download / f"elasticsearch-{ELASTICSEARCH_VERSION}.zip"
    report(f"elasticsearch: unpacking {archive.name}")
    unpack_zip(archive, layout.es_dist)
    archive.unlink()
    _mark_complete(layout.es_dist)


def unpack_zip(archive: Path, target: Path) -> None:
    """Unpack ``archive``'s single top folder as ``target``, keeping the executable bits."""
    staging = target.with_name(target.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.rmtree(target, ignore_errors=True)
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            path = Path(zf.extract(info, staging))
            mode = info.external_attr >> 16
            if mode:  # zipfile drops Unix permissions; bin/elasticsearch must stay executable
                path.chmod(mode & 0o7777)
    (top,) = staging.iterdir()
    top.rename(target)
    staging.rmdir()
