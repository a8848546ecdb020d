"""A change follower over every village database, for reactions that must not miss a write.

Each consumer (the alert sweep, later reconciliation, photo processing) reads each village
database's `_changes` from its own stored checkpoint (`checkpoint:<consumer>:<village>` in the
state database), hands every change to its transitions (CHT-sentinel style: `filter(change)` is
cheap and pure, `on_match(change, village)` does the work and must be idempotent), then stores
the checkpoint. A transition that fails is retried on the next sweep, at most `max_retries`
times per (document, revision); then the change becomes a dead letter and the feed moves on,
so one bad document never stalls a village.

Idle cost: a village whose `update_seq` equals the one seen at the end of the last read is
skipped after a single `GET /db` (sequences are compared for equality only, never ordered or
parsed). Where the server has `_db_updates` (CouchDB 3.x with `_global_changes`), only the
villages it names are read, with a full pass every `full_pass_s` because its events can be
missed; pouchdb-server answers 400 and the full pass is used every time.
"""
from __future__ import annotations

import logging
import time
import traceback
from typing import Protocol

from sync.couch import BadRequest, Conflict, CouchError, CouchServer, Database, NotFound
from sync.directory import Directory, utc_now
from sync.naming import DatabaseNames

log = logging.getLogger("fieldsync.village_feed")


class Transition(Protocol):
    """One reaction to village changes."""
    name: str

    def filter(self, change: dict) -> bool: ...

    def on_match(self, change: dict, village: str) -> None: ...


def checkpoint_id(consumer: str, village: str) -> str:
    """The state document holding a consumer's position in one village's feed."""
    return f"checkpoint:{consumer}:{village}"


