"""Errors of the local engine stack, sorted by remedy."""

from __future__ import annotations


class StackError(Exception):
    """Root of every error raised while fetching, starting or stopping the engines."""


class FetchError(StackError):
    """Maven could not fetch an engine (network, repository or disk): retry or fix the cache."""


class EngineUserError(StackError):
    """The unprivileged engine user cannot be created or cannot reach the stack's folders."""


class PortBusyError(StackError):
    """Another process already listens on a port an engine needs."""


class EngineStartError(StackError):
    """An engine exited or did not answer in time; the message carries its command and log tail."""
