"""The officials' pages. `/officials` is the workbench (领导端) of the front-end build (frontend/,
entry officials.html): alerts, duty rosters, review and reports in one page with hash routes,
sharing the field app's login and catalogue; the older paths lead into it.
"""
from __future__ import annotations

from flask import Blueprint, redirect

from mobile_api.app_pages import built_file

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    """The root sends people to the officials' workbench."""
    return redirect("/officials")


@bp.get("/officials")
def officials():
    """The officials' workbench (Chinese by default; ?lang=en for English)."""
    return built_file("officials.html")  # revalidated on every load, like the field app's shell


@bp.get("/officials/review")
def review_queue():
    """The review queue lives in the workbench."""
    return redirect("/officials#/review")


@bp.get("/officials/rosters")
def duty_rosters():
    """The duty rosters live in the workbench."""
    return redirect("/officials#/rosters")


@bp.get("/officials/households")
def household_search():
    """农户查询 lives in the workbench."""
    return redirect("/officials#/households")
