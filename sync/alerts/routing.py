"""Who an alert goes to: duty rosters of the town and county, resolved into accounts.

Rosters and accounts are read with one `_all_docs` request and cached for a few seconds (an
alert must not wait on several directory reads); editing a roster here forgets the cache. The
officials of a town or county come from the `routing/officials` view of the directory, keyed
by jurisdiction, never from a read of every account.
"""
from __future__ import annotations

import threading
import time

from models.accounts import account_doc_id
from models.duty_roster import duty_roster_id
from models.hierarchy import jurisdiction_doc_id, parent_code
from sync.couch.client import Database, NotFound
from sync.clock import utc_now
from sync.couch.design import ensure_design_doc
from sync.directory.store import ACCOUNT_LISTENERS

OFFICIAL_ROLES = ("town_official", "county_official")
CACHE_S = 15.0   # fresh: answered as is
STALE_S = 600.0  # usable while a background re-read runs
KEYS_PER_READ = 100  # jurisdictions per view request (the keys go in the URL)
# enabled officials by the jurisdiction they serve (the fallback when nobody is on a roster)
ROUTING_DDOC = {"_id": "_design/routing", "language": "javascript", "views": {"officials": {
    "map": "function (doc) { if (doc.type === 'account' && !doc.disabled && "
           "(doc.role === 'town_official' || doc.role === 'county_official')) "
           "{ emit(doc.jurisdiction, doc.username); } }"}}}
assert all(f"'{role}'" in ROUTING_DDOC["views"]["officials"]["map"] for role in OFFICIAL_ROLES)


