"""The choices a device's forms offer, with their labels: sent to devices at bootstrap."""
from __future__ import annotations

from models import case_event, household, mediation, visit


def _labelled(choices) -> list[dict]:
    if isinstance(choices, dict):
        return [{"code": code, "zh": zh, "en": en} for code, (zh, en) in choices.items()]
    return [{"code": code} for code in choices]


def form_options() -> dict:
    """Every enumerated field of the device documents, by form."""
    return {
        "household": {"poverty_status": _labelled(household.POVERTY_STATUSES),
                      "indicators": _labelled(household.INDICATORS),
                      "relation": _labelled(household.RELATIONS),
                      "schooling": _labelled(household.SCHOOLING),
                      "health": _labelled(household.HEALTH),
                      "work": _labelled(household.WORK)},
        "verification_visit": {"verdict": _labelled(visit.VERDICTS),
                               "reasons": _labelled(visit.REASONS),
                               "photo_subject": _labelled(visit.PHOTO_SUBJECTS)},
        "mediation_request": {"category": _labelled(mediation.CATEGORIES),
                              "urgency": _labelled(mediation.URGENCIES)},
        "case_event": {"kind": _labelled(case_event.KINDS), "role": _labelled(case_event.ROLES)},
    }

