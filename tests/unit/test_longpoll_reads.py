"""The reads behind held `_changes` longpolls (sync/gateway/longpoll.py): the phones of a village
re-polling one after another from the same `since` cost one upstream read until the village
changes, and never get an answer read before a change they already know of."""
from __future__ import annotations

from sync.gateway.longpoll import ChangeWatch, VillageWatch, Waiter


class NoCouch:
    """ChangeWatch only asks for a pool of its own at construction; these tests start no watcher."""

    def with_own_pool(self, size: int) -> "NoCouch":
        return self


def quiet(answer: dict) -> bool:
    return not answer["results"]


def reader(log: list, results: list):
    def read() -> dict:
        log.append(len(results))
        return {"results": list(results), "last_seq": str(len(results))}
    return read


def watch_and_waiters(count: int) -> tuple[ChangeWatch, VillageWatch, list[Waiter]]:
    watch = VillageWatch("441226101300")
    return ChangeWatch(NoCouch(), None), watch, [Waiter(watch, None) for _ in range(count)]


def test_phones_re_polling_one_after_another_share_one_read_while_nothing_changes():
    changes, watch, waiters = watch_and_waiters(40)
    reads, results = [], []
    for waiter in waiters:  # one by one, never at the same moment: the in-flight sharing cannot help
        answer = changes.read(waiter, waiter.generation(), ("GET", "since=7", b""),
                              reader(reads, results), quiet)
        assert answer == {"results": [], "last_seq": "0"}
    assert len(reads) == 1
    assert changes.figures()["quiet_answers"] == 39


def test_a_change_makes_the_next_phone_read_again_and_see_it():
    changes, watch, (first, second) = watch_and_waiters(2)
    reads, results = [], []
    key = ("GET", "since=7", b"")
    changes.read(first, first.generation(), key, reader(reads, results), quiet)
    results.append({"id": "mediation:1"})
    watch.bump()  # the gateway wrote to the village (or its watcher saw a change)
    answer = changes.read(second, second.generation(), key, reader(reads, results), quiet)
    assert answer["results"] == [{"id": "mediation:1"}] and len(reads) == 2


def test_an_answer_read_before_a_change_is_not_remembered_for_after_it():
    changes, watch, (first, second) = watch_and_waiters(2)
    key = ("GET", "since=7", b"")
    seen = first.generation()

    def read_while_the_village_changes() -> dict:
        watch.bump()  # a write lands while this read is on its way
        return {"results": [], "last_seq": "7"}
    changes.read(first, seen, key, read_while_the_village_changes, quiet)
    reads = []
    changes.read(second, second.generation(), key, reader(reads, [{"id": "x"}]), quiet)
    assert len(reads) == 1


def test_answers_with_news_and_other_questions_are_read_each_time():
    changes, watch, waiters = watch_and_waiters(3)
    reads = []
    for waiter in waiters:
        changes.read(waiter, waiter.generation(), ("GET", "since=7", b""),
                     reader(reads, [{"id": "a"}]), quiet)
    assert len(reads) == 3  # something new: each asker reads (the device then moves its since)
    other = []
    changes.read(waiters[0], waiters[0].generation(), ("GET", "since=3", b""), reader(other, []), quiet)
    changes.read(waiters[1], waiters[1].generation(), ("GET", "since=3&limit=1", b""),
                 reader(other, []), quiet)
    assert len(other) == 2  # a different since or different options: a read of its own


def test_a_village_watched_anew_never_reuses_a_change_count():
    assert VillageWatch("441226101300").generation != VillageWatch("441226101300").generation


def test_the_answers_remembered_per_village_are_bounded():
    """Anyone may ask with a `since` or options of their own: what is remembered stays bounded."""
    changes, watch, (waiter,) = watch_and_waiters(1)
    for n in range(VillageWatch.QUIET_KEPT * 3):
        changes.read(waiter, waiter.generation(), ("GET", f"since={n}", b""), reader([], []), quiet)
    assert 0 < len(watch.quiet) <= VillageWatch.QUIET_KEPT
