"""Child processes kept alive: restart with backoff when one exits, stop them all cleanly.

Each child runs in its own session (Ctrl-C reaches only us; we stop children in order) and, on
Linux, gets SIGTERM from the kernel if this process dies without cleaning up, so no node or
Python child is ever left orphaned.
"""
from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("fieldsync.supervisor")

PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Ask the kernel to SIGTERM this child when its parent goes away (Linux only)."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except OSError:
            pass


@dataclass
class SupervisedProcess:
    """One child process, restarted with exponential backoff whenever it exits unexpectedly."""
    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    cwd: Path | None = None
    log_path: Path | None = None
    min_backoff: float = 1.0
    max_backoff: float = 30.0
    stable_after: float = 60.0  # an uptime that resets the backoff
    restarts: int = 0
    process: subprocess.Popen | None = field(default=None, repr=False)
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    def _spawn(self) -> subprocess.Popen:
        out = open(self.log_path, "ab") if self.log_path else None
        try:
            return subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
                stdout=out, stderr=subprocess.STDOUT if out else None,
                start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            if out:
                out.close()

    def start(self) -> None:
        """Start the child and a thread that restarts it when it exits."""
        self.process = self._spawn()
        log.info("%s started (pid %d)", self.name, self.process.pid)
        self._thread = threading.Thread(target=self._watch, name=f"watch-{self.name}",
                                        daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        backoff = self.min_backoff
        while not self._stopping.is_set():
            started = time.monotonic()
            code = self.process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > self.stable_after:
                backoff = self.min_backoff
            log.warning("%s exited with code %s; restarting in %.0fs", self.name, code, backoff)
            if self._stopping.wait(backoff):
                return
            backoff = min(backoff * 2, self.max_backoff)
            self.restarts += 1
            self.process = self._spawn()
            log.info("%s restarted (pid %d, restart #%d)", self.name, self.process.pid,
                     self.restarts)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop supervising and terminate the child (SIGTERM, then SIGKILL after `timeout`)."""
        self._stopping.set()
        proc = self.process
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0fs; killing it", self.name, timeout)
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if self._thread is not None:
            self._thread.join(timeout=2)
        log.info("%s stopped", self.name)
