"""The officials' alert lists: tabs (待签收 / 处理中 / 超时 / 已办结 / all), "mine", one town,
search, paging with totals, and the count of every tab.

A tab that is one stored state with no other filter is paged by the view itself; anything else
(overdue is a matter of the clock, "mine" and search of the document) reads the scope's alerts
of the matching states in batches and filters them here. Open alerts are few (they get
resolved); resolved ones are paged by the view unless a search or "mine" asks for more.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import islice

from models.alerts import in_tab, involves, matches
from sync.alerts.store import AlertStore

# the stored states a tab's alerts can have (None: any)
TAB_STATES = {"pending": ("alerted",), "in_progress": ("acknowledged",),
              "overdue": ("alerted", "acknowledged"), "resolved": ("resolved",), "all": (None,)}
VIEW_PAGED = {"pending": "alerted", "in_progress": "acknowledged", "resolved": "resolved",
              "all": None}


@dataclass(frozen=True)
class AlertQuery:
    """What an official asked for."""
    scope: list
    tab: str = "all"
    mine: str | None = None      # a username: only alerts that involve them
    search: str = ""
    page: int = 1
    per_page: int = 50


def _filtered(store: AlertStore, query: AlertQuery, now_iso: str):
    for state in TAB_STATES[query.tab]:
        for alert in store.scan(query.scope, state):
            if not in_tab(alert, query.tab, now_iso):
                continue
            if query.mine and not involves(alert, query.mine):
                continue
            if query.search and not matches(alert, query.search):
                continue
            yield alert


def list_alerts(store: AlertStore, query: AlertQuery, now_iso: str) -> dict:
    """One page of alerts (newest first) with the total and every tab's count."""
    skip = (query.page - 1) * query.per_page
    counts = tab_counts(store, query.scope, now_iso)
    if query.tab in VIEW_PAGED and not query.mine and not query.search:
        alerts = store.listed(query.scope, VIEW_PAGED[query.tab], query.per_page, skip)
        total = counts[query.tab]
    else:
        matched = sorted(_filtered(store, query, now_iso),
                         key=lambda a: a.get("received_at") or "", reverse=True)
        total = len(matched)
        alerts = list(islice(matched, skip, skip + query.per_page))
    return {"page": query.page, "per_page": query.per_page, "total": total,
            "pages": max(1, -(-total // query.per_page)), "tab": query.tab, "counts": counts,
            "alerts": alerts}


def tab_counts(store: AlertStore, scope: list, now_iso: str) -> dict[str, int]:
    """How many alerts each tab holds (overdue is counted over the open alerts)."""
    states = store.state_counts(scope)
    overdue = sum(1 for state in ("alerted", "acknowledged")
                  for alert in store.scan(scope, state) if in_tab(alert, "overdue", now_iso))
    return {"pending": states.get("alerted", 0), "in_progress": states.get("acknowledged", 0),
            "overdue": overdue, "resolved": states.get("resolved", 0),
            "all": sum(states.values())}
