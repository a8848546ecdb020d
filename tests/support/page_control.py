"""Letting a browser script ask the test to change the server mid-run: the script writes an
action's name into a flag file and waits; a thread of the test runs that action and deletes the
file (the page scripts run in node, the server in the test's process)."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable


def serve_page_requests(flag: Path, actions: dict[str, Callable[[], None]],
                        timeout_s: float = 300.0) -> list[str]:
    """Start a daemon thread that runs `actions[<name in flag>]` each time the flag file appears,
    for at most `timeout_s`; answers the list of the names it ran (filled as it goes). An
    unknown name is recorded as '?<name>' and its file left, so the script times out and says so."""
    done: list[str] = []

    def serve() -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if flag.exists():
                name = flag.read_text().strip()
                if name not in actions:
                    done.append(f"?{name}")
                    return
                actions[name]()
                done.append(name)
                flag.unlink()
            time.sleep(0.1)
    threading.Thread(target=serve, daemon=True).start()
    return done
