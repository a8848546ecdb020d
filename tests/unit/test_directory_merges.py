"""Merges of directory documents and login counters a cluster left in conflict: whatever order
the leaves come in, the same result, and nothing that protects an account lost."""
from __future__ import annotations

import itertools

from sync.cluster.directory_merges import merge_account, merge_device, merge_login_failures


def _every_order(merge, leaves):
    results = [merge([dict(leaf) for leaf in order]) for order in itertools.permutations(leaves)]
    assert all(result == results[0] for result in results)
    return results[0]


def _account(rev, **fields):
    base = {"_id": "account:chen.zq", "_rev": rev, "type": "account", "username": "chen.zq",
            "display_name": "陈志强", "disabled": False, "token_generation": 3,
            "password_hash": "old-hash", "updated_at": "2026-05-03T08:00:00.000Z"}
    return {**base, **fields}


def test_a_disable_survives_a_later_concurrent_edit():
    disabled = _account("4-a", disabled=True, token_generation=4,
                        updated_at="2026-05-03T08:01:00.000Z")
    renamed = _account("4-f", display_name="陈志强（驻村）", updated_at="2026-05-03T08:02:00.000Z")
    merged = _every_order(merge_account, [disabled, renamed])
    assert merged["disabled"] is True and merged["token_generation"] == 4
    assert merged["display_name"] == "陈志强（驻村）"  # the later ordinary edit
    assert merged["updated_at"] == "2026-05-03T08:02:00.000Z"


def test_two_creates_of_one_username_keep_the_first_whole():
    """Fails on the old merge: the later create's name came with the earlier create's password
    (the ordinary fields from the latest leaf, the password from the larger hash)."""
    first = _account("1-f", display_name="陈志强", password_hash="hash-a",
                     created_at="2026-05-03T08:00:00.000Z", creation="b" * 32,
                     updated_at="2026-05-03T08:00:00.000Z")
    second = _account("1-a", display_name="陈智强", password_hash="hash-z",
                      created_at="2026-05-03T08:00:00.001Z", creation="a" * 32,
                      updated_at="2026-05-03T08:00:00.001Z")
    edited = {**first, "_rev": "2-c", "phone": "13926611234",
              "updated_at": "2026-05-03T08:00:00.500Z"}
    merged = _every_order(merge_account, [first, second, edited])
    assert (merged["display_name"], merged["password_hash"]) == ("陈志强", "hash-a")
    assert merged["creation"] == "b" * 32 and merged["phone"] == "13926611234"
    same_time = {**second, "created_at": first["created_at"]}  # a tie: the smaller nonce
    assert _every_order(merge_account, [first, same_time])["password_hash"] == "hash-z"


def test_a_password_reset_and_a_device_revocation_are_never_lost():
    reset = _account("5-a", password_hash="new-hash", password_changed_at="2026-05-03T09:00:00Z",
                     token_generation=4, updated_at="2026-05-03T09:00:00.000Z")
    revoked = _account("5-z", revoked_devices=["dev-2"], device_tokens_after={"dev-2": 1700},
                       updated_at="2026-05-03T09:00:05.000Z")
    readmitted = _account("5-m", revoked_devices=["dev-1"], device_tokens_after={"dev-2": 1200},
                          updated_at="2026-05-03T09:00:01.000Z")
    merged = _every_order(merge_account, [reset, revoked, readmitted])
    assert merged["password_hash"] == "new-hash" and merged["token_generation"] == 4
    assert merged["revoked_devices"] == ["dev-1", "dev-2"]
    assert merged["device_tokens_after"] == {"dev-2": 1700}


def test_a_tie_goes_to_the_disabled_edit():
    one = _account("6-a", display_name="甲", disabled=True)
    two = _account("6-z", display_name="乙")
    assert _every_order(merge_account, [one, two])["display_name"] == "甲"


def test_a_device_keeps_its_first_owner_and_the_union_of_its_contacts():
    first = {"_id": "device:d1", "_rev": "3-z", "type": "device", "username": "chen.zq",
             "first_seen": "2026-05-01T08:00:00Z", "last_contact": "2026-05-03T08:00:00Z",
             "last_push": "2026-05-03T08:00:00Z", "app_version": "1.2.0"}
    pulled = {**first, "_rev": "3-a", "last_contact": "2026-05-03T08:05:00Z",
              "last_pull": "2026-05-03T08:05:00Z", "app_version": "1.3.0"}
    pulled.pop("last_push")
    rival = {"_id": "device:d1", "_rev": "3-m", "type": "device", "username": "li.xy",
             "first_seen": "2026-05-02T08:00:00Z", "last_contact": "2026-05-03T09:00:00Z"}
    merged = _every_order(merge_device, [first, pulled, rival])
    assert merged["username"] == "chen.zq" and merged["first_seen"] == "2026-05-01T08:00:00Z"
    assert merged["last_contact"] == "2026-05-03T08:05:00Z"  # the rival's contact is not his
    assert merged["last_push"] == "2026-05-03T08:00:00Z"
    assert merged["last_pull"] == "2026-05-03T08:05:00Z" and merged["app_version"] == "1.3.0"


def test_login_counters_keep_the_highest_count_and_every_check_in_flight():
    one = {"_id": "lockout:src:x", "_rev": "7-a", "type": "login_failures", "failures": 4,
           "last_failure": 100.0, "locked_until": 0, "in_flight": {"m1": 101.0}}
    two = {"_id": "lockout:src:x", "_rev": "7-z", "type": "login_failures", "failures": 5,
           "last_failure": 102.0, "locked_until": 162.0, "in_flight": {"m2": 102.0}}
    cleared = {"_id": "lockout:src:x", "_rev": "7-m", "type": "login_failures", "failures": 0,
               "last_failure": 99.0, "locked_until": 0, "in_flight": {}}
    merged = _every_order(merge_login_failures, [one, two, cleared])
    assert merged["failures"] == 5 and merged["locked_until"] == 162.0
    assert merged["in_flight"] == {"m1": 101.0, "m2": 102.0}
