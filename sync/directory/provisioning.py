"""Provisioning: server databases, village databases, and jurisdictions/accounts from files.

A provisioning run is planned in full before anything is written: every row is checked against
the file and the directory, and any problem stops the run with nothing applied. The writes of a
plan are idempotent, so a run cut short by a server outage is finished by running it again.
"""
from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable

from models.accounts import account_doc_id, generate_password, hash_password, verify_password
from models.hierarchy import LEVELS, jurisdiction_doc_id
from models.provisioning import ParsedFile, RowProblem
from sync.couch.client import ADMIN_ONLY_SECURITY, Conflict, CouchServer, Database, NotFound
from sync.couch.design import (RETIRED_VILLAGE_DDOCS, VILLAGE_INDEXES, audit_design_doc,
                               ensure_design_doc, photos_design_doc, village_design_doc)
from sync.clock import utc_now
from sync.directory.store import Directory
from sync.couch.names import DatabaseNames

log = logging.getLogger("fieldsync.provisioning")

ACCOUNT_FIELDS = ("display_name", "role", "jurisdiction", "phone", "disabled")
# the design document of village Mango indexes (none today); never one of RETIRED_VILLAGE_DDOCS
VILLAGE_INDEX_DDOC = "fieldsync-mango"

Progress = Callable[[int, int, str], None]


def _secure(db: Database) -> bool:
    if db.security() == ADMIN_ONLY_SECURITY:
        return False
    db.set_security(ADMIN_ONLY_SECURITY)
    return True


def drop_retired_designs(db: Database) -> list[str]:
    """Delete the design documents of earlier versions that nothing reads any more
    (RETIRED_VILLAGE_DDOCS: on CouchDB 3.x each index in them costs work after every write).
    One `_all_docs` read by keys finds them; returns the ids deleted."""
    dropped = []
    for row in db.all_docs(keys=list(RETIRED_VILLAGE_DDOCS))["rows"]:
        value = row.get("value") or {}
        if not value.get("rev") or value.get("deleted"):
            continue  # never there, or already deleted
        try:
            db.delete(row["id"], value["rev"])
        except (Conflict, NotFound):  # changed or deleted meanwhile (another provisioning run)
            continue
        dropped.append(row["id"])
    return dropped


def ensure_server_databases(couch: CouchServer, names: DatabaseNames) -> list[str]:
    """Create the server-owned databases (admin-only) and their design documents; returns the
    names created."""
    created = []
    for name in names.server_databases:
        db = couch.database(name)
        if db.create():
            created.append(name)
        _secure(db)
    ensure_design_doc(couch.database(names.audit), audit_design_doc())
    ensure_design_doc(couch.database(names.photos), photos_design_doc())
    return created


def ensure_village_database(couch: CouchServer, names: DatabaseNames, code: str) -> bool:
    """Create or update a village database, its design document, indexes and security, and
    delete the design documents it still has of earlier versions."""
    db = couch.database(names.village(code))
    changed = db.create()
    changed |= _secure(db)
    changed |= ensure_design_doc(db, village_design_doc(code))
    changed |= bool(drop_retired_designs(db))
    if changed:
        for index_name, index_fields in VILLAGE_INDEXES:
            db.create_index(index_fields, index_name, ddoc=VILLAGE_INDEX_DDOC)
    return changed


def ensure_village_databases(couch: CouchServer, names: DatabaseNames, codes: list[str],
                             progress: Progress = lambda done, total, label: None,
                             parallel: int = 4) -> int:
    """ensure_village_database for many villages, `parallel` at a time (each is a few small
    requests: the client's and the server's work overlap, on every core); returns how many
    changed."""
    changed = 0
    with ThreadPoolExecutor(parallel) as pool:
        for done, result in enumerate(pool.map(
                lambda code: ensure_village_database(couch, names, code), codes), start=1):
            changed += bool(result)
            if done % 50 == 0 or done == len(codes):
                progress(done, len(codes), "village databases")
    return changed


@dataclass
class ProvisioningPlan:
    """What a provisioning run will write, or the problems that stop it."""
    jurisdiction_docs: list[dict] = field(default_factory=list)
    account_docs: list[dict] = field(default_factory=list)
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    generated_passwords: dict[str, str] = field(default_factory=dict)
    # what each write changes, for `provision --dry-run`: (kind, key, new?, changed fields)
    listing: list[tuple[str, str, bool, list[str]]] = field(default_factory=list)
    password_resets: list[str] = field(default_factory=list)  # existing accounts only

    @property
    def changes(self) -> int:
        return len(self.jurisdiction_docs) + len(self.account_docs)


def _plan_jurisdictions(parsed: ParsedFile, directory: Directory, plan: ProvisioningPlan) -> set:
    existing = {doc["code"]: doc for doc in directory.db.docs_with_prefix("jurisdiction:")}
    known, seen = set(existing), {}
    rows = [r for r in parsed.rows if r.kind == "jurisdiction"]
    for row in rows:
        code = row.values["code"]
        if code in seen:
            plan.problems.append(RowProblem(row.line, "code", "division_duplicate", {"code": code}))
        seen[code] = row
    known |= set(seen)
    now = utc_now()
    for row in sorted(rows, key=lambda r: LEVELS.index(r.values["level"])):
        values, parent = row.values, row.values.get("parent")
        if parent and parent not in known:
            plan.problems.append(RowProblem(row.line, "parent", "division_unknown_parent",
                                            {"parent": parent}))
            continue
        old = existing.get(values["code"])
        if old and all(old.get(k) == values.get(k) for k in ("name", "level", "parent")):
            plan.unchanged += 1
            continue
        doc = {**(old or {}), "_id": jurisdiction_doc_id(values["code"]), "type": "jurisdiction",
               "schema_version": 1, **values, "updated_at": now}
        doc.setdefault("created_at", now)
        plan.jurisdiction_docs.append(doc)
        plan.listing.append(("jurisdiction", values["code"], old is None,
                             [] if old is None else [k for k in ("name", "level", "parent")
                                                     if old.get(k) != values.get(k)]))
    return known


