"""The officials' pages: the alert inbox (live updates, acknowledge / assign / resolve, SLA), the
review queue and the household search. The reports page lives with its API (reports_api.py).

Each page is an HTML shell on templates/base.html plus one script in static/: the pages talk to
the same JSON API as any client, authenticating with a device token from /api/v1/login.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template

from mobile_api.context import request_lang

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")


@bp.get("/")
def home():
    """The root sends people to the officials' page."""
    return redirect("/officials")


@bp.get("/officials")
def officials():
    """The officials' page (Chinese by default; ?lang=en for English)."""
    return render_template("officials.html", lang=request_lang())


@bp.get("/officials/review")
def review_queue():
    """The review queue: open review tasks and quarantined records, deciding disagreements."""
    return render_template("review.html", lang=request_lang())


@bp.get("/officials/households")
def household_search():
    """Household search by name part or full ID number (numbers shown masked)."""
    return render_template("households.html", lang=request_lang())
