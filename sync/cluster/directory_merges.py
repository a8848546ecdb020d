"""Merges for the directory's documents and the login counters, for conflicts a cluster leaves
(two web processes writing one account, device or counter at once, both told 201/202).

The rule is safety first: what protects an account is never lost to a concurrent edit.
- an account: of two concurrent creates of one username, the first one whole; of its edits,
  the latest (`updated_at`; on a tie the disabled one) gives the ordinary fields, but a
  disable is kept if any leaf disabled it (a concurrent re-enable is lost: the safe way
  round, an administrator enables it again), the token generation is the highest
  (every revocation stays), revoked devices are the union, `device_tokens_after` the latest per
  device, and the password is the most recently changed one;
- a device: its owner is the account that saw it first (earliest `first_seen`, then the
  smallest username); contact times are the latest of that owner's leaves, what it reported
  comes from the owner's latest contact;
- a login counter (sync/directory/lockout.py): failures, locks and windows the highest, checks
  in flight the union: a lock is never lowered by a merge (it may count a little high).
Pure, and the same whatever order the leaves come in.
"""
from __future__ import annotations

from models.household_merge import revision_order

from sync.cluster.merges import merge_latest


def _order(leaf: dict) -> tuple:
    return revision_order(leaf.get("_rev", ""))


def first_creation(leaves: list[dict]) -> list[dict]:
    """The leaves of the account created first, when a cluster accepted two creates of one
    username (earliest `created_at`, then the smallest `creation` nonce): the other create
    gives way whole, never half its fields (sync/directory/store.py tells its admin)."""
    def creation(leaf: dict) -> tuple:
        return (str(leaf.get("created_at") or ""), str(leaf.get("creation") or ""))
    first = min((creation(leaf) for leaf in leaves), default=None)
    return [leaf for leaf in leaves if creation(leaf) == first]


def merge_account(leaves: list[dict]) -> dict:
    """One account from concurrent edits of the first create; a disable, a revocation or a
    new password stays."""
    leaves = first_creation(leaves)
    latest = max(leaves, key=lambda leaf: (str(leaf.get("updated_at") or ""),
                                           bool(leaf.get("disabled")), _order(leaf)))
    merged = dict(latest)
    merged["disabled"] = any(bool(leaf.get("disabled")) for leaf in leaves)
    merged["token_generation"] = max(int(leaf.get("token_generation") or 0) for leaf in leaves)
    password = max(leaves, key=lambda leaf: (str(leaf.get("password_changed_at") or ""),
                                             str(leaf.get("password_hash") or ""), _order(leaf)))
    for field in ("password_hash", "password_changed_at"):
        if field in password or field in merged:
            merged[field] = password.get(field)
    revoked = sorted({d for leaf in leaves for d in leaf.get("revoked_devices") or []})
    if revoked or "revoked_devices" in merged:
        merged["revoked_devices"] = revoked
    _union_of_latest(merged, leaves, "device_tokens_after")
    merged["updated_at"] = max(str(leaf.get("updated_at") or "") for leaf in leaves) or None
    return merged


def merge_device(leaves: list[dict]) -> dict:
    """One device record: the first account to see it keeps it, contacts are the union."""
    owner = min(leaves, key=lambda leaf: (str(leaf.get("first_seen") or "~"),
                                          str(leaf.get("username") or ""), _order(leaf)))
    mine = [leaf for leaf in leaves if leaf.get("username") == owner.get("username")]
    merged = dict(max(mine, key=lambda leaf: (str(leaf.get("last_contact") or ""), _order(leaf))))
    merged["first_seen"] = owner.get("first_seen")
    for field in ("last_contact", "last_push", "last_pull"):
        times = [str(leaf[field]) for leaf in mine if leaf.get(field)]
        if times:
            merged[field] = max(times)
    return merged


def merge_login_failures(leaves: list[dict]) -> dict:
    """One login counter: the highest counts and locks, every check in flight."""
    merged = dict(max(leaves, key=_order))
    for field in ("failures", "last_failure", "locked_until", "window_start"):
        values = [leaf[field] for leaf in leaves if isinstance(leaf.get(field), (int, float))]
        if values:
            merged[field] = max(values)
    _union_of_latest(merged, leaves, "in_flight")
    return merged


def _union_of_latest(merged: dict, leaves: list[dict], field: str) -> None:
    """`field` (a mapping of key to time) as the union of every leaf's, the latest per key."""
    union: dict[str, float] = {}
    for leaf in leaves:
        for key, at in (leaf.get(field) or {}).items():
            union[key] = max(union.get(key, at), at)
    if union or field in merged:
        merged[field] = dict(sorted(union.items()))


def directory_merges() -> dict:
    """The merge of each directory and login-counter document type."""
    return {"account": merge_account, "device": merge_device,
            "jurisdiction": merge_latest("updated_at"), "login_failures": merge_login_failures}
