"""Runs one headless-Chromium script of tests/browser/ (JSON in on stdin, JSON out on stdout)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

BROWSER_DIR = Path(__file__).resolve().parents[1] / "e2e" / "browser"


def run_page_script(name: str, spec: dict, timeout: float = 120) -> dict:
    """Run tests/browser/<name> with `spec`; fails the test on a crash or a page error."""
    assert shutil.which("chromium") or Path("/usr/bin/chromium").exists(), \
        "Chromium is installed by `make test` (Debian package chromium)"
    done = subprocess.run(["node", str(BROWSER_DIR / name)], input=json.dumps(spec),
                          capture_output=True, text=True, timeout=timeout,
                          cwd=BROWSER_DIR.parents[2])
    result = json.loads(done.stdout or "{}")
    assert "fatal" not in result, (result, done.stderr[-2000:])
    assert not [s for s in result["steps"] if s.startswith("pageerror")], result["steps"]
    return result
