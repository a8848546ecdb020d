"""Issue 11: the web process's memory under four parallel maximal `_bulk_docs` requests.

Real parts only, as in gateway_push: the embedded pouchdb-server, the real provisioning, the
gateway as its own `fieldsync web` process (its RSS read from /proc). Four cadres each send one
request at the request limit at the same moment, in each of three shapes, one shape per round:

- `refused`: tiny documents the gateway refuses one by one (a design document each), as many
  as fit in the request limit: before the document limits, 30 MB of them made a 55 MB answer;
- `photos`: visits with the largest photo the attachment limit allows, all accepted;
- `mixed`: the same visits plus one refused document, so the accepted ones are sent on again.

Target (issue 11): peak web RSS <= 400 MB in every shape.

Then the worker's side: the peak RSS of a fresh process checking one photo of the largest
allowed size (24 MP, a 6000 x 4000 JPEG) with sync/photos/checks.py, next to its RSS before.
"""
from __future__ import annotations

import base64
import json
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

import bench.gateway_push
from bench.gateway_push import PASSWORD, Setup, cadre_of, visit_template
from bench.harness import worker_pid
from bench.harness import PROJECT_ROOT, Options, RssSampler, clean_up, log, machine, now_iso, status_kb

NAME = "bulk_memory"
TITLE = "Web RSS under four parallel maximal _bulk_docs requests"
RSS_MB_MAX = 400.0
PARALLEL = 4
TOWN = "441226101000"
SHAPES = ("refused", "photos", "mixed")


def _photo_doc(template: dict, village: str, data: str) -> dict:
    return {**template, "_id": f"visit:{uuid.uuid4()}", "village_code": village,
            "cadre": cadre_of(village), "sequence_no": 1,
            "photos": [{"attachment": "p.jpg", "subject": "house", "caption": None}],
            "_attachments": {"p.jpg": {"content_type": "image/jpeg", "data": data}}}


def request_body(shape: str, village: str, template: dict, limit: int, attachment: int,
                 max_docs: int) -> bytes:
    """One `_bulk_docs` body of `shape`, as close under `limit` bytes as the shape allows."""
    if shape == "refused":
        one = json.dumps({"_id": "_design/x", "views": {}}).encode()
        count = (limit - 64) // (len(one) + 1)  # an attacker keeps to no document limit
        return b'{"docs":[' + b",".join([one] * count) + b"]}"
    data = base64.b64encode(b"\xff\xd8\xff\xe0" + os.urandom(attachment - 4)).decode()
    docs = []
    while True:
        doc = _photo_doc(template, village, data)
        size = sum(len(json.dumps(d)) + 1 for d in docs) + len(json.dumps(doc)) + 256
        if size > limit or len(docs) >= max_docs - 1:
            break
        docs.append(doc)
    if shape == "mixed":
        docs.append({"_id": "_design/x", "views": {}})
    return json.dumps({"docs": docs}).encode()


