"""A change follower over every village database, for reactions that must not miss a write.

Each consumer (the alert sweep, later reconciliation, photo processing) reads each village
database's `_changes` from its own stored checkpoint (`checkpoint:<consumer>:<village>` in the
state database), hands every change to its transitions (CHT-sentinel style: `filter(change)` is
cheap and pure, `on_match(change, village)` does the work and must be idempotent), then stores
the checkpoint. A transition that fails is retried on the next sweep, at most `max_retries`
times per (document, revision); then the change becomes a dead letter and the feed moves on,
so one bad document never stalls a village.

Which villages to read (idle cost that does not grow with the number of villages): between
full passes, only those named by the audit feed (sync/feeds/signals.py: every write fieldsync
makes leaves an audit record naming its village), by `_db_updates` where the server has it
(CouchDB 3.x; pouchdb-server answers 400), or whose last read found something. A full pass over
every village runs first, then whenever the audit feed shows that a web process started (a
killed one may have left a write without its record), and every `full_pass_s` (30 minutes by
default: a write straight into CouchDB leaves no record on a server without `_db_updates`).
On a full pass a village costs one `_changes` read from its stored checkpoint: an empty answer
is how "unchanged" is decided (sequences are opaque: a cluster's `update_seq` of `GET /db` never
equals the feed's `last_seq`, so comparing them decides nothing). Only villages this worker owns
are read (`owns`, sync/cluster/membership.py: villages split over the live workers); a village
it gains from another worker is read at once, from the stored checkpoint.

Transitions that have `on_batch(changes, village)` get each page's matching changes at once
(one read and one write of what they derive); when it raises, the page is taken one change at
a time, so a bad document is still retried and dead-lettered on its own. `parallel` villages
are read at a time, so the worker's Python and the database server overlap their work.
"""
from __future__ import annotations

import logging
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Protocol

