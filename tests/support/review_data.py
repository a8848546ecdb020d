"""A conflicted household and the logins the review tests use (API and page)."""
from __future__ import annotations

import base64
import copy

from models.examples import example

VILLAGE = "441226101201"
HOUSEHOLD = "household:7c2e1d3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
RAW_ID = "441226197803121236"


def auth(username: str, password: str) -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


ADMIN = auth("admin.zq", "change-me-2026")


def conflicting_household(services) -> None:
    """Two concurrent edits of poverty_status, replicated into the village database."""
    db = services.couch.database(services.names.village(VILLAGE))
    base = example("household")
    base.update(_id=HOUSEHOLD, village_code=VILLAGE, _rev="1-aaaa")
    db.bulk_docs([base], new_edits=False)
    for rev_id, status, stamp in (("bbbb", "lifted", "1714700000000-00000-dev-a"),
                                  ("cccc", "at_risk", "1714600000000-00000-dev-b")):
        leaf = copy.deepcopy(base)
        leaf.update(_rev=f"2-{rev_id}", poverty_status=status,
                    _revisions={"start": 2, "ids": [rev_id, "aaaa"]})
        leaf["field_stamps"]["poverty_status"] = stamp
        db.bulk_docs([leaf], new_edits=False)
