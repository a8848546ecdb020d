"""Placeholder injection (attack pass): values that reach the catalogue's texts stay text.

Messages are filled with request data (a list name from the query, a household value a phone
wrote, a village code): `str.format` on the catalogue's template, never on the value, so a value
that looks like a placeholder (`{0.__class__}`, `{kept}`, `{x!r}`, a format spec) is shown as
written and never reads an attribute, another parameter or an error. Checked on the functions
every message goes through and on an API answer that echoes the caller's text.
"""
from __future__ import annotations

import base64

import pytest

from models.messages import both, message, render

HOSTILE = ("{0.__class__.__mro__}", "{tab}", "{kept}", "{x!r}", "{yours:>99999}", "{", "}", "{{}}",
           "%s%n", "{__import__('os')}")


@pytest.mark.parametrize("value", HOSTILE)
def test_a_value_that_looks_like_a_placeholder_is_shown_as_written(value):
    filled = both("household_disagreement_feedback", field=value, yours=value, kept="已脱贫")
    for text in filled.values():
        assert text.count(value) >= 2 and "已脱贫" in text and "class" not in text.replace(value, "")
    assert value in message("alert_tab_invalid", "en", tab=value)
    assert render("errors.alert_tab_invalid", "zh", tab=value).count(value) == 1


def test_an_api_answer_echoing_the_callers_text_fills_it_once(provisioned, client):
    token = base64.b64encode(b"huang.jh:device-pass-1").decode()
    for value in HOSTILE[:4]:
        answer = client.get("/api/v1/alerts", query_string={"tab": value},
                            headers={"Authorization": f"Basic {token}"})
        body = answer.get_json()
        assert answer.status_code == 400 and body["error"] == "alert_tab_invalid", body
        assert value in body["messages"]["en"] and value in body["messages"]["zh"]
        assert "type" not in body["messages"]["en"].replace(value, "")
