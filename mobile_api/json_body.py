"""Reading a JSON request body in a view: strict (models/json_body.py), else 400 `bad_json`."""
from __future__ import annotations

import logging

from flask import request

from mobile_api.errors import ApiError
from models.json_body import BadJson, parse_json_body
from models.messages import both

log = logging.getLogger("fieldsync.api")


def request_json(expect_object: bool = True) -> object:
    """The request's JSON body (an object unless told otherwise), or ApiError 400 `bad_json`
    with the problem (models/json_body.py) as the code of its one detail."""
    if not request.is_json:
        raise ApiError(400, "bad_json", [_problem("content_type")])
    try:
        return parse_json_body(request.get_data(cache=True), expect_object=expect_object)
    except BadJson as exc:
        log.info("bad JSON body for %s %s: %s", request.method, request.path, exc.problem)
        raise ApiError(400, "bad_json", [_problem(exc.problem)]) from None


def _problem(problem: str) -> dict:
    """One detail of a 400 `bad_json`: the problem's code and its text (`json_<problem>`)."""
    return {"field": "", "code": problem, "message": both(f"json_{problem}")}
