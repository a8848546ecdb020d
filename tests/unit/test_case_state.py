"""The case state is a monotonic fold of case events, whatever order they arrive in."""
from hypothesis import given, settings, strategies as st

from models.case_event import KINDS, REFERRAL_TARGETS
from models.case_state import STAGES, fold
from models.examples import example

FAST = settings(max_examples=150, deadline=None)
RANK = {stage: rank for rank, stage in enumerate(STAGES)}


def event(kind: str, minute: int, number: int, referred_to: str = "court",
          offset: str = "+08:00") -> dict:
    doc = example("case_event")
    doc.update(_id=f"case_event:00000000-0000-4000-8000-{number:012d}", kind=kind,
               recorded_at=f"2024-05-04T{minute // 60:02d}:{minute % 60:02d}:00{offset}",
               referred_to=referred_to if kind == "referred" else None)
    doc["mediator"] = {"name": f"调解员{number}", "phone": None, "username": None}
    return doc


events = st.lists(st.builds(event, st.sampled_from(sorted(KINDS)), st.integers(0, 1439),
                            st.integers(0, 30), st.sampled_from(sorted(REFERRAL_TARGETS)),
                            st.sampled_from(["+08:00", "Z", "+00:00"])), max_size=12)


@FAST
@given(events, st.randoms(use_true_random=False))
def test_any_arrival_order_and_any_duplicates_give_the_same_state(case_events, random):
    shuffled = list(case_events) + random.sample(case_events, k=len(case_events) // 2)
    random.shuffle(shuffled)
    assert fold(shuffled) == fold(case_events)


@FAST
@given(events, events)
def test_more_events_never_move_a_case_backwards(earlier, later):
    later = [{**doc, "_id": doc["_id"][:-3] + f"{int(doc['_id'][-3:]) + 100:03d}"}
             for doc in later]  # events other than the earlier ones
    assert RANK[fold(earlier + later).stage] >= RANK[fold(earlier).stage]


def test_a_late_contacted_does_not_reopen_an_agreement():
    settled = [event("contacted", 60, 1), event("agreement_reached", 120, 2)]
    state = fold(settled + [event("contacted", 600, 3)])
    assert state.stage == "agreement_reached" and state.closed
    assert state.first_contacted_at == "2024-05-04T01:00:00+08:00"


def test_details_of_a_case():
    state = fold([event("mediator_assigned", 10, 1), event("mediator_assigned", 20, 2),
                  event("session_held", 30, 3), event("session_held", 40, 4),
                  event("failed", 50, 5), event("referred", 60, 6, "court")])
    assert state.stage == "referred" and state.mediator["name"] == "调解员2"
    assert state.sessions == 2 and state.referred_to == ("court",)
    assert state.outcomes == ("failed", "referred") and state.conflicting_outcomes
    assert fold([]).stage == "new" and not fold([]).closed
    assert fold([{"_id": "x", "kind": "withdrawn"}]).stage == "new"


def test_a_corrected_revision_replaces_its_event():
    first = {**event("agreement_reached", 60, 1), "_rev": "1-a"}
    corrected = {**first, "kind": "failed", "_rev": "2-b"}
    assert fold([corrected, first]).stage == fold([first, corrected]).stage == "failed"
