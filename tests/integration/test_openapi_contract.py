"""The OpenAPI document (GET /api/openapi.json) against the live app, fuzzed with schemathesis.

Every operation gets a few generated requests, authenticated as the central admin; every answer
must not be a 5xx and must conform to the document: a documented status code, the documented
content type and the documented body. Each request to an operation that needs credentials is
also sent without them and must be refused with 401 (whatever else is wrong with it).

Not fuzzed: the sync gateway `/sync/...` (the CouchDB replication protocol, tested with real
PouchDB devices in test_sync_gateway.py and the e2e tests) and the SSE stream
`/api/v1/alerts/stream` (an endless response; test_alerts_api.py covers it).

Deterministic: hypothesis is derandomized (the same examples on every run) and has no example
database.
"""
from __future__ import annotations

import time

import pytest
import requests
import schemathesis
from schemathesis import GenerationMode
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance,
                                               response_schema_conformance,
                                               status_code_conformance)

from mobile_api.openapi import build_spec
from models.doc_ids import alert_id
from sync.feeds.heartbeat import beat

ADMIN = ("admin.zq", "contract-pass-1")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
MAX_EXAMPLES = 6
NOT_FUZZED = r"^/sync/|^/api/v1/alerts/stream$"
VILLAGE, TOWN = "441226101201", "441226101000"
FORM = {"village_code": VILLAGE, "applicant": {"name": "何永明", "phone": "13926611234"},
        "category": "neighbourhood", "description": "宅基地边界争议", "urgency": "urgent"}


def test_the_document_is_served_and_names_every_route(app, client):
    answer = client.get("/api/openapi.json")
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    document = answer.get_json()
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["basic"]["scheme"] == "basic"
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"error", "message", "reason", "messages", "details"}
    documented = {path.replace("{", "<").replace("}", ">") for path in document["paths"]}
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.startswith("pages.static"):
            continue
        path = rule.rule
        for converter in ("<path:rest>", "<path:task_id>"):
            path = path.replace(converter, "<" + converter.split(":")[1])
        assert path in documented or path.rstrip("/") in documented, f"{rule.rule} undocumented"


def test_every_operation_documents_its_errors_with_the_error_schema():
    document = build_spec()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = operation["responses"]
            assert "500" in codes, (method, path)
            if operation.get("security"):
                assert {"401", "429"} <= set(codes), (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(codes), (method, path)
            for status, response in codes.items():
                if int(status) >= 400 and path != "/healthz":
                    schema = response["content"]["application/json"]["schema"]
                    assert "Error" in str(schema), (method, path, status)


@pytest.fixture
def seeded(provisioned):
    """The central admin's password and a worker heartbeat."""
    provisioned.directory.reset_password(ADMIN[0], ADMIN[1])
    beat(provisioned.state_db, "contract-worker")  # /healthz is 200 only with a live worker
    return provisioned


def _known(live_server: str) -> dict:
    """Real values for path parameters and bodies, so the happy paths are exercised too."""
    filed = requests.post(f"{live_server}/api/v1/public/mediation-requests", json=FORM, timeout=10)
    assert filed.status_code == 201, filed.text
    return {"path": {"alert_id": alert_id(filed.json()["id"]), "code": TOWN, "village": VILLAGE,
                     "device_id": "dev-contract-1", "name": "coverage.csv",
                     "attachment": "photo-1.jpg",
                     "doc_id": "visit:0b6f3c2e-5d1a-4f7e-9c3b-2a1d4e5f6a7b"},
            "body": {("POST", "/api/v1/login"): {"username": "chen.zq", "password": "device-pass-1",
                                                 "device_id": "dev-contract-1"},
                     ("POST", "/api/v1/public/mediation-requests"): {
                         **FORM, "applicant": {"name": "梁伟", "phone": "13926617777"}},
                     ("POST", "/api/v1/public/mediation-requests/lookup"): {
                         "receipt": filed.json()["receipt"], "phone": FORM["applicant"]["phone"]},
                     ("PUT", "/api/v1/duty-rosters/{code}"): {"on_duty": ["huang.jh"],
                                                              "leader": "huang.jh"}},
            # edges that once answered 500 (date arithmetic overflowing): now 400
            "query": {("GET", "/api/v1/reports/{name}"): [
                {"to": "9999-12-31"}, {"to": "0001-01-01"},
                {"from": "0001-01-01", "to": "0001-01-02"}]}}


def _strategies(operation, known: dict) -> list:
    """Generated requests (and malformed bodies), then, where real ids or bodies are known,
    requests that reach the view's happy path with everything else generated."""
    strategies = [operation.as_strategy()]
    if operation.body:  # malformed bodies too: 400/422, never a 5xx, and 401 before either
        strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
    names = {param.name for param in operation.path_parameters}
    path = {name: known["path"][name] for name in names if name in known["path"]}
    body = known["body"].get((operation.method.upper(), operation.path))
    if path and len(path) == len(names) or body is not None:
        extra = {"path_parameters": path} if path else {}
        if body is not None:
            extra["body"] = body
        strategies.append(operation.as_strategy(**extra))
    for query in known["query"].get((operation.method.upper(), operation.path), []):
        strategies.append(operation.as_strategy(path_parameters=path, query=query))
    return strategies


def test_the_live_app_conforms_to_its_openapi_document(seeded, live_server):
    started = time.monotonic()
    known = _known(live_server)
    document = requests.get(f"{live_server}/api/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document).exclude(path_regex=NOT_FUZZED)
    session, anonymous = requests.Session(), requests.Session()
    session.auth = ADMIN
    failures: list[str] = []
    tried = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        tried += 1
        beat(seeded.state_db, "contract-worker")  # fresh for /healthz however long this takes
        secured = bool(document["paths"][operation.path][operation.method].get("security"))

        for strategy in _strategies(operation, known):

            @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                      phases=[Phase.explicit, Phase.generate],
                      suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
            @given(case=strategy)
            def exercise(case):
                response = case.call(base_url=live_server, session=session,
                                     allow_redirects=False, timeout=20)
                case.validate_response(response, checks=CHECKS)
                if secured:  # noqa: B023 (called within this loop turn) the same request without credentials: refused before anything
                    refused = case.call(base_url=live_server, session=anonymous,
                                        allow_redirects=False, timeout=20)
                    case.validate_response(refused, checks=CHECKS)
                    # 401, or 429 once generated credentials have locked that name out here
                    assert refused.status_code in (401, 429), (
                        case.method, case.formatted_path, refused.status_code, refused.text[:300])

            try:
                exercise()
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - report them all
                failures.append(f"{operation.method.upper()} {operation.path}: "
                                f"{type(exc).__name__}: {str(exc)[:1500]}")
    assert tried >= 25
    assert not failures, "\n\n".join(failures)
    print(f"{tried} operations fuzzed in {time.monotonic() - started:.0f} s")