def one_round(setup: Setup, shape: str, bodies: list[bytes]) -> dict:
    answers: list[dict] = [{} for _ in bodies]
    start = threading.Barrier(len(bodies))

    def send(n: int) -> None:
        village = setup.villages[n]
        start.wait()
        began = time.monotonic()
        try:
            got = requests.post(f"{setup.gateway_url}/sync/{village}/_bulk_docs",
                                data=bodies[n], auth=(cadre_of(village), PASSWORD), timeout=600,
                                headers={"Content-Type": "application/json"})
        except requests.RequestException as exc:
            answers[n] = {"status": None, "error": str(exc)[:200], "answer_bytes": 0,
                          "seconds": round(time.monotonic() - began, 2)}
            return
        answers[n] = {"status": got.status_code, "seconds": round(time.monotonic() - began, 2),
                      "answer_bytes": len(got.content)}
    web = worker_pid(setup.web.pid) or setup.web.pid  # the gunicorn worker serves, not its master
    before = round((status_kb(web, "VmRSS") or 0) / 1024, 1)
    with RssSampler({"web": web}, interval=0.05) as sampler:
        threads = [threading.Thread(target=send, args=(n,)) for n in range(len(bodies))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return {"shape": shape, "request_bytes": [len(b) for b in bodies], "answers": answers,
            "web_rss_mb": {"before": before, "peak_sampled": sampler.peak_mb("web")}}


PHOTO_CHILD = """
import os, sys, time
from bench.harness import status_kb
from sync.photos.checks import process_photo
data = open(sys.argv[1], "rb").read()
before = status_kb(os.getpid(), "VmRSS")
started = time.monotonic()
photo = process_photo(data)
print(before, status_kb(os.getpid(), "VmHWM"), time.monotonic() - started, photo.width * photo.height,
      len(data))
"""


def photo_peak(tmp: Path) -> dict:
    """Peak RSS of a fresh process checking one maximal allowed photo (24 MP JPEG)."""
    import subprocess
    import sys

    from PIL import Image, ImageDraw
    from sync.photos.checks import MAX_PIXELS
    width, height = 6000, MAX_PIXELS // 6000
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    ImageDraw.Draw(image).rectangle((width // 4, height // 4, width // 2, height // 2),
                                    fill=(200, 40, 40))
    path = tmp / "photo-24mp.jpg"
    image.save(path, "JPEG", quality=92)
    del image
    done = subprocess.run([sys.executable, "-c", PHOTO_CHILD, str(path)], capture_output=True,
                          text=True, timeout=300, check=True, cwd=PROJECT_ROOT)
    before_kb, peak_kb, seconds, pixels, size = done.stdout.split()
    return {"pixels": int(pixels), "jpeg_bytes": int(size), "seconds": round(float(seconds), 2),
            "rss_before_mb": round(int(before_kb) / 1024, 1),
            "rss_peak_mb": round(int(peak_kb) / 1024, 1)}


def _settings_with_keys(**values: object):
    """Settings for the web process with both keys (`fieldsync web` refuses to start without)."""
    import dataclasses
    import secrets

    from server.config import Settings
    names = {f.name for f in dataclasses.fields(Settings)}
    if "id_hash_key" in names:
        values.setdefault("id_hash_key", secrets.token_hex(32))
    return Settings(**values)


def run(options: Options) -> dict:
    from server.bootstrap import gateway_limits
    bench.gateway_push.Settings = _settings_with_keys  # type: ignore[attr-defined]
    villages = [f"{TOWN[:9]}3{n:02d}" for n in range(1, PARALLEL + 1)]
    tmp = Path(tempfile.mkdtemp(prefix="fieldsync-bench-"))
    setup = Setup(tmp, villages)
    rounds = []
    try:
        setup.start()
        limits = gateway_limits(setup.settings)
        limit = getattr(limits, "max_bulk_docs_bytes", limits.max_request_bytes)
        max_docs = getattr(limits, "max_bulk_docs", 10 ** 9)
        template = visit_template()
        for shape in SHAPES if not options.quick else ("refused", "photos"):
            bodies = [request_body(shape, v, template, limit, limits.max_attachment_bytes,
                                   max_docs) for v in villages]
            log(f"{shape}: {PARALLEL} x {len(bodies[0]) / 1e6:.1f} MB at once ...")
            result = one_round(setup, shape, bodies)
            log(f"  peak web RSS {result['web_rss_mb']['peak_sampled']} MB, answers "
                f"{[a['status'] for a in result['answers']]}")
            rounds.append(result)
            del bodies
        hwm = round((status_kb(worker_pid(setup.web.pid) or setup.web.pid, "VmHWM") or 0) / 1024, 1)
        photo = photo_peak(tmp)
        log(f"worker side: one {photo['pixels'] / 1e6:.0f} MP photo peaks at "
            f"{photo['rss_peak_mb']} MB (from {photo['rss_before_mb']} MB)")
    finally:
        setup.stop()
        clean_up(tmp, options.keep)
    peak = max(max(r["web_rss_mb"]["peak_sampled"] for r in rounds), hwm)
    met = peak <= RSS_MB_MAX
    summary = [f"{r['shape']}: {PARALLEL} x {r['request_bytes'][0] / 1e6:.1f} MB, peak web RSS "
               f"{r['web_rss_mb']['peak_sampled']} MB (from {r['web_rss_mb']['before']} MB), "
               f"{max(a['seconds'] for a in r['answers'])} s, answers "
               f"{max(a['answer_bytes'] for a in r['answers'])} bytes" for r in rounds]
    summary.append(f"web peak RSS (VmHWM) {hwm} MB: target <= {RSS_MB_MAX:.0f} MB "
                   f"{'met' if met else 'MISSED'}")
    summary.append(f"photo check of {photo['pixels'] / 1e6:.0f} MP ({photo['jpeg_bytes']} bytes): "
                   f"peak RSS {photo['rss_peak_mb']} MB from {photo['rss_before_mb']} MB, "
                   f"{photo['seconds']} s")
    return {"benchmark": NAME, "title": TITLE, "date": now_iso(), "quick": options.quick,
            "machine": machine(),
            "parameters": {"parallel": PARALLEL, "request_limit_bytes": limit,
                           "max_bulk_docs": max_docs if max_docs < 10 ** 9 else None,
                           "attachment_limit_bytes": limits.max_attachment_bytes,
                           "couchdb": setup.server_kind()},
            "rss_mb": peak, "vm_hwm_mb": hwm, "targets": {"rss_mb_max": RSS_MB_MAX}, "met": met,
            "rounds": rounds, "photo": photo, "summary": summary}
