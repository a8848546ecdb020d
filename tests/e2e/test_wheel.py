"""The wheel carries everything the code reads beside itself (issue 12): setup.cfg's
package_data names only files that exist, and a wheel built with `python -m build`, installed
without dependencies into a directory of its own, works from there (not from the source tree)."""
from __future__ import annotations

import configparser
import glob
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "mobile_api" / "static" / "app"


def package_data() -> dict[str, list[str]]:
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return {package: [p.strip() for p in patterns.replace("\n", ",").split(",") if p.strip()]
            for package, patterns in config["options.package_data"].items()}


def data_files() -> set[str]:
    """Every file package_data selects in the source tree, relative to the root."""
    found = set()
    for package, patterns in package_data().items():
        base = ROOT / package.replace(".", "/")
        for pattern in patterns:
            found |= {str(Path(p).relative_to(ROOT)) for p in glob.glob(str(base / pattern), recursive=True)
                      if Path(p).is_file()}
    return found


def test_every_package_data_pattern_names_files_that_exist():
    empty = [f"{package}: {pattern}" for package, patterns in package_data().items()
             for pattern in patterns
             if not [p for p in glob.glob(str(ROOT / package.replace(".", "/") / pattern), recursive=True)
                     if Path(p).is_file()]]
    assert not empty, f"patterns that match nothing: {empty}"


def test_package_data_covers_what_the_code_reads_beside_itself():
    needed = {*glob.glob("sync/couch/design/*.js", root_dir=ROOT),
              *glob.glob("models/examples/*.json", root_dir=ROOT),
              *glob.glob("models/catalogue/*.json", root_dir=ROOT),
              "server/pouchdb_server.js", "server/node/package.json", "server/node/package-lock.json"}
    assert (BUILD / "index.html").is_file(), "built by `make install`"
    needed |= {str(p.relative_to(ROOT)) for p in BUILD.rglob("*") if p.is_file()}
    assert needed - data_files() == set()


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The wheel, built from the tree and installed (no dependencies) into its own directory."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=600)
    wheel = next(out.glob("fieldsync-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    assert data_files() - names == set(), "package_data files missing from the wheel"
    target = out / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--disable-pip-version-check", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return target


PROBE = """
import json, sys
import models, mobile_api, server, sync
from models.examples import example
from models.messages import message
from sync.couch.design import audit_design_doc, village_design_doc
from mobile_api.app_pages import BUILD_DIR
from server import embedded_couchdb
from pathlib import Path
print(json.dumps({
    "files": [m.__file__ for m in (models, mobile_api, server, sync)],
    "validate": "validate_doc_update" in village_design_doc("441226101201"),
    "audit_view": bool(audit_design_doc()["views"]["by_subject"]["map"]),
    "example": example("household")["type"],
    "zh": message("phone_format", "zh"), "en": message("phone_format", "en"),
    "pages": sorted(p.name for p in BUILD_DIR.glob("*.html")),
    "launcher": sorted(p.name for p in Path(embedded_couchdb.__file__).parent.glob("pouchdb_server.js")),
}))
"""


def test_the_installed_wheel_runs_from_its_own_directory(installed, tmp_path):
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120,
                          cwd=tmp_path, env={"PYTHONPATH": str(installed), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    seen = json.loads(done.stdout)
    assert all(path.startswith(str(installed)) for path in seen["files"]), seen["files"]
    assert seen["validate"] and seen["audit_view"] and seen["example"] == "household"
    assert seen["zh"] != seen["en"] and seen["zh"]
    assert seen["pages"] == ["apply.html", "index.html", "officials.html"]
    assert seen["launcher"] == ["pouchdb_server.js"]
