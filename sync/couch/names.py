"""Database names: one place decides what every fieldsync database is called.

A prefix (FIELDSYNC_DB_PREFIX, default `fieldsync_`) lets several installations, or a test run,
share one CouchDB server. Names stay inside CouchDB's rule `^[a-z][a-z0-9_$()+/-]*$`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX_RE = re.compile(r"^[a-z][a-z0-9_]*$")


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
        """The database a village's devices replicate with."""
        return f"{self.prefix}village_{code}"

    def village_code(self, database: str) -> str | None:
        """The village code of a village database name, or None for any other database."""
        head = f"{self.prefix}village_"
        if database.startswith(head) and database[len(head):].isdigit():
            return database[len(head):]
        return None
