"""The officials' page in a real headless Chromium: a device's request appears live, an
official acknowledges it, the SLA figure updates."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from models.examples import example

VILLAGE = "441226101201"
SCRIPT = Path(__file__).resolve().parent / "browser" / "official_inbox.js"


def test_official_sees_a_new_request_live_and_acknowledges_it(provisioned, live_server,
                                                              tmp_path):
    assert shutil.which("chromium") or Path("/usr/bin/chromium").exists(), \
        "Chromium is installed by `make test` (Debian package chromium)"
    request = example("mediation_request")
    request.update(_id="mediation:3f2e1d0c-9b8a-4c7d-8e6f-5a4b3c2d1e0f", village_code=VILLAGE)
    spec = {"base": live_server, "official": {"username": "huang.jh", "password": "device-pass-1"},
            "device": {"username": "chen.zq", "password": "device-pass-1", "village": VILLAGE,
                       "dir": str(tmp_path / "phone")},
            "request": request, "screenshot": str(tmp_path / "official.png")}
    done = subprocess.run(["node", str(SCRIPT)], input=json.dumps(spec), capture_output=True,
                          text=True, timeout=120, cwd=SCRIPT.parents[3])
    result = json.loads(done.stdout or "{}")
    assert "fatal" not in result, (result, done.stderr[-2000:])
    assert result["title"] == "矛盾调解预警" and result["english_title"] == "Mediation alerts"
    assert result["docs_written"] == 1
    assert result["reloaded"] is False
    assert "土地山林" in result["card_text"]  # the category, labelled in Chinese
    assert int(result["sla_after_alert"]) == int(result["sla_before"]) + 1
    assert result["ack_before"] == "–" and result["ack_after"] != "–"
    assert not [s for s in result["steps"] if s.startswith("pageerror")], result["steps"]
    assert (tmp_path / "official.png").stat().st_size > 10_000
