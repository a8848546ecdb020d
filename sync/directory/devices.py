"""The device registry: which devices sync, with which app version, and when they last did.

One `device:<id>` document per device in the directory database. A device id belongs to the
account that registered it (its first login): another account logging in with it is refused
(409 `device_id_taken`; on a cluster, where two accounts' claims can both be accepted, the claim
is read back and the one that is not first is refused at once) and contacts claiming it are
not recorded, so the owner's town official
keeps seeing it and can revoke it. Updates are throttled in memory: at most one write per
device and kind of event every THROTTLE_S seconds per process, so a device polling every few
seconds does not cause a write each time.
"""
from __future__ import annotations

import logging
import re
import threading
import time
from datetime import datetime, timedelta, timezone

from models.device_status import apply_status
from models.session import DEVICE_ID_PATTERN
from sync.clock import utc_now
from sync.cluster.directory_merges import merge_device
from sync.cluster.read_back import read_back, withdraw
from sync.couch.client import Conflict, Database

log = logging.getLogger("fieldsync.devices")
DEVICE_ID_RE = re.compile(DEVICE_ID_PATTERN)
THROTTLE_S = 30.0


class DeviceTaken(Exception):
    """Another account registered this device id."""


class DeviceRegistry:
    """Records device contacts in the directory database."""

    def __init__(self, db: Database):
        self.db = db
        self._last: dict[tuple[str, str], float] = {}
        self._reported: dict[str, tuple[int, int]] = {}  # device id -> (pending, refused) written
        self._lock = threading.Lock()

    def _due(self, device_id: str, username: str, event: str) -> bool:
        now = time.monotonic()
        with self._lock:
            last = self._last.get((device_id, username, event))
            if last is not None and now - last < THROTTLE_S:
                return False
            if len(self._last) > 50_000:  # ids come from headers: keep the memory bounded
                self._last.clear()
            self._last[(device_id, username, event)] = now
            return True

    def claim(self, device_id: str, username: str, village: str, platform: str | None = None,
              app_version: str | None = None) -> dict:
        """Register a device to the account logging in on it, or note the contact if it is
        already theirs; raises DeviceTaken when another account registered this id."""
        for _ in range(5):
            doc = self.db.get_or_none(f"device:{device_id}")
            if doc is not None and doc.get("username") != username:
                raise DeviceTaken(device_id)
            doc = self._touched(doc, device_id, username, village, "contact", platform, app_version)
            created = "_rev" not in doc
            try:
                self.db.put(doc)  # a new id is created without a rev: a rival gets 409
            except Conflict:
                continue
            if created:
                self._confirm(doc)
            return doc
        raise DeviceTaken(device_id)

    def _confirm(self, doc: dict) -> None:
        """Read a claim back: a cluster may have accepted a rival account's claim of the same
        id as well (201 + 202). The owner is the one the sweeper's merge keeps
        (sync/cluster/directory_merges.py, the first to see it); if that is not us, our leaf is
        withdrawn and we are refused now rather than after the merge."""
        leaves = read_back(self.db, doc)
        if len({leaf.get("username") for leaf in leaves}) < 2:
            return
        owner = merge_device(leaves).get("username")
        if owner != doc["username"]:
            withdraw(self.db, doc["_id"], doc["_rev"])
            log.warning("device id %s was claimed by %s and %s at once: %s keeps it",
                        doc["device_id"], owner, doc["username"], owner)
            raise DeviceTaken(doc["device_id"])

    def owner(self, device_id: str) -> str | None:
        """The account that registered a device, or None."""
        doc = self.db.get_or_none(f"device:{device_id}") if DEVICE_ID_RE.match(device_id) else None
        return doc.get("username") if doc else None

    def record(self, device_id: str | None, event: str, username: str, village: str,
               platform: str | None = None, app_version: str | None = None,
               status: dict | None = None) -> None:
        """Note a contact ("contact", "pull" or "push") by a device of this account, with what it
        says it holds (models/device_status.py; a changed count is written at once, throttle or
        not); ids that another account registered are left alone (never taken over)."""
        if not device_id or not DEVICE_ID_RE.match(device_id):
            return
        counts = (status["pending"], status["refused"]) if status else None
        changed = counts is not None and self._reported.get(device_id) != counts
        if not self._due(device_id, username, event) and not changed:
            return
        for _ in range(3):
            doc = self.db.get_or_none(f"device:{device_id}")
            if doc is not None and doc.get("username") != username:
                log.warning("%s used device id %s of %s: not recorded", username, device_id,
                            doc.get("username"))
                return
            doc = self._touched(doc, device_id, username, village, event, platform, app_version)
            if status:
                apply_status(doc, status, doc["last_contact"])
            try:
                self.db.put(doc)
            except Conflict:
                continue
            if counts is not None:
                with self._lock:
                    if len(self._reported) > 50_000:
                        self._reported.clear()
                    self._reported[device_id] = counts
            return

    @staticmethod
    def _touched(doc: dict | None, device_id: str, username: str, village: str, event: str,
                 platform: str | None, app_version: str | None) -> dict:
        now = utc_now()
        doc = doc or {"_id": f"device:{device_id}", "type": "device", "schema_version": 1,
                      "device_id": device_id, "username": username, "first_seen": now}
        doc.update(village_code=village, last_contact=now)
        if platform:
            doc["platform"] = platform[:40]
        if app_version:
            doc["app_version"] = app_version[:40]
        if event in ("push", "pull"):
            doc[f"last_{event}"] = now
        return doc

    def devices(self) -> list[dict]:
        """Every registered device."""
        return list(self.db.docs_with_prefix("device:"))

    def stale(self, older_than: timedelta, within: str | None = None) -> list[dict]:
        """Devices whose last contact is older than `older_than`, oldest first."""
        cutoff = (datetime.now(timezone.utc) - older_than).isoformat(timespec="milliseconds")
        cutoff = cutoff.replace("+00:00", "Z")
        found = [d for d in self.devices() if d.get("last_contact", "") < cutoff
                 and (within is None or d.get("village_code", "").startswith(within))]
        return sorted(found, key=lambda d: d.get("last_contact", ""))
