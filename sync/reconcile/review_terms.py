"""Review queue entries in people's terms, added under `terms` of each entry: village and town
names, the household head's name (from the central view), the field's label and every value as
people read it (yuan, 是/否, the status's name), including the value a decision wrote."""
from __future__ import annotations

from models.hierarchy import parent_code
from models.review_terms import both_displays, field_label
from sync.reconcile.central_view import household_key


def _head_name(entry: dict | None) -> str | None:
    return ((entry or {}).get("head") or {}).get("name")


def in_peoples_terms(doc: dict, names: dict[str, str], desk) -> dict:
    """`doc` with `terms` added (a copy: the stored document is not changed)."""
    village = doc.get("village_code")
    refs = [(h.get("village_code"), h.get("household_id")) for h in doc.get("households") or []]
    subject = (doc.get("doc_id") or doc.get("household_id") or (doc.get("target") or {}).get("id")
               or (doc.get("subject_ids") or [None])[0])
    if village and isinstance(subject, str) and subject.startswith("household:"):
        refs.append((village, subject))
    keys = [household_key(v, h) for v, h in refs if v and h]
    entries = {}
    if keys:
        rows = desk.central_db.all_docs(keys=keys, include_docs=True)["rows"]
        entries = {row["key"]: row.get("doc") for row in rows}
    place = lambda code: names.get(code) if code else None  # noqa: E731
    terms: dict = {"village_name": place(village),
                   "town_name": place(parent_code(village)) if village else None}
    if village and isinstance(subject, str) and subject.startswith("household:"):
        terms["household_head"] = _head_name(entries.get(household_key(village, subject)))
    named = {*(doc.get("villages") or []), *((doc.get("details") or {}).get("villages") or [])}
    if named:
        terms["village_names"] = {code: place(code) for code in sorted(named)}
    field = doc.get("field")
    if field:
        terms["field_label"] = field_label(field)
        terms["candidates"] = [both_displays(field, c.get("value"))
                               for c in doc.get("candidates") or []]
        for key in ("losing_value", "winning_value"):
            if key in doc:
                terms[key] = both_displays(field, doc.get(key))
        decision = doc.get("decision") or {}
        if "value" in decision:
            terms["written"] = both_displays(field, decision["value"])
    if refs and doc.get("households"):
        terms["households"] = [
            {"village_name": place(v), "head_name": _head_name(entries.get(household_key(v, h)))
             or next((x.get("head_name") for x in doc["households"]
                      if x.get("household_id") == h), None),
             "ref": f"{v}/{h}"} for v, h in refs[:len(doc["households"])]]
    return {**doc, "terms": terms}
