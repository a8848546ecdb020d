"""The choices a device's forms offer, with their labels: sent to devices at bootstrap.

The codes come from the schemas (models/household.py, ...), the labels from the catalogue
(`codes.<group>` in models/catalogue/), the same labels the field app and the reports show."""
from __future__ import annotations

from models import case_event, household, mediation, visit
from models.messages import label


def _labelled(codes: tuple[str, ...], group: str) -> list[dict]:
    """Each code with its label in both languages."""
    return [{"code": code, "zh": label(group, code, "zh"), "en": label(group, code, "en")}
            for code in codes]


def _plain(codes: tuple[str, ...]) -> list[dict]:
    return [{"code": code} for code in codes]


def form_options() -> dict:
    """Every enumerated field of the device documents, by form."""
    return {
        "household": {"poverty_status": _labelled(household.POVERTY_STATUSES, "poverty_status"),
                      "indicators": _plain(household.INDICATORS),
                      "relation": _plain(household.RELATIONS),
                      "schooling": _plain(household.SCHOOLING),
                      "health": _plain(household.HEALTH),
                      "work": _plain(household.WORK)},
        "verification_visit": {"verdict": _labelled(visit.VERDICTS, "verdict"),
                               "reasons": _plain(visit.REASONS),
                               "photo_subject": _plain(visit.PHOTO_SUBJECTS)},
        "mediation_request": {"category": _labelled(mediation.CATEGORIES, "category"),
                              "urgency": _labelled(mediation.URGENCIES, "urgency")},
        "case_event": {"kind": _labelled(case_event.KINDS, "kind"),
                       "role": _plain(case_event.ROLES)},
    }
