"""Run deskwatch's own components as child processes, each with the same settings tree.

The demo and the integration tests start ``deskwatch processor run`` and friends exactly as an
operator would; the settings travel in a 0600 YAML file named by ``DESKWATCH_CONFIG``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import yaml

from deskwatch.settings import Settings


def interrupt_on_sigterm() -> None:
    """Make SIGTERM raise KeyboardInterrupt in the main thread, as Ctrl-C does.

    A script that starts components (a soak, the fault campaign) stops them, and deletes its
    topics and indices, in ``finally`` blocks. Python runs them on Ctrl-C, but SIGTERM's default
    kills the script at once, and its components, each in a session of its own, ran on without
    it (found stopping a soak with ``kill``, 2026-12-04).
    """

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, _interrupt)


def _interrupt_on_sigterm_unless_claimed() -> None:
    """Call :func:`interrupt_on_sigterm` when SIGTERM still has its default and this is the main
    thread (only it may set handlers); a handler someone else chose is left alone.

    Every process that starts a :class:`Component` needs it, not only the scripts that remembered
    to call it: the benches started components without it, and a bench stopped by ``kill`` left
    its processor and sink running (the second read of 2026-12-04).
    """
    if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        interrupt_on_sigterm()


def write_settings_file(settings: Settings, path: Path) -> Path:
    """Write the settings tree, secrets included, to a file only its owner can read."""
    data = settings.model_dump(mode="json")
    for section in type(settings).model_fields:
        part = getattr(settings, section)
        for name in type(part).model_fields:
            value = getattr(part, name)
            if hasattr(value, "get_secret_value"):
                data[section][name] = value.get_secret_value()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        yaml.safe_dump(data, out)
    return path


class Component:
    """One ``deskwatch <args>`` child process writing to its own log file."""

    def __init__(self, args: list[str], config: Path, log: Path, stdin: int = subprocess.DEVNULL) -> None:
        """``stdin=subprocess.PIPE`` lets the caller feed ``deskwatch produce -`` as a stream.

        The child runs in a session of its own (a Ctrl-C at the terminal reaches the caller only,
        which stops it in order), so the caller's SIGTERM must become a KeyboardInterrupt too, or
        the caller dies without stopping it; see :func:`_interrupt_on_sigterm_unless_claimed`.
        """
        _interrupt_on_sigterm_unless_claimed()
        env = {k: v for k, v in os.environ.items() if not k.startswith("DESKWATCH_")}
        env["DESKWATCH_CONFIG"] = str(config)
        self.args = args
        self.config = config
        self.log = self.first_log = log
        self._stdin = stdin
        log.parent.mkdir(parents=True, exist_ok=True)
        self._out = log.open("wb")
        exe = str(Path(sys.executable).with_name("deskwatch"))
        self.proc = subprocess.Popen([exe, *args], env=env, stdin=stdin, stdout=self._out,  # noqa: S603 - our CLI, argv
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def again(self) -> Component:
        """A fresh process with the same arguments and settings, logging to a numbered file beside
        this one's (whose log stays as it was)."""
        self._out.close()
        first, n = self.first_log, 1
        while (log := first.with_name(f"{first.stem}.{n}{first.suffix}")).exists():
            n += 1
        again = Component(self.args, self.config, log, self._stdin)
        again.first_log = first
        return again

    def running(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        """Signal the process, wait, and kill it if it outlives ``timeout``; return its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
        return self.proc.returncode

    def tail(self, n: int = 40) -> str:
        """The last ``n`` lines of its log."""
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
