"""The load of bench/concurrency.py, in a process of its own under gevent (thousands of held
requests from one client process): `python -m bench.concurrency_load < spec.json > result.json`.

Phases: baseline pushes with nothing held; then half-open connections, officials' streams and
device longpolls: `live` of them real PouchDB live replications (bench/live_devices.js, one
node process), the rest re-polling from their last_seq here, as PouchDB's live pull does; a
write to each village in turn, timing how long each of its held longpolls and each live
replica takes to get it; the same pushes again under that load. The pushes of both push phases
are made by a process of their own (bench/concurrency_push.py), not on this loop; /healthz is
probed by bench/healthz_probe.py. `phases` gives each phase's start and end (unix s).
"""
from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import os  # noqa: E402
import socket  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from collections import Counter, defaultdict  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402
from gevent import subprocess  # noqa: E402
from gevent.pool import Pool  # noqa: E402

from bench.concurrency_push import Pusher  # noqa: E402
from mobile_api.loop_lag import LoopLag  # noqa: E402


def p99(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]


class Load:
    def __init__(self, spec: dict):
        self.spec, self.url = spec, spec["url"]
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=100, pool_maxsize=5000)
        self.session.mount("http://", adapter)
        self.statuses: Counter = Counter()
        self.answered: dict[str, list[float]] = defaultdict(list)  # village -> answer times
        self.phases: dict[str, list[float]] = {}
        self.pusher = Pusher(self.url, self.session, self.statuses)
        self.stream_alerts: list[set] = []
        self.running = True
        self.held_started = 0
        self.live_seen: dict[str, list[float]] = defaultdict(list)  # doc id -> unix times seen
        self.live_ready = 0
        self.live_errors: Counter = Counter()

    auth = staticmethod(Pusher.auth)

    def pushes(self, phase: str) -> list[float]:
        """The push phase's devices, in a fresh process of their own (bench/concurrency_push.py)."""
        spec = {key: self.spec[key] for key in ("url", "villages", "push_devices", "pushes_each")}
        self.phases[phase] = [time.time()]
        pusher = subprocess.run([sys.executable, "-m", "bench.concurrency_push"], input=json.dumps(spec),
                                capture_output=True, text=True, timeout=3600, cwd=os.getcwd())
        self.phases[phase].append(time.time())
        sys.stderr.write(pusher.stderr[-2000:])
        answer = json.loads(pusher.stdout)
        self.statuses.update(answer["statuses"])
        return answer["times_s"]

    def longpoll(self, village: dict, since: str) -> None:
        headers = self.auth(village["user"], village["token"])
        self.held_started += 1
        while self.running:
            try:
                answer = self.session.get(
                    f"{self.url}/sync/{village['code']}/_changes", headers=headers, timeout=120,
                    params={"feed": "longpoll", "since": since, "timeout": "25000"})
            except requests.RequestException:  # counted; then polls again, as PouchDB retries
                self.statuses["longpoll_failed"] += 1
                gevent.sleep(1.0)
                continue
            self.statuses[f"longpoll_{answer.status_code}"] += 1
            if answer.status_code != 200:
                gevent.sleep(1.0)
                continue
            page = answer.json()
            since = page["last_seq"] if isinstance(page["last_seq"], str) else json.dumps(
                page["last_seq"])
            if page["results"]:
                self.answered[village["code"]].append(time.monotonic())

    def stream(self, official: dict) -> None:
        seen: set = set()
        self.stream_alerts.append(seen)
        try:
            with self.session.get(f"{self.url}/api/v1/alerts/stream", stream=True, timeout=300,
                                  headers=self.auth(official["user"], official["token"])) as answer:
                self.statuses[f"stream_{answer.status_code}"] += 1
                event = ""
                # each event's `event:` and `id:` lines say what it is: no JSON parsing of the 400,000
                # events of a full run on this loop, which also times the woken longpolls
                for line in answer.iter_lines(decode_unicode=True):
                    if not self.running:
                        return
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("id: ") and event == "alert":
                        seen.add(line[4:])
        except requests.RequestException:
            self.statuses["stream_failed"] += 1

    def live_devices(self, villages: list[dict], count: int):
        """`count` real PouchDB live pull replications spread over `villages` (one node
        process); their events are read by a greenlet. Returns the process."""
        devices = [{"remote": f"{self.url}/sync/{v['code']}", "username": v["user"],
                    "token": v["token"], "device_id": f"live-{n}", "village": v["code"]}
                   for n, v in ((n, villages[n % len(villages)]) for n in range(count))]
        node = subprocess.Popen(["node", os.path.join(os.path.dirname(__file__), "live_devices.js")],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        node.stdin.write(json.dumps({"devices": devices}) + "\n")
        node.stdin.flush()

        def read() -> None:
            for line in node.stdout:
                event = json.loads(line)
                if event["event"] == "ready":
                    self.live_ready += 1
                elif event["event"] == "seen":
                    for doc_id in event["ids"]:
                        self.live_seen[doc_id].append(event["t"])
                else:
                    self.live_errors[str(event.get("status"))] += 1
        gevent.spawn(read)
        return node

    def half_open(self, count: int) -> list:
        host, port = self.url.rsplit("/", 1)[-1].split(":")
        held = [socket.create_connection((host, int(port)), timeout=30) for _ in range(count)]
        for sock in held:  # a request line and a header, and never the rest
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        return held

    def since(self, village: dict) -> str:
        try:
            answer = self.session.get(f"{self.url}/sync/{village['code']}/_changes", timeout=120,
                                      headers=self.auth(village["user"], village["token"]))
        except requests.RequestException:
            self.statuses["since_failed"] += 1
            return "now"
        seq = answer.json()["last_seq"]
        return seq if isinstance(seq, str) else json.dumps(seq)

    def run(self) -> dict:
        spec = self.spec
        log("baseline pushes (nothing held)")
        lag = LoopLag()  # this client's own loop: is it late to see what it times?
        gauge = gevent.spawn(lag.run, gevent.sleep)
        baseline = self.pushes("baseline_pushes")
        self.phases["opening"] = [time.time()]
        sockets = self.half_open(spec["half_open"])
        log(f"{len(sockets)} half-open connections; opening streams and longpolls")
        streams = [gevent.spawn(self.stream, spec["officials"][n % len(spec["officials"])])
                   for n in range(spec["streams"])]
        villages = spec["villages"][:spec["held_villages"]]
        live = spec.get("live", 0)
        node = self.live_devices(villages, live) if live else None
        sinces = {v["code"]: self.since(v) for v in villages}
        pool = Pool(spec["held"])
        for n in range(spec["held"] - live):
            village = villages[n % len(villages)]
            pool.spawn(self.longpoll, village, sinces[village["code"]])
        gevent.sleep(spec["settle_s"])
        for _ in range(600):  # live replicas first catch up with what the baseline wrote
            if self.live_ready >= live:
                break
            gevent.sleep(0.1)
        ready = time.monotonic()
        self.phases["opening"].append(time.time())
        self.phases["wake"] = [time.time()]
        log(f"{self.live_ready} of {live} live replications up to date; waking each village in turn")
        woken: list[float] = []
        live_woken: list[float] = []
        per_village = (spec["held"] - live) // len(villages)
        live_per_village = live // len(villages)
        for village in villages:
            before = len(self.answered[village["code"]])
            marker = f"mediation:{uuid.uuid4()}"  # the id grammar of a mediation request
            t0, t0_unix = time.monotonic(), time.time()
            self.pusher.push_one(village, marker)
            deadline = t0 + 30
            while (len(self.answered[village["code"]]) < before + per_village or
                   len(self.live_seen[marker]) < live_per_village) and time.monotonic() < deadline:
                gevent.sleep(0.01)
            woken += [t - t0 for t in self.answered[village["code"]][before:]]
            live_woken += [t - t0_unix for t in self.live_seen[marker]]
        missed_wakes = per_village * len(villages) - len(woken)
        missed_live = live_per_village * len(villages) - len(live_woken)
        self.phases["wake"].append(time.time())
        log("pushes under load")
        loaded = self.pushes("loaded_pushes")
        held_for = time.monotonic() - ready
        gevent.sleep(2)
        self.running = False
        for sock in sockets:
            sock.close()
        alerts_in_every_stream = min((len(s) for s in self.stream_alerts), default=0)
        gevent.killall(streams, block=False)
        pool.kill(block=False)
        gauge.kill(block=False)
        if node is not None:
            node.stdin.close()
            node.wait(timeout=10)
        return {"live_replications": live, "live_ready": self.live_ready,
                "live_woken": len(live_woken), "missed_live_wakes": missed_live,
                "live_woken_p99_s": p99(live_woken), "live_errors": dict(self.live_errors),
                "longpoll_woken_p99_s": p99(woken),
                "woken_p99_s": p99(woken + live_woken), "woken": len(woken) + len(live_woken),
                "missed_wakes": missed_wakes + missed_live,
                "baseline_push_p99_s": p99(baseline), "loaded_push_p99_s": p99(loaded),
                "push_p99_ratio": round(p99(loaded) / p99(baseline), 2),
                "phases": self.phases, "load_client_loop_lag": lag.figures(),
                "statuses": dict(self.statuses), "held_for_s": round(held_for, 1),
                "alerts_seen_by_every_stream": alerts_in_every_stream}


def log(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    print(json.dumps(Load(json.load(sys.stdin)).run()))
