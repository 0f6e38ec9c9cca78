"""The one topology declaration is consistent: every topic read is written, none is orphaned."""

from __future__ import annotations

import tomllib
from pathlib import Path

from deskwatch.settings import KafkaSettings
from deskwatch.topology import PROCESSOR_INPUTS, SINK_INPUTS, TOPICS, Stage

ROOT = Path(__file__).resolve().parents[2]


def test_every_topic_has_a_writer_and_a_reader_and_a_unique_name() -> None:
    names = [t.name(KafkaSettings()) for t in TOPICS]
    assert len(set(names)) == len(names)
    for topic in TOPICS:
        assert topic.writers, f"{topic.role} is never written"
        assert topic.readers, f"{topic.role} is never read"


def test_every_stage_that_reads_is_fed_by_a_stage_that_writes() -> None:
    written_by = {w for t in TOPICS for w in t.writers}
    readers = {r for t in TOPICS for r in t.readers} - {Stage.OPERATOR, Stage.SUBSCRIBER}
    for stage in readers - {Stage.STAGE1}:  # stage 1 reads what producers write
        inputs = [t for t in TOPICS if stage in t.readers]
        assert any(set(t.writers) & (written_by - {stage}) for t in inputs), stage


def test_drained_means_every_input_each_group_commits() -> None:
    """The processor's group commits the streams its stages read (the compacted inventory and
    silences are followed as tables); the sink's, every topic it reads."""
    processor = {Stage.STAGE1, Stage.STAGE2}
    assert set(PROCESSOR_INPUTS) == {t for t in TOPICS if processor & set(t.readers) and not t.compacted}
    assert set(SINK_INPUTS) == {t for t in TOPICS if Stage.SINK in t.readers}


def test_compacted_topics_say_so_and_others_have_retention() -> None:
    for topic in TOPICS:
        cfg = topic.config()
        assert cfg["cleanup.policy"] == ("compact" if topic.compacted else "delete")
        if not topic.compacted:
            assert int(cfg["retention.ms"]) > 0


def test_packaging_lists_every_package_folder() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(project["packages"])
    mapping = project["package-dir"]
    found = set()
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            found.add(".".join([package, *rel.parts]) if rel.parts else package)
    assert found == listed, f"missing from pyproject packages: {sorted(found - listed)}; stale: {sorted(listed - found)}"
