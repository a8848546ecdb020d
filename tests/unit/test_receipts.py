"""Receipt numbers of online filings: typed any reasonable way, one request id each, and what a
lookup shows of an alert."""
from __future__ import annotations

from models.doc_ids import is_client_id
from models.receipts import (ALPHABET, LENGTH, new_receipt, normalise_receipt, progress,
                             request_id_of, same_phone, shown)


def test_receipts_are_fresh_and_well_formed():
    receipts = {new_receipt() for _ in range(2000)}
    assert len(receipts) == 2000
    assert all(len(r) == LENGTH and set(r) <= set(ALPHABET) for r in receipts)
    assert all(normalise_receipt(shown(r)) == r for r in receipts)


def test_a_receipt_is_read_however_it_is_typed():
    for typed in ("7K3QX-9M2PA", "7k3qx 9m2pa", " 7K3QX9M2PA ", "7K3QX—9M2PA", "７Ｋ３ＱＸ－９Ｍ２ＰＡ"):
        assert normalise_receipt(typed) == "7K3QX9M2PA", typed
    assert normalise_receipt("O1LIO-ABCDE") == "0111" "0ABCDE"
    for bad in ("", "7K3QX", "7K3QX-9M2PAA", "7K3QU-9M2PA", "7K3QX\x009M2PA", None, 12, ["x"], "A" * 500):
        assert normalise_receipt(bad) is None, bad


def test_each_receipt_names_one_client_shaped_request_id():
    first, second = new_receipt(), new_receipt()
    assert request_id_of(first) == request_id_of(first) != request_id_of(second)
    assert is_client_id(request_id_of(first), "mediation_request")


def test_phones_compare_after_normalising():
    assert same_phone("+86 139-2661-1234", "13926611234")
    assert not same_phone("13926611235", "13926611234")
    assert not same_phone("", "") and not same_phone(None, None) and not same_phone("x", "x")


def test_progress_shows_the_stage_and_nothing_private():
    alert = {"village_name": "新圩村", "town_name": "新圩镇", "category": "land_forest",
             "received_at": "t0", "acknowledged_at": None, "mediator": None, "resolved_at": None,
             "applicant_phone": "13926611234", "summary": "secret", "history": [{"note": "n"}],
             "outcome": None}
    assert progress(alert, "7K3QX9M2PA")["status"] == "received"
    alert["acknowledged_at"] = "t1"
    assert progress(alert, "7K3QX9M2PA")["status"] == "acknowledged"
    alert["mediator"] = {"name": "梁调解", "phone": "13700137000", "assigned_at": "t2"}
    seen = progress(alert, "7K3QX9M2PA")
    assert seen["status"] == "assigned" and seen["mediator"] == {"name": "梁调解"}
    assert seen["assigned_at"] == "t2" and seen["outcome"] is None
    alert.update(resolved_at="t3", outcome="agreement_reached")
    seen = progress(alert, "7K3QX9M2PA")
    assert seen["status"] == "resolved" and seen["outcome"] == "agreement_reached"
    assert seen["receipt"] == "7K3QX-9M2PA"
    assert not {"13926611234", "13700137000", "secret", "n"} & {str(v) for v in seen.values()}