class VillageFeed:
    """Follows every village database for one consumer."""

    def __init__(self, couch: CouchServer, names: DatabaseNames, directory: Directory,
                 state_db: Database, consumer: str, transitions: list[Transition],
                 batch: int = 200, max_retries: int = 3, registry_cache_s: float = 30.0,
                 full_pass_s: float = 60.0, include_docs: bool = True):
        self.couch, self.names, self.directory, self.state_db = couch, names, directory, state_db
        self.consumer, self.transitions, self.batch = consumer, list(transitions), batch
        self.max_retries, self.registry_cache_s, self.full_pass_s = (
            max_retries, registry_cache_s, full_pass_s)
        # False: filters see ids only and just the matching documents are fetched (cheap
        # when most changes are of no interest to this consumer)
        self.include_docs = include_docs
        self._seen: dict[str, str] = {}
        self._failures: dict[tuple, int] = {}
        self._villages: tuple[float, list[str]] = (0.0, [])
        self._db_updates: bool | None = None
        self._updates_since = "now"
        self._last_full_pass = 0.0

    # --- which villages to look at ---------------------------------------------------------------
    def villages(self) -> list[str]:
        """The registry of village databases (Directory.villages), briefly cached."""
        fetched_at, codes = self._villages
        if time.monotonic() - fetched_at > self.registry_cache_s:
            codes = self.directory.villages()
            self._villages = (time.monotonic(), codes)
        return codes

    def _candidates(self) -> list[str]:
        villages = self.villages()
        if self._db_updates is False or time.monotonic() - self._last_full_pass > self.full_pass_s:
            self._poll_db_updates()  # keeps its `since` current even on a full pass
            self._last_full_pass = time.monotonic()
            return villages
        updated = self._poll_db_updates()
        if updated is None:
            return villages
        return [code for code in villages if self.names.village(code) in updated]

    def _poll_db_updates(self) -> set[str] | None:
        """Database names `_db_updates` reports since last time; None where it is missing."""
        if self._db_updates is False:
            return None
        try:
            answer = self.couch.json("GET", "/_db_updates",
                                     params={"feed": "normal", "since": self._updates_since},
                                     headers={"Accept-Encoding": "identity"})
        except (BadRequest, NotFound):
            self._db_updates = False
            return None
        except CouchError as exc:
            log.warning("_db_updates failed (%s); reading every village", exc)
            return None
        self._db_updates = True
        self._updates_since = str(answer.get("last_seq", self._updates_since))
        return {row.get("db_name") for row in answer.get("results", [])}

    # --- reading ---------------------------------------------------------------------------------
    def sweep(self, max_items: int | None = None, until_idle: bool = True,
              max_rounds: int | None = None) -> int:
        """Read every village's new changes, a page per village per round, until a round finds
        nothing (or a limit is reached); returns how many changes were handled."""
        handled = rounds = 0
        while max_rounds is None or rounds < max_rounds:
            rounds += 1
            budget = None if max_items is None else max_items - handled
            if budget is not None and budget <= 0:
                return handled
            this_round = 0
            for village in self._candidates():  # one page per village per round: fair
                left = self.batch if budget is None else min(self.batch, budget - this_round)
                if left <= 0:
                    break
                try:
                    this_round += self.follow(village, left)
                except CouchError as exc:
                    log.warning("village %s: feed read failed: %s", village, exc)
            handled += this_round
            if not until_idle or this_round == 0:
                return handled
        return handled

    def follow(self, village: str, max_items: int | None = None) -> int:
        """Handle one village's changes since its checkpoint; returns how many were handled."""
        db = self.couch.database(self.names.village(village))
        try:
            update_seq = str(db.info()["update_seq"])
        except NotFound:
            return 0
        if self._seen.get(village) == update_seq:
            return 0
        checkpoint = self.state_db.get_or_none(checkpoint_id(self.consumer, village))
        since = start = checkpoint["since"] if checkpoint else "0"
        handled = 0
        complete = False
        while max_items is None or handled < max_items:
            limit = self.batch if max_items is None else min(self.batch, max_items - handled)
            page = db.changes(since, limit=limit, include_docs=self.include_docs)
            if not self.include_docs:
                self._attach_docs(db, page.results)
            stalled = False
            for change in page.results:
                if not self._dispatch(village, change):
                    stalled = True
                    break
                since = str(change["seq"])
                handled += 1
            if stalled:
                break
            since = page.last_seq
            if len(page.results) < limit:
                complete = True
                break
        if since != start:
            self._save_checkpoint(village, checkpoint, since)
        if complete and since == update_seq:
            # only skip this village later when the feed itself has reached the sequence the
            # database reported: pouchdb-server can report a write in `update_seq` a moment
            # before its changes feed lists it (sequences are compared for equality only)
            self._seen[village] = update_seq
        return handled

    def _attach_docs(self, db: Database, changes: list[dict]) -> None:
        """Fetch the documents of the changes some transition wants (filters see ids only)."""
        wanted = [c for c in changes if not c.get("deleted")
                  and any(t.filter(c) for t in self.transitions)]
        if not wanted:
            return
        rows = db.all_docs(keys=[c["id"] for c in wanted], include_docs=True)["rows"]
        docs = {row["key"]: row.get("doc") for row in rows}
        for change in wanted:
            change["doc"] = docs.get(change["id"])

    def _dispatch(self, village: str, change: dict) -> bool:
        """Run the matching transitions; False when one failed and should be retried later."""
        for transition in self.transitions:
            try:
                if not transition.filter(change):
                    continue
                transition.on_match(change, village)
            except Exception as exc:  # noqa: BLE001 - any failure is retried, then dead-lettered
                rev = (change.get("changes") or [{}])[0].get("rev", "")
                key = (village, change["id"], rev, transition.name)
                self._failures[key] = self._failures.get(key, 0) + 1
                log.warning("%s/%s failed on %s (attempt %d): %s", self.consumer,
                            transition.name, change["id"], self._failures[key], exc)
                if self._failures[key] < self.max_retries:
                    return False
                self._dead_letter(village, change, rev, transition.name, exc)
                self._failures.pop(key, None)
        return True

    def _dead_letter(self, village: str, change: dict, rev: str, transition: str,
                     exc: Exception) -> None:
        doc = {"_id": f"dead_letter:{self.consumer}:{village}:{change['id']}:{rev}:{transition}",
               "type": "dead_letter", "schema_version": 1, "consumer": self.consumer,
               "transition": transition, "village_code": village, "doc_id": change["id"],
               "doc_rev": rev, "error": f"{exc.__class__.__name__}: {exc}"[:1000],
               "trace": traceback.format_exc()[-4000:], "at": utc_now()}
        self.state_db.create_doc(doc)

    def _save_checkpoint(self, village: str, current: dict | None, since: str) -> None:
        doc = current or {"_id": checkpoint_id(self.consumer, village), "type": "checkpoint",
                          "schema_version": 1, "consumer": self.consumer,
                          "village_code": village}
        for _ in range(3):
            doc.update(since=since, updated_at=utc_now())
            try:
                self.state_db.put(doc)
                return
            except Conflict:  # another worker moved it: ours is as good (transitions are idempotent)
                latest = self.state_db.get_or_none(doc["_id"])
                if latest:
                    doc["_rev"] = latest["_rev"]
                else:
                    doc.pop("_rev", None)

    def dead_letters(self) -> list[dict]:
        """Changes this consumer gave up on."""
        return list(self.state_db.docs_with_prefix(f"dead_letter:{self.consumer}:"))
