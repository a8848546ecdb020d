"""Provisioning's scrypt work runs on every core (sync/directory/provisioning.py on_every_core):
results keep their order, progress is reported, and the hashes are the real ones."""
from __future__ import annotations

from models.accounts import hash_password, verify_password
from sync.directory.provisioning import on_every_core


def test_results_keep_the_order_of_the_items_and_progress_reaches_the_total():
    seen = []
    results = on_every_core(lambda n: n * n, list(range(1001)),
                            lambda done, total, label: seen.append((done, total, label)), "squares")
    assert results == [n * n for n in range(1001)]
    assert seen == [(500, 1001, "squares"), (1000, 1001, "squares"), (1001, 1001, "squares")]


def test_hashes_made_on_several_threads_verify_against_their_own_password():
    passwords = ["first-pass-1", "second-pass-2", "third-pass-3"]
    hashes = on_every_core(hash_password, passwords)
    assert [verify_password(p, h) for p, h in zip(passwords, hashes)] == [True, True, True]
    assert not verify_password(passwords[0], hashes[1])


def test_nothing_or_one_item_runs_inline():
    assert on_every_core(str, []) == [] and on_every_core(str, [7]) == ["7"]
