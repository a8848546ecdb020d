"""The directory on a single node and through the cluster proxy (two writes of one id both
accepted, 201 + 202): an account edited twice at once keeps both edits, a username created
twice at once is one account and the second admin is told `username_taken`, a device id
claimed by two accounts at once is refused to the second at once."""
from __future__ import annotations

import pytest

from support.at_once import at_once
from sync.cluster.server_conflicts import ServerConflicts
from sync.directory.devices import DeviceTaken
from sync.directory.store import UsernameTaken

CADRE = {"username": "chen.zq", "display_name": "陈志强", "role": "cadre",
         "jurisdiction": "441226101201", "phone": "13926611234"}


@pytest.fixture
def settings(settings, cluster_couch):
    """Single node and through the cluster proxy."""
    return cluster_couch.settings(settings)


def _swept(services, cluster_couch, doc_id: str) -> dict:
    """The directory document after the worker's conflict sweep, checked to be one revision."""
    cluster_couch.settle()
    ServerConflicts(services.couch, services.names).sweep([services.names.directory])
    stored = services.couch.database(services.names.directory).get(doc_id, conflicts=True)
    assert "_conflicts" not in stored
    return stored


def test_an_edit_made_while_another_is_written_is_applied_again(services, cluster_couch,
                                                                monkeypatch):
    """Another admin's edit (phone) lands between our read and our write (disable), stamped a
    minute earlier (that web process's clock is behind). Fails on the old update_account: on a
    single node the disable raised Conflict (no retry); through the proxy both writes were
    accepted and the merge (the latest edit's ordinary fields) dropped the phone the other
    admin was told was set."""
    account = services.directory.add_account(CADRE, "device-pass-1")
    mine, other = services.directory, services.directory
    db, real_put, rivals = mine.db, mine.db.put, []

    def put_after_a_rival(doc):
        if not rivals:
            with monkeypatch.context() as behind:
                behind.setattr("sync.directory.store.utc_now",
                               lambda: "2026-01-01T00:00:00.000Z")
                rivals.append(other.update_account("chen.zq", phone="13900001111"))
        return real_put(doc)
    db.put = put_after_a_rival
    disabled = mine.set_disabled("chen.zq", True)
    assert rivals and disabled["disabled"] is True
    stored = _swept(services, cluster_couch, account["_id"])
    assert stored["disabled"] is True and stored["token_generation"] == 1
    assert stored["phone"] == "13900001111"  # the other admin's edit is not lost


def test_two_edits_at_once_both_hold(services, settings, cluster_couch):
    """Two web processes edit one account at the same moment: both are told done, and both
    edits are in the account after the sweep (through the proxy: 201 + 202, then re-applied)."""
    from server.bootstrap import build_services
    account = services.directory.add_account(CADRE, "device-pass-1")
    two = build_services(settings)
    told = at_once(lambda: services.directory.set_disabled("chen.zq", True),
                   lambda: two.directory.update_account("chen.zq", phone="13900002222"))
    assert all(isinstance(answer, dict) for answer in told), told
    stored = _swept(services, cluster_couch, account["_id"])
    assert stored["disabled"] is True and stored["token_generation"] >= 1
    assert stored["phone"] == "13900002222"


def test_one_username_created_twice_at_once_is_one_account(services, settings, cluster_couch):
    """Fails on the old add_account through the proxy: both creates were told "created" and
    the merge mixed them (one admin's display name, the other's password)."""
    from server.bootstrap import build_services
    from models.accounts import verify_password
    two = build_services(settings)
    told = at_once(lambda: services.directory.add_account(
                       {**CADRE, "display_name": "陈志强"}, "first-pass-1"),
                   lambda: two.directory.add_account(
                       {**CADRE, "display_name": "陈智强"}, "second-pass-2"))
    created = [answer for answer in told if isinstance(answer, dict)]
    assert len(created) == 1, told  # the other admin hears username_taken, on either server
    assert isinstance(next(a for a in told if not isinstance(a, dict)), UsernameTaken)
    stored = _swept(services, cluster_couch, created[0]["_id"])
    assert stored["display_name"] == created[0]["display_name"]
    password = "first-pass-1" if created[0]["display_name"] == "陈志强" else "second-pass-2"
    assert verify_password(password, stored["password_hash"])
    with pytest.raises(UsernameTaken):
        services.directory.add_account(CADRE, "third-pass-3")


def test_a_device_claimed_by_two_accounts_at_once_is_refused_to_one_at_once(services, settings,
                                                                            cluster_couch):
    """Fails on the old claim through the proxy: both accounts were told OK and the second was
    refused only later, after the sweep gave the device to the first."""
    from server.bootstrap import build_services
    two = build_services(settings)
    told = at_once(lambda: services.devices.claim("dev-7f3a", "chen.zq", "441226101201"),
                   lambda: two.devices.claim("dev-7f3a", "li.xy", "441226101201"))
    kept = [answer["username"] for answer in told if isinstance(answer, dict)]
    assert len(kept) == 1 and any(isinstance(a, DeviceTaken) for a in told), told
    stored = _swept(services, cluster_couch, "device:dev-7f3a")
    assert stored["username"] == kept[0]
    assert services.devices.owner("dev-7f3a") == two.devices.owner("dev-7f3a") == kept[0]


def test_the_cli_tells_the_admin_whose_create_came_second(runner, services, cluster_couch,
                                                          monkeypatch):
    """Another admin creates the username between the CLI's check and its write. Fails on the
    old code: a single node ended in a Conflict traceback, the proxy said 已创建账号 for an
    account the other admin's create replaced."""
    from sync.directory.store import Directory
    assert runner.invoke("provision", "docs/examples/jurisdictions.csv").exit_code == 0
    real_add = Directory.add_account

    def add_after_a_rival(directory, values, password):
        real_add(services.directory, {**values, "display_name": "何卫民"}, "rival-pass-1")
        return real_add(directory, values, password)
    monkeypatch.setattr(Directory, "add_account", add_after_a_rival)
    added = runner.invoke("user", "add", "he.wm", "--role", "cadre", "--jurisdiction",
                          "441226101201", "--name", "何伟明", lang="zh")
    assert added.exit_code == 1 and "用户名 he.wm 已被使用" in added.output, added.output
    stored = _swept(services, cluster_couch, "account:he.wm")
    assert stored["display_name"] == "何卫民"  # the rival's account, whole
