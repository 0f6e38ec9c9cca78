"""structlog setup, done once at the entry point."""

from __future__ import annotations

import logging
import sys

import structlog

from deskwatch.settings import LoggingSettings


def configure_logging(settings: LoggingSettings) -> None:
    """Route structlog and stdlib logging to stderr at the configured level."""
    level = getattr(logging, settings.level)
    logging.basicConfig(stream=sys.stderr, level=level, format="%(message)s")
    # faust and aiokafka build debug records nobody reads: WARNING by default (faust.md item 10).
    for noisy in ("faust", "aiokafka", "mode"):
        logging.getLogger(noisy).setLevel(max(level, getattr(logging, settings.engine_level)))
    # kafka-python 3.0 warns about its own slow selector tasks on a busy machine; errors still show.
    logging.getLogger("kafka").setLevel(max(level, logging.ERROR))
    # The ES transport logs a full traceback per retried request; the sink reports outages itself.
    logging.getLogger("elastic_transport").setLevel(max(level, logging.ERROR))
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if settings.json_output else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
