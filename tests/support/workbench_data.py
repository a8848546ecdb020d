"""Review data in people's terms: an income disagreement, the same household in two villages
and a namesake (the review API and page tests share it)."""
from __future__ import annotations

import copy

from models.examples import example
from models.identity import check_character

VILLAGE = "441226101201"
HOUSEHOLD = "household:7c2e1d3f-4a5b-4c6d-8e7f-9a0b1c2d3e40"
TWIN = "household:7c2e1d3f-4a5b-4c6d-8e7f-9a0b1c2d3e41"
NAMESAKE = "household:7c2e1d3f-4a5b-4c6d-8e7f-9a0b1c2d3e42"
OTHER_VILLAGE = "441226101202"


def _id(serial: int) -> str:
    first17 = f"44122619780312{serial:03d}"
    return first17 + check_character(first17)


def _household(doc_id: str, village: str, head_id: str, **changes) -> dict:
    doc = example("household")
    doc.update(_id=doc_id, village_code=village, head={"name": "梁国强", "id_number": head_id},
               **changes)
    doc["members"] = [{**doc["members"][0], "id_number": head_id}]
    return doc


def seed(services) -> None:
    """An income disagreement, the same household in two villages, and a namesake."""
    db = services.couch.database(services.names.village(VILLAGE))
    base = _household(HOUSEHOLD, VILLAGE, _id(123), _rev="1-aaaa")
    db.bulk_docs([base], new_edits=False)
    for rev_id, income, stamp in (("bbbb", 400_000, "1714700000000-00000-dev-a"),
                                  ("cccc", 352_000, "1714600000000-00000-dev-b")):
        leaf = copy.deepcopy(base)
        leaf.update(_rev=f"2-{rev_id}", income_per_capita_fen=income,
                    _revisions={"start": 2, "ids": [rev_id, "aaaa"]})
        leaf["field_stamps"]["income_per_capita_fen"] = stamp
        db.bulk_docs([leaf], new_edits=False)
    other = services.couch.database(services.names.village(OTHER_VILLAGE))
    other.create()
    other.put(_household(TWIN, OTHER_VILLAGE, _id(123), phones=["13900001111"], notes="另一村登记"))
    db.put(_household(NAMESAKE, VILLAGE, _id(456), phones=["13900002222"]))
    services.reconciliation.run()
