"""The pushing devices of bench/concurrency.py, in a process of their own, started afresh for the
baseline (nothing held) and again under the load: both sets of push times are taken by the same
kind of quiet client, never on the loop of the client that holds thousands of sockets, so their
ratio compares the web process with and without the load, not two clients.

`python -m bench.concurrency_push < spec.json`: `push_devices` devices, each pushing
`pushes_each` mediation requests one after another (`_bulk_docs` of one document, as the field
app sends a new request) to the villages of the spec in turn; prints
{"times_s": [...], "statuses": {...}}.
"""
from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402

from models.examples import example  # noqa: E402


class Pusher:
    def __init__(self, url: str, session: requests.Session, statuses: Counter):
        self.url, self.session, self.statuses = url, session, statuses

    @staticmethod
    def auth(user: str, token: str) -> dict:
        """A device token as the Basic password, as the field app sends it."""
        return {"Authorization": requests.auth._basic_auth_str(user, token)}

    def push_one(self, village: dict, doc_id: str | None = None) -> float:
        doc = example("mediation_request")
        doc.update(_id=doc_id or f"mediation:{uuid.uuid4()}", village_code=village["code"],
                   source={"channel": "cadre_device", "device_id": village["device"],
                           "cadre": village["user"]})  # signed by who writes it, as a phone's are
        started = time.monotonic()
        try:
            answer = self.session.post(f"{self.url}/sync/{village['code']}/_bulk_docs",
                                       json={"docs": [doc]}, timeout=120,
                                       headers=self.auth(village["user"], village["token"]))
            elapsed = time.monotonic() - started
            rejected = answer.status_code == 201 and any("error" in row for row in answer.json())
            self.statuses["push_201_rejected" if rejected else f"push_{answer.status_code}"] += 1
        except requests.RequestException:  # counted, and its time is the time it was given
            self.statuses["push_failed"] += 1
            elapsed = time.monotonic() - started
        return elapsed

    def pushes(self, villages: list[dict], devices: int, each: int) -> list[float]:
        def device(n: int) -> list[float]:
            return [self.push_one(villages[n % len(villages)]) for _ in range(each)]
        jobs = [gevent.spawn(device, n) for n in range(devices)]
        gevent.joinall(jobs)
        return [t for job in jobs for t in job.value]


def main() -> None:
    spec = json.load(sys.stdin)
    statuses: Counter = Counter()
    with requests.Session() as session:
        session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=spec["push_devices"]))
        times = Pusher(spec["url"], session, statuses).pushes(
            spec["villages"], spec["push_devices"], spec["pushes_each"])
    print(json.dumps({"times_s": times, "statuses": dict(statuses)}))


if __name__ == "__main__":
    main()
