"""The officials' page: alert inbox with live updates, acknowledge / assign / resolve, SLA.

One HTML shell and one script (mobile_api/static/officials.js): the page talks to the same JSON
API as any client, authenticating with a device token it gets from /api/v1/login.
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
