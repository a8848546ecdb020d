"""Provisioning: server databases, village databases, and jurisdictions/accounts from files.

A provisioning run is planned in full before anything is written: every row is checked against
the file and the directory, and any problem stops the run with nothing applied. The writes of a
plan are idempotent, so a run cut short by a server outage is finished by running it again.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

from models.accounts import account_doc_id, generate_password, hash_password, verify_password
from models.hierarchy import LEVELS, jurisdiction_doc_id
from models.provisioning import ParsedFile, RowProblem
from sync.couch.client import ADMIN_ONLY_SECURITY, CouchServer, Database
from sync.couch.design import (VILLAGE_INDEXES, audit_design_doc, photos_design_doc, same_design,
                               village_design_doc)
from sync.clock import utc_now
from sync.directory.store import Directory
from sync.couch.names import DatabaseNames

log = logging.getLogger("fieldsync.provisioning")

ACCOUNT_FIELDS = ("display_name", "role", "jurisdiction", "phone", "disabled")

Progress = Callable[[int, int, str], None]


def _secure(db: Database) -> bool:
    if db.security() == ADMIN_ONLY_SECURITY:
        return False
    db.set_security(ADMIN_ONLY_SECURITY)
    return True


def ensure_design_doc(db: Database, wanted: dict) -> bool:
    """Install or update one design document; False when it was already as wanted."""
    current = db.get_or_none(wanted["_id"])
    if same_design(current, wanted):
        return False
    db.put({**wanted, **({"_rev": current["_rev"]} if current else {})})
    return True


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
    """Create or update a village database, its design document, indexes and security."""
    db = couch.database(names.village(code))
    changed = db.create()
    changed |= _secure(db)
    changed |= ensure_design_doc(db, village_design_doc(code))
    if changed:
        for index_name, index_fields in VILLAGE_INDEXES:
            db.create_index(index_fields, index_name, ddoc="fieldsync-indexes")
    return changed


@dataclass
class ProvisioningPlan:
    """What a provisioning run will write, or the problems that stop it."""
    jurisdiction_docs: list[dict] = field(default_factory=list)
    account_docs: list[dict] = field(default_factory=list)
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    generated_passwords: dict[str, str] = field(default_factory=dict)

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
    return known


def _plan_accounts(parsed: ParsedFile, directory: Directory, plan: ProvisioningPlan,
                   known_codes: set) -> None:
    existing = directory.account_docs()
    seen: set[str] = set()
    now = utc_now()
    for row in (r for r in parsed.rows if r.kind == "account"):
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
                   "password_hash": hash_password(password), "token_generation": 0,
                   "created_at": now, "updated_at": now}
            plan.account_docs.append(doc)
            continue
        changed = {k: values.get(k) for k in compared if old.get(k) != values.get(k)}
        if password and not verify_password(password, old.get("password_hash")):
            changed.update(password_hash=hash_password(password), password_changed_at=now,
                           token_generation=old.get("token_generation", 0) + 1)
        if not changed:
            plan.unchanged += 1
            continue
        plan.account_docs.append({**old, **changed, "updated_at": now})


def plan_provisioning(parsed: ParsedFile, directory: Directory) -> ProvisioningPlan:
    """Check parsed rows against each other and the directory; decide what to write."""
    plan = ProvisioningPlan(problems=list(parsed.problems))
    known = _plan_jurisdictions(parsed, directory, plan)
    _plan_accounts(parsed, directory, plan, known)
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
    for code in villages:
        ensure_village_database(couch, names, code)
        done += 1
        if done % 10 == 0 or code == villages[-1]:
            progress(done, total, "village databases")
    _bulk_write(directory_db, plan.account_docs, progress, "accounts", done, total)
    log.info("provisioning wrote %d jurisdictions, %d village databases, %d accounts",
             len(plan.jurisdiction_docs), len(villages), len(plan.account_docs))
