"""Keys (issue #11, finding 7): web and worker refuse to start without them, `run` keeps its own,
and the ID-number hashes do not depend on the token key."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from server.embedded_couchdb import free_port

EXE = str(Path(sys.executable).parent / "fieldsync")


def start(part: str, env: dict, lang: str = "en",
          timeout: float = 30.0) -> subprocess.CompletedProcess | None:
    """Run `fieldsync <part>`; None when it was still running after `timeout` (it started)."""
    process = subprocess.Popen([EXE, "--lang", lang, part], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        return None
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


@pytest.mark.parametrize("part", ["web", "worker"])
@pytest.mark.parametrize("missing", ["FIELDSYNC_SECRET_KEY", "FIELDSYNC_ID_HASH_KEY"])
def test_web_and_worker_refuse_to_start_without_a_key(cli_env, part, missing):
    env = {**cli_env, "FIELDSYNC_HTTP_PORT": str(free_port())}
    env.pop(missing)
    done = start(part, env)
    assert done is not None, f"{part} started without {missing}"
    assert done.returncode == 78  # EX_CONFIG
    assert missing in done.stderr and "refusing to start" in done.stderr
    chinese = start(part, env, lang="zh")
    assert chinese.returncode == 78 and missing in chinese.stderr and "拒绝启动" in chinese.stderr


def test_run_generates_keys_once_and_keeps_them_private(settings):
    from server.config import stored_keys
    bare = replace(settings, secret_key=None, id_hash_key=None)
    first = stored_keys(bare)
    again = stored_keys(bare)
    assert first.secret_key and first.id_hash_key and first.secret_key != first.id_hash_key
    assert (again.secret_key, again.id_hash_key) == (first.secret_key, first.id_hash_key)
    for name in ("secret_key", "id_hash_key"):
        path = bare.data_dir / "keys" / name
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(bare.data_dir / "keys").st_mode) == 0o700
    given = stored_keys(replace(bare, secret_key="from-the-environment"))
    assert given.secret_key == "from-the-environment" and given.id_hash_key == first.id_hash_key


def test_household_search_survives_a_new_token_key(provisioned):
    """The worker hashed with one token key; a web process with another still finds by number."""
    from server.app import create_app
    from server.bootstrap import build_services
    from server.demo import demo_households
    households = demo_households(VILLAGE, 0)
    provisioned.couch.database(provisioned.names.village(VILLAGE)).bulk_docs(households)
    provisioned.reconciliation.run()
    rotated = build_services(replace(provisioned.settings, secret_key="a-new-token-key"))
    try:
        client = create_app(services=rotated).test_client()
        number = households[2]["head"]["id_number"]
        found = client.get("/api/v1/households", query_string={"q": number},
                           headers={"Authorization": _basic("huang.jh", "device-pass-1")})
        assert found.status_code == 200, found.get_json()
        assert [h["household_id"] for h in found.get_json()["households"]] == [households[2]["_id"]]
    finally:
        rotated.authenticator.accounts.stop()


VILLAGE = "441226101201"


def _basic(username: str, password: str) -> str:
    import base64
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
