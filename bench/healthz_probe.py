"""`/healthz` as a monitor sees it, for bench/concurrency.py: a small process of its own (no
gevent, no other work, one plain blocking HTTP/1.1 connection), so the figure is the web
process's answer time and not the wait of a busy client's event loop.

Usage: python -m bench.healthz_probe URL INTERVAL_S; probes until stdin closes, then prints
one JSON object: {"samples": [[unix_s, ms], ...], "failed": n}. Each probe's time is taken on
this process's own monotonic clock; `unix_s` (when it was sent) places it in the load's phases.
A failed probe (error or no answer within TIMEOUT_S) counts as TIMEOUT_S and reconnects.
"""
from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from urllib.parse import urlsplit

TIMEOUT_S = 10.0


def main() -> None:
    url, interval = urlsplit(sys.argv[1]), float(sys.argv[2])
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    samples: list[list[float]] = []
    failed = 0
    connection = None
    while not stop.is_set():
        sent, started = time.time(), time.monotonic()
        try:
            if connection is None:
                connection = http.client.HTTPConnection(url.hostname, url.port, timeout=TIMEOUT_S)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            ms = (time.monotonic() - started) * 1000
        except (OSError, http.client.HTTPException):
            failed += 1
            ms = TIMEOUT_S * 1000
            if connection is not None:
                connection.close()
            connection = None
        samples.append([round(sent, 3), round(ms, 2)])
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
    print(json.dumps({"samples": samples, "failed": failed}))


if __name__ == "__main__":
    main()