def on_every_core(function: Callable, items: list, progress: Progress | None = None,
                  label: str = "") -> list:
    """`function` over `items` on every core, in order: for scrypt, which releases the GIL and
    costs ~50 ms a password on one core (60,000 accounts: 50 core-minutes)."""
    if len(items) < 2:
        return [function(item) for item in items]
    results: list = []
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        for results_done, result in enumerate(pool.map(function, items), start=1):
            results.append(result)
            if progress and (results_done % 500 == 0 or results_done == len(items)):
                progress(results_done, len(items), label)
    return results


def _plan_accounts(parsed: ParsedFile, directory: Directory, plan: ProvisioningPlan,
                   known_codes: set, progress: Progress | None = None) -> None:
    existing = directory.account_docs()
    rows = [r for r in parsed.rows if r.kind == "account"]
    # the scrypt work first, on every core: which given passwords are already the stored ones
    checked = [r.values for r in rows if r.values.get("password") and r.values["username"] in existing]
    verdicts = on_every_core(lambda v: verify_password(v["password"],
                                                       existing[v["username"]].get("password_hash")),
                             checked, progress, "password checks")
    unchanged_password = {v["username"] for v, same in zip(checked, verdicts) if same}
    to_hash: list[tuple[dict, str]] = []  # (document, password): hashed after the loop
    seen: set[str] = set()
    now = utc_now()
    for row in rows:
        values, username = row.values, row.values["username"]
        if username in seen:
            plan.problems.append(RowProblem(row.line, "username", "username_duplicate",
                                            {"username": username}))
            continue
        seen.add(username)
        if values["jurisdiction"] not in known_codes:
            plan.problems.append(RowProblem(row.line, "jurisdiction", "jurisdiction_unknown",
                                            {"code": values["jurisdiction"]}))
            continue
        compared = [k for k in ACCOUNT_FIELDS if k != "disabled" or k in row.given]
        old, password = existing.get(username), values.get("password")
        if old is None:
            if not password:
                password = plan.generated_passwords[username] = generate_password()
            doc = {"_id": account_doc_id(username), "type": "account", "schema_version": 1,
                   "username": username, **{k: values.get(k) for k in ACCOUNT_FIELDS},
                   "password_hash": None, "token_generation": 0,
                   "created_at": now, "updated_at": now}
            plan.account_docs.append(doc)
            plan.listing.append(("account", username, True, []))
            to_hash.append((doc, password))
            continue
        changed = {k: values.get(k) for k in compared if old.get(k) != values.get(k)}
        new_password = bool(password) and username not in unchanged_password
        if new_password:
            changed.update(password_changed_at=now,
                           token_generation=old.get("token_generation", 0) + 1)
        if not changed:
            plan.unchanged += 1
            continue
        doc = {**old, **changed, "updated_at": now}
        plan.account_docs.append(doc)
        plan.listing.append(("account", username, False,
                             [k for k in changed if k not in ("password_changed_at",
                                                               "token_generation")]
                             + (["password"] if new_password else [])))
        if new_password:
            plan.password_resets.append(username)
        if new_password:
            to_hash.append((doc, password))
    hashes = on_every_core(hash_password, [password for _, password in to_hash], progress,
                           "password hashes")
    for (doc, _), digest in zip(to_hash, hashes):
        doc["password_hash"] = digest


def plan_provisioning(parsed: ParsedFile, directory: Directory,
                      progress: Progress | None = None) -> ProvisioningPlan:
    """Check parsed rows against each other and the directory; decide what to write (password
    hashing, the long part of a large file, reports to `progress`)."""
    plan = ProvisioningPlan(problems=list(parsed.problems))
    known = _plan_jurisdictions(parsed, directory, plan)
    _plan_accounts(parsed, directory, plan, known, progress)
    plan.problems.sort(key=lambda p: (p.line, p.field))
    return plan


def _bulk_write(db: Database, docs: list[dict], progress: Progress, label: str,
                done: int, total: int, batch: int = 200) -> int:
    for start in range(0, len(docs), batch):
        chunk = docs[start:start + batch]
        for result in db.bulk_docs(chunk):
            if "error" in result:
                raise RuntimeError(f"{label} {result.get('id')}: {result['error']} "
                                   f"{result.get('reason', '')}")
        done += len(chunk)
        progress(done, total, label)
    return done


def apply_plan(plan: ProvisioningPlan, couch: CouchServer, names: DatabaseNames,
               progress: Progress = lambda done, total, label: None) -> None:
    """Write a problem-free plan: jurisdictions, village databases, then accounts."""
    if plan.problems:
        raise ValueError("a plan with problems must not be applied")
    ensure_server_databases(couch, names)
    directory_db = couch.database(names.directory)
    villages = [d["code"] for d in plan.jurisdiction_docs if d["level"] == "village"]
    total = len(plan.jurisdiction_docs) + len(villages) + len(plan.account_docs)
    done = _bulk_write(directory_db, plan.jurisdiction_docs, progress, "jurisdictions", 0, total)
    ensure_village_databases(couch, names, villages,
                             lambda n, _, label: progress(done + n, total, label))
    done += len(villages)
    _bulk_write(directory_db, plan.account_docs, progress, "accounts", done, total)
    log.info("provisioning wrote %d jurisdictions, %d village databases, %d accounts",
             len(plan.jurisdiction_docs), len(villages), len(plan.account_docs))