from sync.couch.client import BadRequest, Conflict, CouchError, CouchServer, Database, NotFound
from sync.clock import utc_now
from sync.directory.store import Directory
from sync.couch.names import DatabaseNames
from sync.feeds.signals import VillageSignals

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
                 full_pass_s: float = 1800.0, include_docs: bool = True, parallel: int = 1,
                 owns: Callable[[str], bool] | None = None):
        self.couch, self.names, self.directory, self.state_db = couch, names, directory, state_db
        self.consumer, self.transitions, self.batch = consumer, list(transitions), batch
        self.max_retries, self.registry_cache_s, self.full_pass_s = (
            max_retries, registry_cache_s, full_pass_s)
        # False: filters see ids only and just the matching documents are fetched (cheap
        # when most changes are of no interest to this consumer)
        self.include_docs = include_docs
        # villages followed at once: the worker's Python and the server overlap their work
        self.parallel = parallel
        self._pool: ThreadPoolExecutor | None = None
        self.signals = VillageSignals(couch.database(names.audit))
        self._pending: set[str] = set()
        self._checkpoints: dict[str, dict | None] = {}
        self._last_full_pass = -float("inf")
        # which villages are this worker's (None: all; the worker sets its membership's)
        self.owns = owns
        self._owned: set[str] | None = None
        self._failures: dict[tuple, int] = {}
        self._villages: tuple[float, list[str]] = (-float("inf"), [])
        self._directory_seq: str | None = None
        self._db_updates: bool | None = None
        self._updates_since = "now"

    # --- which villages to look at ---------------------------------------------------------------
    def villages(self) -> list[str]:
        """The registry of village databases (Directory.villages), briefly cached, and read
        again only when the directory database has changed (one `GET /db` to find out)."""
        fetched_at, codes = self._villages
        if time.monotonic() - fetched_at > self.registry_cache_s:
            changed, position = True, None
            try:  # unchanged = the directory's feed has nothing after the position kept
                if self._directory_seq is not None:
                    changed = bool(self.directory.db.changes(self._directory_seq,
                                                             limit=1).results)
                position = self.directory.db.changes("now").last_seq if changed \
                    else self._directory_seq
            except CouchError as exc:
                log.warning("directory not read (%s): using the villages known", exc)
            if changed:
                codes = self.directory.villages()
            self._villages, self._directory_seq = (time.monotonic(), codes), position
        return codes

    def _candidates(self) -> tuple[list[str], bool]:
        """The villages to look at this round, and whether they were named as having news:
        every one on a full pass (the first, then every `full_pass_s`; not named); otherwise
        those the audit feed or `_db_updates` name, plus those whose last read found something
        (a worker's own writes, such as merged conflicts)."""
        villages = self._owned_villages()
        if time.monotonic() - self._last_full_pass > self.full_pass_s:
            return self._full_pass(villages)
        named = set(self._pending)
        written = self.signals.written()
        if written is None:
            return self._full_pass(villages)
        named |= written
        updated = self._poll_db_updates()
        if updated is not None:
            named |= {code for code in villages if self.names.village(code) in updated}
        if self.owns is not None:
            named = {code for code in named if self.owns(code)}
        self._pending.difference_update(named)
        # a village the cached registry does not list yet is looked at all the same
        return [code for code in villages if code in named] + sorted(named - set(villages)), True

    def _owned_villages(self) -> list[str]:
        """The registry's villages this worker owns; one it has just gained (a worker left,
        or joined and its handover ended) is read at once from its stored checkpoint."""
        villages = self.villages()
        if self.owns is None:
            return villages
        owned = [code for code in villages if self.owns(code)]
        if self._owned is not None:
            gained = set(owned) - self._owned
            if gained:
                log.info("%s: %d villages handed over to this worker", self.consumer, len(gained))
                self._pending |= gained
            self._checkpoints = {code: cp for code, cp in self._checkpoints.items()
                                 if code in owned}  # another worker moved those meanwhile
        self._owned = set(owned)
        return owned

    def _full_pass(self, villages: list[str]) -> tuple[list[str], bool]:
        self.signals.reset()  # first: what is written during the pass is named next round
        self._poll_db_updates()  # keeps its `since` current
        self._last_full_pass = time.monotonic()
        self._pending.clear()
        return villages, False

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
              max_rounds: int | None = None, deadline: float | None = None,
              stop: Callable[[], bool] | None = None) -> int:
        """Read every village's new changes, a page per village per round, until a round finds
        nothing (or a limit is reached: items, rounds, a `time.monotonic()` deadline, or
        `stop()` turning true); returns how many changes were handled."""
        handled = rounds = 0
        while max_rounds is None or rounds < max_rounds:
            if rounds and ((deadline is not None and time.monotonic() > deadline)
                           or (stop is not None and stop())):
                return handled
            rounds += 1
            budget = None if max_items is None else max_items - handled
            if budget is not None and budget <= 0:
                return handled
            this_round = self._round(budget, stop)
            handled += this_round
            if not until_idle or this_round == 0:
                return handled
        return handled

    def _round(self, budget: int | None, stop: Callable[[], bool] | None) -> int:
        """One page per candidate village (fair); `parallel` villages at a time when no item
        budget is set (with one, villages are read in turn, each up to what is left)."""
        villages, named = self._candidates()
        if budget is not None or self.parallel <= 1 or len(villages) <= 1:
            done = 0
            for village in villages:
                left = self.batch if budget is None else min(self.batch, budget - done)
                if left <= 0:
                    self._pending.add(village)  # over budget: next time
                    continue
                done += self._follow_logged(village, left, named, stop)
            return done
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.parallel, thread_name_prefix=self.consumer)
        futures = [self._pool.submit(self._follow_logged, village, self.batch, named, stop)
                   for village in villages]
        return sum(future.result() for future in futures)

    def _follow_logged(self, village: str, max_items: int, named: bool,
                       stop: Callable[[], bool] | None = None) -> int:
        if stop is not None and stop():
            self._pending.add(village)
            return 0
        try:
            handled = self.follow(village, max_items, named=named)
        except NotFound:  # named by the audit feed, but its database is gone
            return 0
        except CouchError as exc:
            log.warning("village %s: feed read failed: %s", village, exc)
            self._pending.add(village)
            return 0
        if handled:  # look again next round: more may have come, or this round's own writes
            self._pending.add(village)
        return handled

    def follow(self, village: str, max_items: int | None = None, named: bool = False) -> int:
        """Handle one village's changes since its checkpoint; returns how many were handled.
        (`named`: the village is known to have news; either way the feed itself decides.)"""
        db = self.couch.database(self.names.village(village))
        checkpoint = self._checkpoint(village)
        since = start = checkpoint["since"] if checkpoint else "0"
        handled = 0
        while max_items is None or handled < max_items:
            limit = self.batch if max_items is None else min(self.batch, max_items - handled)
            page = db.changes(since, limit=limit, include_docs=self.include_docs,
                              conflicts=self.include_docs)
            if not self.include_docs:
                self._attach_docs(db, page.results)
            done = self._handle_page(village, page.results)
            handled += done
            if done < len(page.results):  # stalled: resume at the first change not done
                self._pending.add(village)  # and retry it next round
                if done:
                    since = str(page.results[done - 1]["seq"])
                break
            since = page.last_seq
            if len(page.results) < limit:  # an empty page: nothing new (the idle answer)
                break
        if since != start:
            self._save_checkpoint(village, checkpoint, since)
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

    def _handle_page(self, village: str, changes: list[dict]) -> int:
        """Run every transition over a page of changes (a batch where the transition takes
        one); returns how many leading changes are done (all of them unless one failed and
        is to be retried later: the checkpoint stops before it)."""
        done = len(changes)
        for transition in self.transitions:
            on_batch = getattr(transition, "on_batch", None)
            if on_batch is not None:
                try:
                    matching = [c for c in changes[:done] if transition.filter(c)]
                    if matching:
                        on_batch(matching, village)
                    continue
                except Exception as exc:  # noqa: BLE001 - retried one by one just below
                    log.warning("%s/%s failed on a page of %d changes of village %s (%s); "
                                "taking them one at a time", self.consumer, transition.name,
                                len(changes[:done]), village, exc)
            for index, change in enumerate(changes[:done]):
                if not self._run(transition, village, change):
                    done = index
                    break
        return done

    def _run(self, transition: Transition, village: str, change: dict) -> bool:
        """Run one transition on one change; False when it failed and should be retried."""
        try:
            if transition.filter(change):
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

    def _checkpoint(self, village: str) -> dict | None:
        """This consumer's checkpoint in a village: kept in memory once read (a 409 on saving
        reads it again), so following a village costs no checkpoint read."""
        if village not in self._checkpoints:
            self._checkpoints[village] = self.state_db.get_or_none(
                checkpoint_id(self.consumer, village))
        return self._checkpoints[village]

    def _save_checkpoint(self, village: str, current: dict | None, since: str) -> None:
        doc = current or {"_id": checkpoint_id(self.consumer, village), "type": "checkpoint",
                          "schema_version": 1, "consumer": self.consumer,
                          "village_code": village}
        for _ in range(3):
            doc.update(since=since, updated_at=utc_now())
            try:
                self.state_db.put(doc)
                self._checkpoints[village] = doc
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
