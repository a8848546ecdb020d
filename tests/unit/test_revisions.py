"""The grammar of `_rev`/`_revisions` and the parent rule of a correction (models/revisions.py)."""
from __future__ import annotations

import pytest

from models.revisions import extends, revision_problem
from sync.gateway.forwarding import GatewayError, _put_new_edits

A, B, C = "a" * 32, "b" * 32, "c" * 32


@pytest.mark.parametrize("doc, new_edits, code", [
    ({}, True, None),                                                     # a creation
    ({}, False, "rev_format"),                                            # replicated: needs a _rev
    ({"_rev": f"1-{A}"}, False, None),
    ({"_rev": f"2-{B}", "_revisions": {"start": 2, "ids": [B, A]}}, False, None),
    ({"_rev": f"2-{B}", "_revisions": {"start": 3, "ids": [C, B, A]}}, False, "revisions_mismatch"),
    ({"_rev": f"2-{B}", "_revisions": {"start": 2, "ids": [C, A]}}, False, "revisions_mismatch"),
    ({"_rev": f"1-{A}", "_revisions": {"start": 1, "ids": [A, B]}}, False, "revisions_mismatch"),
    ({"_rev": f"1-{A}", "_revisions": {"start": True, "ids": [A]}}, False, "revisions_mismatch"),
    ({"_rev": f"1-{A}", "_revisions": {"start": 1, "ids": [A], "x": 1}}, False, "revisions_mismatch"),
    ({"_revisions": {"start": 1, "ids": [A]}}, True, "revisions_mismatch"),  # a history, no _rev
    ({"_rev": "0-abc"}, True, "rev_format"),
    ({"_rev": f"1-{A.upper()}"}, True, "rev_format"),
    ({"_rev": f"1-{A}\n"}, True, "rev_format"),
    ({"_rev": "\uff11-abc"}, True, "rev_format"),                         # a full-width digit
    ({"_rev": 1}, True, "rev_format"),
])
def test_revision_grammar(doc, new_edits, code):
    assert revision_problem(doc, new_edits) == code


def replicated(start: int, ids: list[str]) -> dict:
    return {"_rev": f"{start}-{ids[0]}", "_revisions": {"start": start, "ids": ids}}


@pytest.mark.parametrize("doc, stored_history, builds", [
    (replicated(2, [B, A]), [A], True),
    (replicated(3, [C, B, A]), [B, A], True),
    (replicated(3, [C, B]), [B, A], True),             # a stemmed history agrees as far as it goes
    (replicated(3, [C, B, "d" * 32]), [B, A], False),  # the right parent, another grandparent
    (replicated(3, [C, A, B]), [B, A], False),          # another parent
    (replicated(4, [C, "d" * 32, B, A]), [B, A], False),  # a generation skipped
    (replicated(1, [C]), [B, A], False),
    ({"_rev": f"3-{C}"}, [B, A], False),                # no history
])
def test_a_correction_is_the_child_of_the_current_revision(doc, stored_history, builds):
    current = f"{len(stored_history)}-{stored_history[0]}"
    assert extends(doc, current, stored_history) is builds


@pytest.mark.parametrize("query, new_edits", [("", True), ("new_edits=false", False),
                                              ("new_edits=true", True)])
def test_a_document_put_takes_new_edits_only(query, new_edits):
    assert _put_new_edits(query) is new_edits


@pytest.mark.parametrize("query", ["rev=1-abc", "batch=ok", "new_edits=0", "new_edits=false&rev=1-a"])
def test_a_document_put_refuses_any_other_parameter(query):
    with pytest.raises(GatewayError) as refused:
        _put_new_edits(query)
    assert (refused.value.status, refused.value.code) == (400, "put_query_unsupported")
