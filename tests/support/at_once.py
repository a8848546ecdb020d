"""Calls released together on threads, for races a cluster turns into two accepted writes."""
from __future__ import annotations

import threading


def at_once(*calls):
    """Run the calls on threads released by one barrier; their results (or the exception each
    raised) in order."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - the test looks at what each one was told
            results[index] = exc
    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results
