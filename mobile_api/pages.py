"""The officials' pages. `/officials` is the workbench (领导端) of the front-end build (frontend/,
entry officials.html): alerts, duty rosters, review and reports in one page with hash routes,
sharing the field app's login and catalogue. The older paths lead into it; the household search
(农户查询) is still a server-rendered page on templates/base.html.
"""
from __future__ import annotations

from flask import Blueprint, redirect, render_template

from mobile_api.app_pages import _built
from mobile_api.context import request_lang

bp = Blueprint("pages", __name__, template_folder="templates", static_folder="static",
               static_url_path="/assets")


@bp.get("/")
def home():
    """The root sends people to the officials' workbench."""
    return redirect("/officials")


@bp.get("/officials")
def officials():
    """The officials' workbench (Chinese by default; ?lang=en for English)."""
    response = _built("officials.html")
    response.headers["Cache-Control"] = "no-cache"
    return response


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
    """农户查询: households by name part or full ID number (numbers shown masked)."""
    return render_template("households.html", lang=request_lang())
