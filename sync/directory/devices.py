"""The device registry: which devices sync, with which app version, and when they last did.

One `device:<id>` document per device in the directory database. Updates are throttled in
memory: at most one write per device and kind of event every THROTTLE_S seconds per process,
so a device polling every few seconds does not cause a write each time.
"""
from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta, timezone

from models.session import DEVICE_ID_PATTERN
from sync.couch.client import Conflict, Database
from sync.clock import utc_now

DEVICE_ID_RE = re.compile(DEVICE_ID_PATTERN)
THROTTLE_S = 30.0


class DeviceRegistry:
    """Records device contacts in the directory database."""

    def __init__(self, db: Database):
        self.db = db
        self._last: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def _due(self, device_id: str, event: str) -> bool:
        now = time.monotonic()
        with self._lock:
            last = self._last.get((device_id, event))
            if last is not None and now - last < THROTTLE_S:
                return False
            self._last[(device_id, event)] = now
            return True

    def record(self, device_id: str | None, event: str, username: str, village: str,
               platform: str | None = None, app_version: str | None = None) -> None:
        """Note a contact ("contact", "pull" or "push") by a device; unknown ids are ignored."""
        if not device_id or not DEVICE_ID_RE.match(device_id) or not self._due(device_id, event):
            return
        now = utc_now()
        for _ in range(3):
            doc = self.db.get_or_none(f"device:{device_id}") or {
                "_id": f"device:{device_id}", "type": "device", "schema_version": 1,
                "device_id": device_id, "first_seen": now}
            doc.update(username=username, village_code=village, last_contact=now)
            if platform:
                doc["platform"] = platform[:40]
            if app_version:
                doc["app_version"] = app_version[:40]
            if event in ("push", "pull"):
                doc[f"last_{event}"] = now
            try:
                self.db.put(doc)
                return
            except Conflict:
                continue

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