class Router:
    """Resolves role tokens (models/escalation.TARGETS) into the accounts to notify."""

    def __init__(self, directory_db: Database, cache_s: float = CACHE_S,
                 stale_s: float = STALE_S):
        self.db, self.cache_s, self.stale_s = directory_db, cache_s, stale_s
        self._cache: dict[str, tuple[float, dict | None]] = {}
        self._lock = threading.Lock()
        self._refreshing = False
        self._epoch = 0  # bumped by every write through this router
        self._officials: dict[str, tuple[float, list[str]]] = {}  # code -> (read at, names)
        ACCOUNT_LISTENERS.add(self.account_changed)  # weakly held

    def account_changed(self, username: str) -> None:
        """An account was changed through this process: forget it and who the officials are
        (other processes' changes are seen within `cache_s`)."""
        self.forget(account_doc_id(username))
        with self._lock:
            self._officials.clear()

    # --- directory documents, briefly cached -----------------------------------------------------
    def docs(self, ids: list[str]) -> dict[str, dict | None]:
        """Directory documents by id (None when absent).

        A cached copy older than `cache_s` is still answered at once and refreshed in the
        background, so an alert never waits for a re-read; one older than `stale_s` is read
        again first."""
        now = time.monotonic()
        found, stale = {}, []
        with self._lock:
            for doc_id in ids:
                hit = self._cache.get(doc_id)
                if hit and now - hit[0] < self.stale_s:
                    found[doc_id] = hit[1]
                    if now - hit[0] >= self.cache_s:
                        stale.append(doc_id)
        missing = [i for i in dict.fromkeys(ids) if i not in found]
        if missing:
            found.update(self._fetch(missing))
        if stale:
            self._refresh_later(stale)
        return found

    def _fetch(self, ids: list[str]) -> dict[str, dict | None]:
        now, epoch = time.monotonic(), self._epoch
        rows = self.db.all_docs(keys=ids, include_docs=True)["rows"]
        fetched = {row["key"]: row.get("doc") for row in rows}
        with self._lock:
            if epoch == self._epoch:  # nothing was written meanwhile: safe to keep
                for doc_id in ids:
                    self._cache[doc_id] = (now, fetched.get(doc_id))
        return {doc_id: fetched.get(doc_id) for doc_id in ids}

    def _refresh_later(self, ids: list[str]) -> None:
        with self._lock:
            if self._refreshing:
                return
            self._refreshing = True

        def refresh() -> None:
            try:
                self._fetch(ids)
            except Exception:  # noqa: BLE001 - the next read will fetch synchronously
                pass
            finally:
                with self._lock:
                    self._refreshing = False
        threading.Thread(target=refresh, name="directory-refresh", daemon=True).start()

    def prefetch(self, village: str) -> None:
        """Read a village's places and both rosters in one request (before an alert needs them)."""
        town = parent_code(village)
        self.docs([jurisdiction_doc_id(village), jurisdiction_doc_id(town),
                   duty_roster_id(town), duty_roster_id(parent_code(town))])

    def forget(self, doc_id: str) -> None:
        """Drop one document from the cache (after writing it)."""
        with self._lock:
            self._cache.pop(doc_id, None)
            self._epoch += 1

    # --- places ----------------------------------------------------------------------------------
    def warm(self) -> None:
        """Cache every jurisdiction and roster in one pass (a village's first alert then
        finds its names and rosters without a read)."""
        now, epoch = time.monotonic(), self._epoch
        docs = [*self.db.docs_with_prefix("jurisdiction:"),
                *self.db.docs_with_prefix("duty_roster:")]
        with self._lock:
            if epoch == self._epoch:
                for doc in docs:
                    self._cache.setdefault(doc["_id"], (now, doc))

    def places(self, village: str) -> dict:
        """Codes and names of a village, its town and county."""
        town = parent_code(village)
        county = parent_code(town)
        docs = self.docs([jurisdiction_doc_id(village), jurisdiction_doc_id(town)])
        name = lambda code: (docs.get(jurisdiction_doc_id(code)) or {}).get("name")  # noqa: E731
        return {"village_code": village, "village_name": name(village), "town_code": town,
                "town_name": name(town), "county_code": county}

    # --- rosters ---------------------------------------------------------------------------------
    def roster(self, code: str) -> dict:
        """The duty roster of a town or county (empty when none was set)."""
        doc = self.docs([duty_roster_id(code)])[duty_roster_id(code)]
        return doc or {"_id": duty_roster_id(code), "code": code, "on_duty": [], "leader": None,
                       "mediators": []}

    def save_roster(self, code: str, on_duty: list[str], leader: str | None, by: str,
                    mediators: list[dict] | None = None) -> dict:
        """Replace the roster of a town or county (`mediators` None: the list stays)."""
        doc_id = duty_roster_id(code)
        current = self.db.get_or_none(doc_id)
        if mediators is None:
            mediators = (current or {}).get("mediators") or []
        doc = {"_id": doc_id, "type": "duty_roster", "schema_version": 1, "code": code,
               "on_duty": list(dict.fromkeys(on_duty)), "leader": leader,
               "mediators": [{"name": m["name"], "phone": m["phone"]} for m in mediators],
               "updated_at": utc_now(), "updated_by": by}
        if current:
            doc["_rev"] = current["_rev"]
        self.db.put(doc)
        self.forget(doc_id)
        return doc

    # --- officials by jurisdiction (the fallback when nobody is on a roster) -------------------
    def officials_of(self, code: str) -> list[str]:
        """Usernames of the enabled officials of exactly `code` (a town or a county), sorted;
        read again once `cache_s` seconds old."""
        return self.officials_in([code])[code]

    def officials_in(self, codes: list[str]) -> dict[str, list[str]]:
        """officials_of for several codes, those not read within `cache_s` in one view read."""
        now = time.monotonic()
        wanted = list(dict.fromkeys(codes))
        with self._lock:
            found = {code: hit[1] for code in wanted
                     if (hit := self._officials.get(code)) and now - hit[0] < self.cache_s}
        missing = [code for code in wanted if code not in found]
        if missing:
            read = self._read_officials(missing)
            with self._lock:
                for code in missing:
                    self._officials[code] = (now, read[code])
            found.update(read)
        return {code: found[code] for code in wanted}

    def _read_officials(self, codes: list[str]) -> dict[str, list[str]]:
        read: dict[str, list[str]] = {code: [] for code in codes}
        for start in range(0, len(codes), KEYS_PER_READ):
            for row in self._officials_rows(codes[start:start + KEYS_PER_READ]):
                read[row["key"]].append(row["value"])
        return {code: sorted(names) for code, names in read.items()}

    def _officials_rows(self, codes: list[str]) -> list[dict]:
        try:
            return self.db.view("routing", "officials", keys=codes)["rows"]
        except NotFound:  # a directory from before the view: install it once, then ask again
            self.ensure_design()
            return self.db.view("routing", "officials", keys=codes)["rows"]

    def ensure_design(self) -> None:
        """Install the routing view in the directory database (idempotent)."""
        ensure_design_doc(self.db, ROUTING_DDOC)

    def accounts(self, names: list[str | None]) -> dict[str, dict]:
        """The account documents of `names` as they are now (one read), by username; names
        without an account are left out."""
        wanted = [n for n in dict.fromkeys(names) if n]
        if not wanted:
            return {}
        rows = self.db.all_docs(keys=[account_doc_id(n) for n in wanted], include_docs=True)["rows"]
        return {doc["username"]: doc for row in rows if (doc := row.get("doc"))}

    def town_duty(self, town_code: str, county_code: str) -> tuple[list[str], str]:
        """Who answers a town's alerts and why: its roster, else its officials, else the
        county's roster, its officials, its leader (never nobody while any official exists)."""
        town, county = self.roster(town_code), self.roster(county_code)
        for names, source in ((town["on_duty"], "town_roster"),
                              (self.officials_of(town_code), "town_officials"),
                              (county["on_duty"], "county_roster"),
                              (self.officials_of(county_code), "county_officials"),
                              ([county.get("leader")] if county.get("leader") else [],
                               "county_leader")):
            live = self.enabled(names)
            if live:
                return live, source
        return [], "nobody"

    def enabled(self, names: list[str | None]) -> list[str]:
        """The names of `names` that are enabled accounts, each once, in order."""
        wanted = [n for n in dict.fromkeys(names) if n]
        accounts = self.docs([account_doc_id(n) for n in wanted])
        return [n for n in wanted
                if (doc := accounts.get(account_doc_id(n))) and not doc.get("disabled")]

    def recipients(self, targets: tuple[str, ...], alert: dict) -> list[dict]:
        """Enabled accounts named by `targets` for this alert, each once, in target order."""
        town, county = self.roster(alert["town_code"]), self.roster(alert["county_code"])
        names: list[str] = []
        for target in targets:
            if target == "town_duty":
                names += self.town_duty(alert["town_code"], alert["county_code"])[0]
            elif target == "county_duty":
                names += county["on_duty"] or self.officials_of(alert["county_code"])
            elif target == "town_leader":
                names.append(town.get("leader"))
            elif target == "county_leader":
                names.append(county.get("leader"))
            elif target == "acknowledger":
                names.append(alert.get("acknowledged_by"))
        wanted = self.enabled(names)
        accounts = self.docs([account_doc_id(n) for n in wanted])
        return [accounts[account_doc_id(n)] for n in wanted]
