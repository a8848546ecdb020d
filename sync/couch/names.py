"""Database names: one place decides what every fieldsync database is called.

A prefix (FIELDSYNC_DB_PREFIX, default `fieldsync_`) lets several installations, or a test run,
share one CouchDB server. Names stay inside CouchDB's rule `^[a-z][a-z0-9_$()+/-]*$`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
# CouchDB 3.x refuses any other database name with 400 illegal_database_name (pouchdb-server
# accepts bad names and turns `a%2Fb` into `ab`): check before asking, so both behave alike.
DATABASE_NAME_RE = re.compile(r"[a-z][a-z0-9_$()+/-]*\Z")
VILLAGE_CODE_RE = re.compile(r"[0-9]{1,32}\Z")  # \Z: `$` lets "…\n" through


def valid_database_name(name: str) -> bool:
    """Whether CouchDB 3.x accepts `name` as a database name (at most 238 characters)."""
    return len(name) <= 238 and DATABASE_NAME_RE.match(name) is not None


@dataclass(frozen=True)
class DatabaseNames:
    """The names of the server-owned databases and of each village's database."""
    prefix: str = "fieldsync_"

    def __post_init__(self) -> None:
        if not PREFIX_RE.match(self.prefix):
            raise ValueError(f"database prefix {self.prefix!r} must match {PREFIX_RE.pattern}")

    @property
    def directory(self) -> str:
        """Jurisdictions, accounts, duty rosters, devices."""
        return f"{self.prefix}directory"

    @property
    def state(self) -> str:
        """Worker heartbeats, feed checkpoints, leases."""
        return f"{self.prefix}state"

    @property
    def audit(self) -> str:
        """The append-only audit trail."""
        return f"{self.prefix}audit"

    @property
    def review(self) -> str:
        """What the central office works through: quarantine entries, review tasks, conflicts."""
        return f"{self.prefix}review"

    @property
    def photos(self) -> str:
        """Photo jobs and processed photo records with their served copies."""
        return f"{self.prefix}photos"

    @property
    def alerts(self) -> str:
        """Mediation alerts, their outbox (deliveries) and officials' case notes."""
        return f"{self.prefix}alerts"

    @property
    def central(self) -> str:
        """The reconciled central view of all villages (households, mediation cases)."""
        return f"{self.prefix}central"

    @property
    def server_databases(self) -> tuple[str, ...]:
        """Every server-owned database, created at startup."""
        return (self.directory, self.state, self.audit, self.review, self.photos, self.alerts,
                self.central)

    def village(self, code: str) -> str:
        """The database a village's devices replicate with; a code that is not all digits is
        refused (ValueError) before it can name anything."""
        if not isinstance(code, str) or not VILLAGE_CODE_RE.match(code):
            raise ValueError(f"village code {code!r} must be digits only")
        return f"{self.prefix}village_{code}"

    def village_code(self, database: str) -> str | None:
        """The village code of a village database name, or None for any other database."""
        head = f"{self.prefix}village_"
        if database.startswith(head) and VILLAGE_CODE_RE.match(database[len(head):]):
            return database[len(head):]
        return None
