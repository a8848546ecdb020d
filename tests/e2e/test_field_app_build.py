"""The field app's build and the pieces it shares with the server: the clock vectors both HLCs
follow, the JS unit tests, the message catalogue against the form options, and how Flask
serves the build."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from models import hlc
from models.form_options import form_options

FRONTEND = Path(__file__).resolve().parents[2] / "frontend"
VECTORS = json.loads((FRONTEND / "tests" / "hlc_vectors.json").read_text())
CATALOGUE_DIR = Path(__file__).resolve().parents[2] / "models" / "catalogue"
CATALOGUES = {lang: json.loads((CATALOGUE_DIR / f"{name}.json").read_text())
              for lang, name in (("zh", "zh-CN"), ("en", "en"))}
BUILD = Path(__file__).resolve().parents[2] / "mobile_api" / "static" / "app"


@pytest.mark.parametrize("case", VECTORS["tick"])
def test_python_tick_follows_the_shared_vectors(case):
    assert hlc.tick(case["now_ms"], case["last"], case["node"]) == case["expect"]


@pytest.mark.parametrize("case", VECTORS["receive"])
def test_python_receive_follows_the_shared_vectors(case):
    if case["expect"] == "clock_drift":
        with pytest.raises(hlc.ClockDriftError):
            hlc.receive(case["now_ms"], case["last"], case["remote"], case["node"])
    else:
        assert hlc.receive(case["now_ms"], case["last"], case["remote"], case["node"]) == case["expect"]


@pytest.mark.parametrize("case", VECTORS["compare"])
def test_python_compare_follows_the_shared_vectors(case):
    assert hlc.compare(case["a"], case["b"]) == case["expect"]


def test_the_js_unit_tests_pass():
    """The JS clock on the same vectors, and yuan typed by people turned into exact fen."""
    done = subprocess.run(["node", "--test", "tests/"], cwd=FRONTEND, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]


def test_the_catalogue_labels_every_code_of_the_forms():
    # that both languages have the same keys (English adds the singulars `<key>_one`) is
    # tests/unit/test_catalogue.py's; here: every form's codes, in order, with the server's labels
    groups = {"poverty_status": ("household", "poverty_status"),
              "indicators": ("household", "indicators"), "relation": ("household", "relation"),
              "schooling": ("household", "schooling"), "health": ("household", "health"),
              "work": ("household", "work"), "verdict": ("verification_visit", "verdict"),
              "reasons": ("verification_visit", "reasons"),
              "photo_subject": ("verification_visit", "photo_subject"),
              "category": ("mediation_request", "category"),
              "urgency": ("mediation_request", "urgency"), "kind": ("case_event", "kind"),
              "role": ("case_event", "role")}
    options = form_options()
    for group, (form, field) in groups.items():
        codes = [choice["code"] for choice in options[form][field]]
        for lang, catalogue in CATALOGUES.items():
            assert list(catalogue["codes"][group]) == codes, (lang, group)
        for choice in options[form][field]:  # where the server has labels, they agree
            if "zh" in choice and group not in ("kind",):
                assert CATALOGUES["zh"]["codes"][group][choice["code"]] == choice["zh"], choice


def test_flask_serves_the_build_with_fitting_cache_headers(client):
    assert (BUILD / "index.html").exists(), "built by `make install`"

    def get(path: str):
        answer = client.get(path)
        answer.get_data()
        answer.close()  # a file response holds the file open until closed
        return answer
    shell = get("/app/")
    assert shell.status_code == 200 and shell.mimetype == "text/html"
    assert shell.headers["Cache-Control"] == "no-cache"
    assert get("/app").headers["Location"].endswith("/app/")
    worker = get("/app/sw.js")
    assert worker.status_code == 200 and worker.headers["Cache-Control"] == "no-cache"
    manifest = json.loads(get("/app/manifest.webmanifest").data)
    assert manifest["start_url"] == "/app/" and manifest["lang"] == "zh-CN"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    asset = next((BUILD / "assets").glob("*.js")).name
    assert "immutable" in get(f"/app/assets/{asset}").headers["Cache-Control"]
    for missing in ("/app/nothing.js", "/app/../app_pages.py", "/app/%2e%2e/app_pages.py"):
        answer = get(missing)
        assert answer.status_code == 404 and answer.get_json()["error"] == "not_found", missing


def test_the_build_names_no_outside_host():
    """No CDN: nothing in the built files loads from another origin."""
    for path in BUILD.rglob("*"):
        if path.suffix in (".js", ".css", ".html", ".webmanifest"):
            text = path.read_text(errors="replace")
            for host in ("//at.alicdn.com", "jsdelivr", "unpkg.com", "fonts.googleapis"):
                assert host not in text, (path.name, host)
