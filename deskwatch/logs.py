"""structlog setup, done once at the entry point; the engines' repeated lines collapsed."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

import structlog

from deskwatch.settings import LoggingSettings


def configure_logging(settings: LoggingSettings) -> None:
    """Route structlog and stdlib logging to stderr at the configured level."""
    level = getattr(logging, settings.level)
    before = list(logging.root.handlers)
    logging.basicConfig(stream=sys.stderr, level=level, format="%(message)s")
    # Only the handler made here: one that was there already (a host process's, pytest's shared
    # capture handlers) keeps every line.
    ours = [h for h in logging.root.handlers if h not in before]
    # faust and aiokafka build debug records nobody reads: WARNING by default (faust.md item 10).
    for noisy in ("faust", "aiokafka", "mode"):
        logging.getLogger(noisy).setLevel(max(level, getattr(logging, settings.engine_level)))
    # kafka-python 3.0 warns about its own slow selector tasks on a busy machine; errors still show.
    logging.getLogger("kafka").setLevel(max(level, logging.ERROR))
    drop_closed_transport_errors()
    watch_kafka_refusals()
    # The ES transport logs a full traceback per retried request; the sink reports outages itself.
    logging.getLogger("elastic_transport").setLevel(max(level, logging.ERROR))
    collapse_repeats(ours, settings.engine_repeat_window_s)
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


# Loggers of the libraries the components run on; deskwatch's own lines are never collapsed.
ENGINE_LOGGERS = ("aiokafka", "kafka", "faust", "mode", "elastic_transport", "elasticsearch")
_KEYS_MAX = 1_000


class RepeatFilter(logging.Filter):
    """Let one line per engine message template through per window; count the rest.

    While a broker is down, aiokafka and kafka-python log the same few errors dozens of times a
    second (a 24-second Kafka outage wrote 1,816 ERROR lines into one worker's log, the fault
    campaign's ``kafka SIGKILL`` row). The first line of a template in a window passes; repeats
    inside the window are dropped and counted; the first line after it says how many were left
    out. Keyed by logger, level, the unformatted message and the classes of the errors among its
    values, so "Unable connect to node with id %s" stays one key whatever the node, while
    "Connection lost: %s" with a refused password is not hidden behind the same line with a reset
    socket (the one that says why).
    """

    def __init__(self, window_s: float, prefixes: tuple[str, ...] = ENGINE_LOGGERS) -> None:
        super().__init__()
        self.window_s = window_s
        self._prefixes = prefixes
        self._seen: dict[tuple[str, int, str, tuple[str, ...]], tuple[float, int]] = {}  # key -> (start, dropped)

    def filter(self, record: logging.LogRecord) -> bool:
        verdict = getattr(record, "repeat_verdict", None)
        if verdict is not None:  # the same record at another handler: the same answer
            return bool(verdict)
        record.repeat_verdict = verdict = self._verdict(record)
        return verdict

    def _verdict(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self._prefixes):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        key = (record.name, record.levelno, str(record.msg),
               tuple(type(a).__name__ for a in args if isinstance(a, BaseException)))
        seen = self._seen.get(key)
        if seen is not None and record.created - seen[0] < self.window_s:
            self._seen[key] = (seen[0], seen[1] + 1)
            return False
        if len(self._seen) >= _KEYS_MAX:
            self._seen.clear()
        self._seen[key] = (record.created, 0)
        if seen is not None and seen[1]:
            # %-free text appended to the template: the record's args still format it
            record.msg = f"{record.msg} [{seen[1]} more like this in the {self.window_s:g} s before, not shown]"
        return True


class ClosedTransportFilter(logging.Filter):
    """Drop kafka-python's traceback for a read on a connection its client had just closed.

    kafka-python 3.0.12 reads a socket on its network thread, and ``close()`` on another (the
    sink's, the relay's, a producer's at exit) sets the transport's socket to None between that
    thread's wait and its ``recv``: it logs ``Error receiving network data closing socket`` at
    ERROR with an ``AttributeError`` traceback, for a connection that was meant to close. The
    fault campaign's sink logs showed it once in nine rows (2026-12-03), read as a failure by
    whoever reads them. Dropped only when the record's transport says it is closing and the
    error is that AttributeError; any other receive error on a live connection still shows.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info is None or not isinstance(record.exc_info[1], AttributeError):
            return True
        args = record.args if isinstance(record.args, tuple) else ()
        is_closing = getattr(args[0], "is_closing", None) if args else None
        return not (callable(is_closing) and is_closing() is True)


class PeerGoneFilter(logging.Filter):
    """Say a connection the broker dropped in one line, without kafka-python's traceback.

    kafka-python 3.0.12 logs a receive or send that fails on its socket with ``log.exception``: a
    broker that stops or restarts (``ConnectionResetError``, ``BrokenPipeError``) gave every
    component's log a traceback in the fault campaign's Kafka rows (2026-12-04, 2026-12-05), beside
    the dozen one-line records of the same event, and was read as a crash by whoever read them. The
    record stays, at its level, with the error's class and text on its line; any other exception
    keeps its traceback.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            record.msg, record.args = f"{record.getMessage()} ({type(exc).__name__}: {exc})", ()
            record.exc_info, record.exc_text = None, None
        return True


def drop_closed_transport_errors() -> None:
    """Put :class:`ClosedTransportFilter` and :class:`PeerGoneFilter` on kafka-python's transport
    logger, once each."""
    logger = logging.getLogger("kafka.net.transport")
    for kind in (ClosedTransportFilter, PeerGoneFilter):
        if not any(isinstance(f, kind) for f in logger.filters):
            logger.addFilter(kind())


def collapse_repeats(handlers: Iterable[logging.Handler], window_s: float) -> None:
    """Give the handlers one shared :class:`RepeatFilter` (none when ``window_s`` is 0; a handler
    that has one keeps it)."""
    if window_s <= 0:
        return
    shared = RepeatFilter(window_s)
    for handler in handlers:
        if not any(isinstance(f, RepeatFilter) for f in handler.filters):
            handler.addFilter(shared)


# kafka-python 3.0.12's manager logs this when it could not make a transport to a broker at all
_NOT_OPENED = "Connection failed: %s"


class KafkaRefusals(logging.Handler):
    """Remembers the last time the broker refused this process's SASL credentials.

    kafka-python 3.0 logs a refused password (``SaslAuthenticationFailedError``) at each connection
    attempt, then raises only a ``KafkaTimeoutError`` ("Unable to bootstrap") at its deadline: the
    error a command ends with would say "cannot reach Kafka, is it running?" for a broker that
    answered, and refused. The command line reads ``last_refusal`` to say what happened instead.

    A refusal is forgotten when a later connection cannot even be opened (kafka-python's manager
    logs ``Connection failed`` only when no transport could be made: nothing listens, no route):
    a process refused once and later bootstrapping against a broker that is down says the broker
    is down. The broker's own closes between refusals (``socket disconnected``, seen on a refused
    SCRAM handshake) keep it: that broker answered.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.last_refusal: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        from kafka.errors import SaslAuthenticationFailedError

        args = record.args if isinstance(record.args, tuple) else ()
        refusals = [arg for arg in args if isinstance(arg, SaslAuthenticationFailedError)]
        for arg in refusals:  # its text names the error twice
            text = str(arg.args[0]) if arg.args else str(arg)
            self.last_refusal = text.removeprefix(f"{type(arg).__name__}: ")
        if not refusals and record.name == "kafka.net.manager" and record.msg == _NOT_OPENED:
            self.last_refusal = None

    def forget(self) -> None:
        """Forget the last refusal: what follows is read afresh (``deskwatch.connect.CredentialsCheck``)."""
        self.last_refusal = None

    def explains(self, exc: BaseException) -> str | None:
        """The broker's refusal, when ``exc`` is kafka-python's bootstrap deadline and the last
        connection that failed was refused (the broker answered): None otherwise."""
        from deskwatch.connect import bootstrap_deadline

        return self.last_refusal if bootstrap_deadline(exc) else None


KAFKA_REFUSALS = KafkaRefusals()


def watch_kafka_refusals() -> None:
    """Put :data:`KAFKA_REFUSALS` on kafka-python's root logger (its connections' records reach it), once."""
    logger = logging.getLogger("kafka")
    if KAFKA_REFUSALS not in logger.handlers:
        logger.addHandler(KAFKA_REFUSALS)
