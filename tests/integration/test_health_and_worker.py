"""`/healthz` and the worker's heartbeat, against the real server."""
from __future__ import annotations

import threading
import time

from server.bootstrap import build_services
from server.config import Settings
from server.embedded_couchdb import free_port
from server.worker import Worker


def test_healthz_is_503_until_a_worker_beats(client, services):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["couchdb"]["ok"] is True
    assert body["worker"] == {"ok": False, "heartbeat_age_s": None, "stale_after_s": 60}

    worker = Worker(services, worker_id="test-worker")
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while client.get("/healthz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        body = client.get("/healthz").get_json()
        assert body["status"] == "ok"
        assert body["worker"]["heartbeat_age_s"] < 10
    finally:
        worker.stop()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_healthz_is_503_when_couchdb_is_unreachable():
    from server.app import create_app
    settings = Settings(couchdb_url=f"http://127.0.0.1:{free_port()}", secret_key="x")
    services = build_services(settings)
    services.couch.retry.attempts = 1
    response = create_app(services=services).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["couchdb"] == {"ok": False, "error": "unavailable"}


def test_unknown_urls_get_a_bilingual_json_error(client):
    response = client.get("/no-such-page", headers={"Accept-Language": "en-US"})
    assert response.status_code == 404
    body = response.get_json()
    assert body["error"] == "not_found"
    assert body["message"] == "Not found"
    assert body["messages"]["zh"] == "请求的资源不存在"
    assert client.get("/no-such-page").get_json()["message"] == "请求的资源不存在"


def test_a_worker_can_run_only_some_jobs(services):
    names = lambda worker: [job.name for job in worker.jobs()]  # noqa: E731
    assert names(Worker(services, only=["reconcile"])) == ["heartbeat", "reconcile"]
    assert "alert_sweep" in names(Worker(services))
    try:
        Worker(services, only=["reconcile", "nonsense"]).jobs()
    except ValueError as exc:
        assert "nonsense" in str(exc) and "reconcile" in str(exc)
    else:
        raise AssertionError("an unknown job was accepted")
