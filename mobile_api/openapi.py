"""`GET /api/openapi.json`: the OpenAPI 3 description of every endpoint of the app.

The whole document comes from one table, ENDPOINTS, below: one `Op(...)` per operation. To
document a new endpoint, add one entry: its method and path, who may call it, its parameters,
its request body (a marshmallow schema from models/ is converted by apispec), its success
answers and the error codes it can give by status. Errors common to many endpoints (401 and 429
for authentication, 426 for the app version gate, 413 for bodies, 500/503) are added by
`_responses`, so an entry lists only what is particular to it. Every error has the one body of
mobile_api/errors.py (component `Error`).

tests/test_openapi_contract.py fuzzes the live app against this document (schemathesis): an
undocumented status code, content type or body shape fails the suite.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, jsonify
from marshmallow import Schema, fields

from mobile_api.report_files import XLSX_TYPE
from models.alerts import AcknowledgeInput, AssignInput, CaseEventInput, ResolveInput
from models.duty_roster import DutyRosterInput
from models.mediation import MediationRequestSchema
from models.session import LoginSchema, RenewSchema
from sync.reports.builder import REPORTS

bp = Blueprint("openapi", __name__)
VERSION = "1"

# --- request bodies that have no schema of their own in models/ -------------------------------
PUBLIC_FORM_FIELDS = ("applicant", "other_parties", "category", "description",
                      "amount_in_dispute_fen", "urgency")


PublicMediationRequest = Schema.from_dict({
    # `POST /api/v1/public/mediation-requests`: the fields of a mediation request a villager
    # fills in (models/mediation.py), plus the village
    "village_code": fields.String(required=True, metadata={
        "description": "12-digit village code (村级行政区划代码)", "example": "441226101201"}),
    **{name: MediationRequestSchema._declared_fields[name] for name in PUBLIC_FORM_FIELDS},
}, name="PublicMediationRequest")
PublicLookup = Schema.from_dict({
    # `POST /api/v1/public/mediation-requests/lookup`: the receipt and the applicant's phone
    "receipt": fields.String(required=True, metadata={
        "description": "receipt number given at filing (case, spaces and dashes ignored)",
        "example": "7K3QX-9M2PA"}),
    "phone": fields.String(required=True, metadata={
        "description": "the applicant's mobile number as filed", "example": "13926611234"}),
}, name="PublicLookup")


class ReviewDecision(Schema):
    """`POST /api/v1/review/tasks/<id>/decision`: `pick` (a candidate's index) or `value`."""
    pick = fields.Integer(metadata={"description": "index of the chosen candidate"})
    value = fields.Raw(allow_none=True, metadata={"description": "an edited value (may be null)"})
    notes = fields.String(metadata={"description": "reviewer's notes"})
    value_yuan = fields.String(metadata={"description": "a money field's value typed in yuan "
                                                        "(converted exactly to fen)"})


class DuplicateMerge(Schema):
    """`POST /api/v1/review/tasks/<id>/merge`."""
    keep = fields.String(required=True, metadata={"description": "`<village>/<household id>`"})


class DuplicateDismissal(Schema):
    """`POST /api/v1/review/tasks/<id>/dismiss`."""
    reason = fields.String(required=True, metadata={"description": "why not the same household"})


# --- response bodies -----------------------------------------------------------------------
def obj(required: tuple[str, ...] = (), **properties: dict) -> dict:
    """A JSON object schema (extra properties allowed: answers may grow)."""
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    return schema


STR, INT, NUM, BOOL, ANY_OBJ = ({"type": "string"}, {"type": "integer"}, {"type": "number"},
                                {"type": "boolean"}, {"type": "object"})
NSTR, NNUM = {"type": "string", "nullable": True}, {"type": "number", "nullable": True}


def arr(items: dict) -> dict:
    return {"type": "array", "items": items}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


RESPONSE_SCHEMAS: dict[str, dict] = {
    "Error": obj(("error", "message", "reason", "messages", "details"),
                 error={"type": "string", "description": "stable machine-readable code"},
                 message={"type": "string", "description": "text in the caller's language"},
                 reason={"type": "string", "description": "same as message (PouchDB shows it)"},
                 messages=obj(("zh", "en"), zh=STR, en=STR),
                 details=arr(obj(field=STR, code=STR, message=obj(zh=STR, en=STR)))),
    "Health": obj(("status", "couchdb", "worker"), status={"type": "string",
                                                           "enum": ["ok", "unhealthy"]},
                  couchdb=obj(("ok",), ok=BOOL), worker=obj(("ok",), ok=BOOL,
                                                            heartbeat_age_s=NNUM),
                  checked_s_ago=NUM, loop_lag=ANY_OBJ),
    "Login": obj(("username", "role", "jurisdiction", "token", "expires_at", "sync_url"),
                 username=STR, role=STR, jurisdiction=STR, display_name=NSTR, token=STR,
                 expires_at=STR, sync_url=NSTR),
    "DeviceList": obj(("devices", "count"), devices=arr(obj(
        ("device_id",), device_id=STR, pending_at_last_contact={"type": "integer", "nullable": True},
        refused_at_last_contact={"type": "integer", "nullable": True}, local_seq=NSTR,
        status_reported_at=NSTR, all_uploaded_at=NSTR, holding_since=NSTR)),
                      count=INT),
    "FieldDevicePage": obj(("devices", "total", "holding", "page", "per_page", "pages"),
                           devices=arr(obj(
        ("device_id", "username", "display_name", "village_code", "holds_work"),
        device_id=STR, username=STR, display_name=STR, village_code=STR, village_name=NSTR,
        town_code=NSTR, town_name=NSTR, phone=NSTR, app_version=NSTR, platform=NSTR,
        last_contact=NSTR, pending_at_last_contact={"type": "integer", "nullable": True},
        refused_at_last_contact={"type": "integer", "nullable": True}, all_uploaded_at=NSTR,
        holding_since=NSTR, holds_work=BOOL, disabled=BOOL)),
                           villages=arr(obj(("code",), code=STR, name=NSTR)),
                           total=INT, holding=INT, page=INT, per_page=INT, pages=INT,
                           generated_at=STR),
    "RevokedDevice": obj(("ok", "device_id", "username"), ok=BOOL, device_id=STR, username=STR),
    "Bootstrap": obj(("account", "hierarchy", "form_options", "server_time", "limits"),
                     account=obj(("username", "role", "jurisdiction")),
                     hierarchy=arr(obj(("code", "name", "level"))), form_options=ANY_OBJ,
                     server_time=STR, server_time_ms=INT, min_app_version=NSTR,
                     sync_path=NSTR, limits=ANY_OBJ),
    "FeedbackList": obj(("feedback", "count"), feedback=arr(ANY_OBJ), count=INT),
    "HouseholdPage": obj(("page", "per_page", "total", "households"), page=INT, per_page=INT,
                         total=INT, households=arr(ANY_OBJ)),
    "Filed": obj(("ok", "id", "village_code"), ok=BOOL, id=STR, village_code=STR, receipt=STR),
    "PublicVillages": obj(("towns",), towns=arr(obj(("code", "name", "villages"), code=STR,
                                                    name=STR, county_name=NSTR,
                                                    villages=arr(obj(("code", "name"), code=STR,
                                                                     name=STR))))),
    "RequestProgress": obj(("receipt", "status"), receipt=STR, status={
        "type": "string", "enum": ["received", "acknowledged", "assigned", "resolved"]},
        village_name=NSTR, town_name=NSTR, category=NSTR, filed_at=NSTR, acknowledged_at=NSTR,
        assigned_at=NSTR, mediator={"type": "object", "nullable": True, "properties": {
            "name": STR}}, resolved_at=NSTR, outcome=NSTR),
    "PhotoBacklog": obj(("pending", "dead"), pending=INT, dead=INT),
    "PhotoStored": obj(("ok", "created", "village_code", "doc_id", "attachment", "rev",
                        "photo_url"), ok=BOOL, created=BOOL, village_code=STR, doc_id=STR,
                       attachment=STR, rev=STR, digest=STR, content_type=STR, bytes=INT,
                       photo_url=STR),
    "AlertList": obj(("page", "per_page", "alerts"), page=INT, per_page=INT,
                     alerts=arr(ANY_OBJ), total=INT, pages=INT, tab=STR, counts=ANY_OBJ),
    "AlertDetail": obj(("alert", "deliveries", "case_events", "timeline"), alert=ANY_OBJ,
                       deliveries=arr(ANY_OBJ), case_events=arr(ANY_OBJ),
                       timeline=arr(ANY_OBJ), request=ANY_OBJ, may_act=BOOL,
                       mediators=arr(ANY_OBJ)),
    "AlertChanged": obj(("alert",), alert=ANY_OBJ),
    "CaseEvent": obj(("case_event",), case_event=ANY_OBJ),
    "Sla": obj(("period", "from", "to", "overall", "counties", "towns"), period=STR,
               **{"from": NSTR}, to=STR, overall=ANY_OBJ, counties=ANY_OBJ, towns=ANY_OBJ),
    "Inbox": obj(("items",), items=arr(ANY_OBJ)),
    "DeadDeliveries": obj(("page", "per_page", "deliveries"), page=INT, per_page=INT,
                          deliveries=arr(ANY_OBJ)),
    "DutyRoster": obj(("code", "on_duty", "leader"), code=STR, on_duty=arr(STR), leader=NSTR,
                      updated_at=NSTR, updated_by=NSTR, mediators=arr(ANY_OBJ)),
    "DutyRosters": obj(("rosters", "warnings"), rosters=arr(ANY_OBJ), warnings=arr(ANY_OBJ)),
    "ReviewPage": obj(("total", "offset", "limit", "items"), total=INT, offset=INT, limit=INT,
                      items=arr(ANY_OBJ)),
    "Monitoring": obj(("generated_at", "scope", "village_feeds", "conflicts", "outbox", "sla",
                       "photos", "quarantine", "devices", "workers"),
                      generated_at=STR, scope=ANY_OBJ, village_feeds=ANY_OBJ,
                      conflicts=ANY_OBJ, outbox=ANY_OBJ, sla=ANY_OBJ, photos=ANY_OBJ,
                      quarantine=ANY_OBJ, devices=ANY_OBJ, workers=ANY_OBJ),
    "ReportJson": obj(("scope", "table"), scope=NSTR,
                      table=obj(("header", "rows"), header=arr(STR), rows=arr({"type": "array"}))),
    "CouchWelcome": obj(("couchdb", "uuid"), couchdb=STR, uuid=STR, vendor=ANY_OBJ),
    "OpenApi": obj(("openapi", "info", "paths"), openapi=STR, info=ANY_OBJ, paths=ANY_OBJ),
}


# --- the table ------------------------------------------------------------------------------
def q(name: str, schema: dict, description: str = "", required: bool = False) -> dict:
    """A query parameter."""
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description}


def p(name: str, description: str, pattern: str = r"^[^/]+$") -> dict:
    """A path parameter (the pattern is what real ids look like; other values answer 404)."""
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "pattern": pattern, "minLength": 1, "maxLength": 120}}


def header(name: str, description: str) -> dict:
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": {"type": "string", "pattern": r"^[A-Za-z0-9._:-]{1,64}$"}}


PAGE = [q("page", {"type": "integer", "minimum": 1, "maximum": 10000}, "page number, from 1"),
        q("per_page", {"type": "integer", "minimum": 1, "maximum": 200}, "items per page")]
REVIEW_PAGE = [q("limit", {"type": "integer", "minimum": 1, "maximum": 200}),
               q("offset", {"type": "integer", "minimum": 0, "maximum": 100000})]
VILLAGE = p("village", "12-digit village code", r"^[0-9]{12}$")
ALERT_ID = p("alert_id", "alert id (`alert:<request id>`)", r"^alert:[A-Za-z0-9._:-]{1,80}$")
REPORT_NAMES = [f"{name}{ext}" for name in REPORTS for ext in ("", ".csv", ".xlsx")]
ROSTER_CODE = p("code", "12-digit town or county code", r"^[0-9]{12}$")


@dataclass
class Op:
    """One operation. `ok`: status -> (description, response schema name or content type);
    `errors`: status -> error codes particular to this operation."""
    method: str
    path: str
    tag: str
    summary: str
    ok: dict
    errors: dict = field(default_factory=dict)
    auth: bool = True
    params: list = field(default_factory=list)
    body: type[Schema] | None = None
    body_required: bool = True
    raw_body: dict | None = None  # media type -> schema, for bodies that are not JSON
    description: str = ""


BINARY = {"type": "string", "format": "binary"}
PHOTO_BODY = {**{kind: {"schema": BINARY} for kind in ("image/jpeg", "image/png", "image/webp",
                                                       "image/heif", "application/octet-stream")},
              "multipart/form-data": {"schema": obj(("photo",), photo=BINARY),
                                      "encoding": {"photo": {"contentType": "image/*"}}}}
OFFICIALS_ONLY = {403: ["forbidden"]}
# ids taken from a path are checked by the sync grammar's rules (mobile_api/path_ids.py)
PATH_ID_CODES = ["bad_request", "division_code_format", "bad_doc_id", "bad_attachment_name",
                 "bad_sync_path", "bad_path"]
ENDPOINTS: list[Op] = [
    Op("get", "/healthz", "health", "CouchDB reachable and a worker alive? 服务健康检查",
       {200: ("healthy", "Health"), 503: ("CouchDB unreachable or no fresh worker heartbeat",
                                          "Health")}, auth=False),
    Op("get", "/api/openapi.json", "meta", "This document (OpenAPI 3) 接口说明文档",
       {200: ("the OpenAPI document", "OpenApi")}, auth=False),
    # session and devices
    Op("post", "/api/v1/login", "session", "Log a device in for a token 设备登录获取令牌",
       {200: ("a device token (30 days), the sync URL for cadres", "Login")},
       {401: ["invalid_credentials", "account_disabled"], 409: ["device_id_taken"],
        429: ["account_locked"]}, auth=False, body=LoginSchema,
       description="The account's password only (a device token is refused as a wrong "
                   "password). Five wrong passwords from one address lock that account for "
                   "that address (60 s, doubling with each further failure, up to 1 h): 429 "
                   "`account_locked` with `Retry-After`. Unknown usernames answer exactly like "
                   "wrong passwords. A device id registered by another account: 409."),
    Op("post", "/api/v1/token/renew", "session", "Renew a device token 续期设备令牌",
       {200: ("a new device token (30 days), same answer as login", "Login")},
       {401: ["token_required"]}, body=RenewSchema, body_required=False,
       description="HTTP Basic `username:token` with a live, unexpired token of a device "
                   "registered to this account that is not revoked, of an enabled account. "
                   "The old token keeps working until its own expiry. The body is optional."),
    Op("get", "/api/v1/devices", "session", "Devices in the caller's jurisdiction 设备列表",
       {200: ("devices, oldest contact first with `stale_hours`", "DeviceList")},
       {400: ["bad_request"]},
       params=[q("stale_hours", {"type": "number", "minimum": 0, "maximum": 8760},
                 "only devices silent for at least this many hours")]),
    Op("delete", "/api/v1/devices/{device_id}/token", "session",
       "Revoke one device's token (lost phone) 吊销设备令牌",
       {200: ("revoked", "RevokedDevice")}, {403: ["forbidden"], 404: ["not_found"]},
       params=[p("device_id", "device id", r"^[A-Za-z0-9._:-]{4,64}$")]),
    Op("get", "/api/v1/bootstrap", "device", "What an app needs at start 应用启动信息",
       {200: ("account, hierarchy, form options, server time, limits", "Bootstrap")}),
    Op("get", "/api/v1/feedback", "device", "Feedback documents of the cadre's village 反馈",
       {200: ("open feedback, newest first (`all=1`: resolved too)", "FeedbackList")},
       {403: ["forbidden"]}, params=[q("all", {"type": "string", "enum": ["0", "1"]})],
       description="Cadres only: anyone else gets 403."),
    # villagers
    Op("post", "/api/v1/public/mediation-requests", "public",
       "A villager files a mediation request online 群众在线申请矛盾调解",
       {201: ("stored; an alert goes to the town's duty officials", "Filed")},
       {429: ["rate_limited"], 503: ["couchdb_unavailable"]}, auth=False,
       body=PublicMediationRequest,
       description="No account. At most 10 filings an hour per IP address and 3 a day per "
                   "phone number: 429 `rate_limited` with `Retry-After`. The answer's "
                   "`receipt` is what the villager keeps to follow the request."),
    Op("post", "/api/v1/public/mediation-requests/lookup", "public",
       "A villager follows their request by receipt and phone 群众查询办理进度",
       {200: ("the stage (受理/签收/分派/办结), when, and the mediator's name", "RequestProgress")},
       {404: ["receipt_not_found"], 429: ["rate_limited"]}, auth=False, body=PublicLookup,
       description="No account. A wrong phone is answered exactly as an unknown receipt (404 "
                   "`receipt_not_found`). At most 30 lookups an hour per IP address and 10 a "
                   "day per receipt: 429 `rate_limited` with `Retry-After`. Only requests "
                   "filed online can be looked up."),
    Op("get", "/api/v1/public/villages", "public",
       "Towns and their villages, for the filing form 镇街和村（社区）列表",
       {200: ("every town with its villages (codes and names)", "PublicVillages")}, auth=False),
    # photos
    Op("get", "/api/v1/photos/backlog", "photos", "Photos waiting for processing 待处理照片",
       {200: ("pending and dead photo jobs", "PhotoBacklog")}),
    Op("get", "/api/v1/photos/{village}/{doc_id}/{attachment}", "photos",
       "A photo's display copy or thumbnail (JPEG, EXIF stripped) 照片",
       {200: ("the JPEG", "image/jpeg")},
       {400: PATH_ID_CODES, 403: ["forbidden"], 404: ["not_found"]},
       params=[VILLAGE, p("doc_id", "document id", r"^[a-z_]+:[A-Za-z0-9-]{1,64}$"),
               p("attachment", "attachment name", r"^[A-Za-z0-9._-]{1,64}$"),
               q("size", {"type": "string", "enum": ["display", "thumb"]})]),
    Op("post", "/api/v1/villages/{village}/docs/{doc_id}/photos", "photos",
       "A cadre uploads a photo of a verification visit 上传核查照片",
       {201: ("stored as an attachment of the visit and queued for the worker", "PhotoStored"),
        200: ("the same photo was already stored under this name (a retry)", "PhotoStored")},
       {400: ["photo_doc_type", "photo_missing", *PATH_ID_CODES], 403: ["village_forbidden"],
        404: ["village_unknown", "document_unknown", "not_found"],
        409: ["photo_name_taken", "photo_doc_quarantined"],
        413: ["attachment_too_large", "payload_too_large"],
        415: ["photo_not_image", "photo_content_type"], 422: ["validation_failed"]},
       params=[VILLAGE, p("doc_id", "verification visit id", r"^[a-z_]+:[A-Za-z0-9-]{1,64}$"),
               q("name", {"type": "string", "pattern": r"^[A-Za-z0-9._-]{1,64}$"},
                 "attachment name (as in the visit's `photos[].attachment`); default: the "
                 "form's file name, else one made from the content")],
       raw_body=PHOTO_BODY,
       description="The cadre's own village only (like sync). The body is the image, or the "
                   "form field `photo`; at most FIELDSYNC_MAX_ATTACHMENT_MB (413 "
                   "`attachment_too_large`). A body that does not start like a JPEG, PNG, "
                   "WebP or HEIF file is refused (415 `photo_not_image`); anything else is "
                   "checked by the worker like a synced photo, with feedback to the device."),
    # alerts (docs/alerts.md)
    Op("get", "/api/v1/alerts", "alerts", "Alerts the caller may see, newest first 预警列表",
       {200: ("one page of alerts with the total and each tab's count", "AlertList")},
       {400: ["bad_request", "alert_tab_invalid"], **OFFICIALS_ONLY},
       params=[q("state", {"type": "string", "enum": ["alerted", "acknowledged", "resolved"]}),
               q("tab", {"type": "string", "enum": ["pending", "in_progress", "overdue",
                                                    "resolved", "all"]},
                 "待签收 / 处理中 / 超时 / 已办结 / all"),
               q("mine", {"type": "string", "enum": ["1", "true"]}, "only alerts involving me"),
               q("town", {"type": "string", "pattern": "^[0-9]{12}$"}, "one town"),
               q("q", {"type": "string", "maxLength": 64}, "search: names, phone, village"),
               *PAGE]),
    Op("get", "/api/v1/alerts/stream", "alerts", "Live alerts and inbox items (SSE) 实时推送",
       {200: ("an endless `text/event-stream`: events `alert` and `inbox`",
              "text/event-stream")},
       {400: ["bad_request"], **OFFICIALS_ONLY, 503: ["too_many_streams", "too_many_streams_account"]},
       params=[q("heartbeat", {"type": "number", "minimum": 0.05, "maximum": 60},
                 "seconds between keep-alive comments")]),
    Op("get", "/api/v1/alerts/{alert_id}", "alerts", "One alert with its timeline 预警详情",
       {200: ("the alert, its deliveries, case events and timeline", "AlertDetail")},
       {**OFFICIALS_ONLY, 404: ["alert_not_found", "not_found"]}, params=[ALERT_ID]),
    Op("post", "/api/v1/alerts/{alert_id}/acknowledge", "alerts",
       "Acknowledge: escalation stops 签收",
       {200: ("the acknowledged alert", "AlertChanged")},
       {403: ["forbidden", "alert_not_responsible"], 404: ["alert_not_found", "not_found"],
        409: ["alert_already_resolved"]},
       params=[ALERT_ID], body=AcknowledgeInput, body_required=False),
    Op("post", "/api/v1/alerts/{alert_id}/assign", "alerts", "Assign a mediator 指派调解员",
       {200: ("the alert", "AlertChanged")},
       {403: ["forbidden", "alert_not_responsible"], 404: ["alert_not_found", "not_found"],
        409: ["alert_already_resolved"]},
       params=[ALERT_ID], body=AssignInput,
       description="The mediator must be on the town's list when it has one (422 "
                   "`mediator_not_listed`)."),
    Op("post", "/api/v1/alerts/{alert_id}/resolve", "alerts", "Resolve with an outcome 办结",
       {200: ("the resolved alert", "AlertChanged")},
       {403: ["forbidden", "alert_not_responsible"], 404: ["alert_not_found", "not_found"],
        409: ["alert_already_resolved", "alert_not_acknowledged"]},
       params=[ALERT_ID], body=ResolveInput),
    Op("post", "/api/v1/alerts/{alert_id}/events", "alerts", "Record a case event 记录办理过程",
       {201: ("stored", "CaseEvent"), 200: ("already stored under this Idempotency-Key",
                                            "CaseEvent")},
       {403: ["forbidden", "alert_not_responsible"], 404: ["alert_not_found", "not_found"],
        409: ["alert_already_resolved"]},
       params=[ALERT_ID, header("Idempotency-Key", "a retried POST with the same key is "
                                                    "stored once")],
       body=CaseEventInput),
    Op("get", "/api/v1/sla", "alerts", "SLA figures per town and county 时效统计",
       {200: ("times to alert, acknowledge and resolve", "Sla")},
       {400: ["period_invalid"], **OFFICIALS_ONLY},
       params=[q("period", {"type": "string",
                            "enum": ["1d", "7d", "30d", "90d", "365d", "all"]})]),
    Op("get", "/api/v1/inbox", "alerts", "The caller's inbox, newest first 收件箱",
       {200: ("delivered in-app notifications", "Inbox")},
       {400: ["bad_request"], **OFFICIALS_ONLY}, params=PAGE),
    Op("get", "/api/v1/deliveries/dead", "alerts", "Deliveries that gave up 投递失败",
       {200: ("dead deliveries, newest first", "DeadDeliveries")},
       {400: ["bad_request"], **OFFICIALS_ONLY}, params=PAGE),
    Op("get", "/api/v1/duty-rosters", "duty", "Rosters in my jurisdiction, with warnings 值班表一览",
       {200: ("every roster, who answers alerts now, towns with nobody on duty", "DutyRosters")},
       OFFICIALS_ONLY),
    Op("get", "/api/v1/duty-rosters/{code}", "duty", "The duty roster of a town or county 值班表",
       {200: ("the roster", "DutyRoster")},
       {**OFFICIALS_ONLY, 404: ["roster_not_found", "not_found"]}, params=[ROSTER_CODE]),
    Op("put", "/api/v1/duty-rosters/{code}", "duty", "Replace a duty roster 修改值班表",
       {200: ("the saved roster", "DutyRoster")},
       {**OFFICIALS_ONLY, 404: ["roster_not_found", "not_found"]}, params=[ROSTER_CODE],
       body=DutyRosterInput,
       description="County officials (their county and its towns) and the central office. "
                   "422 `roster_member_unknown` / `roster_member_outside` in `details`."),
    # central review (docs/reconciliation.md)
    Op("get", "/api/v1/review/tasks", "review", "Review tasks, oldest first 复核任务",
       {200: ("one page", "ReviewPage")}, {400: ["bad_request"], **OFFICIALS_ONLY},
       params=[q("state", {"type": "string", "maxLength": 40}, "`open` (default), `all`, ..."),
               q("kind", {"type": "string", "maxLength": 40}), *REVIEW_PAGE]),
    Op("get", "/api/v1/households", "review",
       "Search households (ID numbers masked; a full ID number is matched by keyed hash) 农户查询",
       {200: ("one page of central-view households", "HouseholdPage")},
       {400: ["bad_request"], **OFFICIALS_ONLY},
       params=[q("q", {"type": "string", "maxLength": 64}, "a name part or a full ID number"),
               q("status", {"type": "string", "enum": ["not_lifted", "lifted", "monitored",
                                                       "at_risk", "sudden_hardship"]}),
               q("page", {"type": "integer", "minimum": 1}),
               q("per_page", {"type": "integer", "minimum": 1, "maximum": 200})]),
    Op("get", "/api/v1/review/duplicates", "review", "Duplicate household groups 疑似重复户",
       {200: ("one page", "ReviewPage")}, {400: ["bad_request"], **OFFICIALS_ONLY},
       params=REVIEW_PAGE),
    Op("get", "/api/v1/review/conflicts", "review", "The conflict archive 冲突存档",
       {200: ("one page", "ReviewPage")}, {400: ["bad_request"], **OFFICIALS_ONLY},
       params=[q("doc_id", {"type": "string", "maxLength": 120}), *REVIEW_PAGE]),
    Op("get", "/api/v1/review/quarantine", "review",
       "Quarantined revisions (records to correct), oldest first 待更正记录",
       {200: ("one page of quarantine entries", "ReviewPage")},
       {400: ["bad_request"], **OFFICIALS_ONLY},
       params=[q("state", {"type": "string", "enum": ["open", "resolved", "all"]},
                 "`open` (default)"), *REVIEW_PAGE]),
    Op("post", "/api/v1/review/tasks/{task_id}/decision", "review",
       "Decide a household disagreement 复核裁定",
       {200: ("the decided task", "ANY")},
       {400: ["review_pick_invalid"], **OFFICIALS_ONLY, 404: ["review_task_unknown", "not_found"],
        409: ["review_task_closed", "review_task_not_decidable"], 422: ["yuan_format"]},
       params=[p("task_id", "review task id", r"^review:[A-Za-z0-9._:-]{1,100}$")],
       body=ReviewDecision),
    Op("post", "/api/v1/review/tasks/{task_id}/merge", "review",
       "Merge a duplicate household (nothing lost) 合并重复户",
       {200: ("the closed task", "ANY")},
       {400: ["review_keep_invalid"], **OFFICIALS_ONLY, 404: ["review_task_unknown", "not_found"],
        409: ["review_task_closed", "review_task_not_decidable"]},
       params=[p("task_id", "review task id", r"^review:[A-Za-z0-9._:-]{1,100}$")],
       body=DuplicateMerge),
    Op("post", "/api/v1/review/tasks/{task_id}/dismiss", "review",
       "Not the same household: dismiss with a reason 排除重复",
       {200: ("the closed task", "ANY")},
       {**OFFICIALS_ONLY, 404: ["review_task_unknown", "not_found"],
        409: ["review_task_closed", "review_task_not_decidable"],
        422: ["review_reason_required"]},
       params=[p("task_id", "review task id", r"^review:[A-Za-z0-9._:-]{1,100}$")],
       body=DuplicateDismissal),
    Op("get", "/api/v1/field-devices", "alerts",
       "The cadres' phones of the caller's villages, with what each still holds 干部设备",
       {200: ("one page of devices: holding work first (longest first), then longest silent",
              "FieldDevicePage")},
       {400: ["bad_request"], **OFFICIALS_ONLY},
       params=[q("village", {"type": "string", "pattern": "^[0-9]{12}$"},
                 "one village of the caller's subtree (403 outside it)"),
               q("holding", {"type": "string", "enum": ["1", "true"]},
                 "only devices that still hold records"), *PAGE],
       description="A town official sees the devices of the town's villages, a county "
                   "official those of its towns, the central office all; cadres get 403."),
    # operations
    Op("get", "/api/v1/monitoring", "operations", "Backlogs, lag, SLA breaches, heartbeats 运行监控",
       {200: ("figures computed from stored state (see docs/operations.md)", "Monitoring")},
       OFFICIALS_ONLY,
       description="Officials see the figures of their jurisdiction's villages; the central "
                   "office sees all. Worker heartbeats are global."),
    # reports (central office and county officials)
    Op("get", "/api/v1/reports/{name}", "reports",
       "A report as JSON, or a CSV / XLSX download 统计报表",
       {200: ("the report (JSON), or the file with Chinese headers (`?lang=en`: English)",
              ["ReportJson", "text/csv", XLSX_TYPE])},
       {400: ["report_date_invalid", "period_invalid"], **OFFICIALS_ONLY,
        404: ["report_unknown", "report_format_unknown", "not_found"]},
       params=[p("name", "report name, optionally with `.csv` or `.xlsx`")
               | {"schema": {"type": "string", "enum": REPORT_NAMES}},
               q("from", {"type": "string", "format": "date"}, "first day (default: a year "
                                                                 "or 30 days back)"),
               q("to", {"type": "string", "format": "date"}, "last day (default: today)"),
               q("period", {"type": "string", "enum": ["1d", "7d", "30d", "90d", "365d", "all"]},
                 "instead of `from` (like /api/v1/sla)")],
       description="Central admins see everything, county officials their county; anyone "
                   "else gets 403."),
    # officials' page
    Op("get", "/", "pages", "Redirect to the officials' page", {302: ("to /officials", None)},
       auth=False),
    Op("get", "/officials", "pages", "The officials' workbench 领导端工作台",
       {200: ("HTML", "text/html")}, {503: ["frontend_not_built"]}, auth=False),
    Op("get", "/reports", "pages", "The reports, in the workbench 统计报表",
       {302: ("to /officials#/reports", None)}, auth=False),
    Op("get", "/officials/review", "pages", "The review queue, in the workbench 复核",
       {302: ("to /officials#/review", None)}, auth=False),
    Op("get", "/officials/rosters", "pages", "The duty rosters, in the workbench 值班表",
       {302: ("to /officials#/rosters", None)}, auth=False),
    Op("get", "/officials/households", "pages", "The household search, in the workbench 农户查询",
       {302: ("to /officials#/households", None)}, auth=False),
    # the front end (mobile_api/app_pages.py)
    Op("get", "/app", "pages", "Redirect to the field app", {302: ("to /app/", None)}, auth=False),
    Op("get", "/app/", "pages", "The cadres' field app (PWA) 扶贫干部端",
       {200: ("HTML", "text/html")}, {503: ["frontend_not_built"]}, auth=False),
    Op("get", "/apply", "pages", "The villagers' page: file and follow a mediation request 群众端",
       {200: ("HTML", "text/html")}, {503: ["frontend_not_built"]}, auth=False),
    Op("get", "/app/{rest}", "pages", "A file of the front-end build",
       {200: ("script, style, icon, manifest or service worker", "application/octet-stream")},
       {503: ["frontend_not_built"]}, auth=False,
       params=[p("rest", "path of the file in the build", r"^[A-Za-z0-9._/-]+$")]),
    # sync gateway
    Op("get", "/sync/", "sync", "Replication server root (stable uuid) 同步服务根",
       {200: ("CouchDB welcome with the installation's uuid", "CouchWelcome")}, auth=False),
]

SYNC_DESCRIPTION = (
    "A CouchDB replication endpoint: give PouchDB or any CouchDB replicator "
    "`/sync/{village}` as the remote database. Forwarded: `/` (database info), `_local/<id>`, "
    "`_revs_diff`, `_bulk_get`, `_all_docs`, `_changes` (normal/longpoll, filter _doc_ids), "
    "`_bulk_docs`, `<doc id>`, `<doc id>/<attachment>`; anything else is 404 "
    "`sync_endpoint_unknown` or 405. Answers follow the CouchDB HTTP API; errors use the body "
    "below (plus CouchDB's `error`/`reason`). See docs/api.md. 设备同步接口（CouchDB 复制协议）.")
DEVICE_STATUS_HEADERS = [  # what the device still holds (docs/device-contract.md §8)
    {"name": name, "in": "header", "required": False, "description": text, "schema": schema}
    for name, text, schema in (
        ("X-Device-Pending", "documents saved on the device, not yet pushed",
         {"type": "string", "pattern": r"^[0-9]{1,7}$"}),
        ("X-Device-Refused", "refused documents the device keeps (needs X-Device-Pending)",
         {"type": "string", "pattern": r"^[0-9]{1,7}$"}),
        ("X-Device-Seq", "the local database's update sequence (needs X-Device-Pending)",
         {"type": "string", "pattern": r"^[0-9A-Za-z._-]{1,64}$"}))]
SYNC_ERRORS = {400: ["bad_request", "bad_json", "bad_bulk_docs", "feed_not_supported", "device_status_format",
                     "filter_not_supported", "id_mismatch", "put_query_unsupported"],
               403: ["village_forbidden"], 404: ["village_unknown", "sync_endpoint_unknown",
                                                 "not_found"],
               405: ["method_not_allowed"], 413: ["payload_too_large", "bulk_docs_too_many"],
               415: ["attachment_type"], 503: ["too_many_waiting", "too_many_waiting_account",
                                                   "too_many_reads_account"]}
SYNC_METHODS = ("get", "head", "post", "put", "delete")

COMMON_ERRORS = {
    "auth": {401: ["unauthorized", "invalid_credentials", "account_disabled", "token_revoked",
                   "token_expired"], 429: ["account_locked"]},
    "gated": {426: ["app_version_unsupported"]},
    "body": {400: ["bad_json"], 413: ["payload_too_large"], 422: ["validation_failed"]},
    "always": {500: ["internal_error"], 503: ["couchdb_unavailable", "couchdb_busy"]},
}
WHY = {400: "the request cannot be understood", 401: "no or bad credentials (only `/sync` "
       "adds `WWW-Authenticate: Basic`)", 403: "not allowed here", 404: "not found",
       405: "method not allowed", 409: "conflicts with the current state",
       413: "the body is over the limit", 415: "the body is not of a kind accepted here",
       422: "fields are wrong: see `details`",
       426: "the app (X-App-Version) is older than FIELDSYNC_MIN_APP_VERSION",
       429: "too many requests or failed logins (with `Retry-After`)",
       500: "a bug, logged with its traceback", 503: "unavailable; retry (with `Retry-After`)"}


def _errors_of(op: Op) -> dict[int, list[str]]:
    groups = [COMMON_ERRORS["always"]]
    if op.auth:
        groups.append(COMMON_ERRORS["auth"])
    if op.path.startswith(("/api/v1/", "/sync/")):
        groups.append(COMMON_ERRORS["gated"])
    if op.body is not None:
        groups.append(COMMON_ERRORS["body"])
    if op.raw_body is not None:
        groups.append({413: ["payload_too_large"]})
    if any(param["in"] == "path" for param in op.params):
        groups.append({404: ["not_found"]})
    merged: dict[int, list[str]] = {}
    for group in [*groups, op.errors]:
        for status, codes in group.items():
            merged[status] = list(dict.fromkeys([*merged.get(status, []), *codes]))
    return merged


def _content(kind: str | list | None) -> dict:
    if kind is None:
        return {}
    if isinstance(kind, list):  # one status, several content types
        return {"content": {k: v for one in kind for k, v in _content(one)["content"].items()}}
    if kind == "ANY":
        return {"content": {"application/json": {"schema": ANY_OBJ}}}
    if "/" in kind:
        binary = kind.startswith(("image/", "application/vnd"))
        schema = {"type": "string", "format": "binary"} if binary else STR
        return {"content": {kind: {"schema": schema}}}
    return {"content": {"application/json": {"schema": ref(kind)}}}


def _responses(op: Op) -> dict:
    responses = {str(status): {"description": text, **_content(kind)}
                 for status, (text, kind) in op.ok.items()}
    for status, codes in sorted(_errors_of(op).items()):
        if str(status) in responses:
            continue  # the operation documents its own body for this status (healthz 503)
        responses[str(status)] = {
            "description": f"{WHY.get(status, 'error')}. Codes: " + ", ".join(
                f"`{code}`" for code in codes),
            "content": {"application/json": {"schema": {
                "allOf": [ref("Error")],
                "properties": {"error": {"type": "string", "enum": codes}}}}}}
    return responses


LANG = {"name": "lang", "in": "query", "required": False,
        "description": "language of `message`: zh (default) or en; else Accept-Language",
        "schema": {"type": "string", "enum": ["zh", "en"]}}


def _operation(op: Op, plugin_schemas: dict) -> dict:
    operation = {"tags": [op.tag], "summary": op.summary, "operationId": _operation_id(op),
                 "parameters": [*op.params, LANG], "responses": _responses(op)}
    if op.description:
        operation["description"] = op.description
    if op.auth:
        operation["security"] = [{"basic": []}]
    else:
        operation["security"] = []
    if op.body is not None:
        operation["requestBody"] = {"required": op.body_required, "content": {
            "application/json": {"schema": ref(plugin_schemas[op.body])}}}
    if op.raw_body is not None:
        operation["requestBody"] = {"required": True, "content": op.raw_body}
    return operation


def _operation_id(op: Op) -> str:
    cleaned = op.path.strip("/").replace("{", "").replace("}", "")
    for char in "/.-":
        cleaned = cleaned.replace(char, "_")
    return f"{op.method}_{cleaned or 'root'}"


def _sync_paths() -> dict:
    responses = {"200": {"description": "the CouchDB answer (JSON, or an attachment)",
                         "content": {"application/json": {"schema": ANY_OBJ}}},
                 "201": {"description": "written (CouchDB answer)",
                         "content": {"application/json": {"schema": {}}}}}
    errors = {**SYNC_ERRORS}
    for group in ("always", "auth", "gated"):
        for status, codes in COMMON_ERRORS[group].items():
            errors[status] = [*errors.get(status, []), *codes]
    errors[413] = ["payload_too_large"]
    for status, codes in sorted(errors.items()):
        responses[str(status)] = {"description": f"{WHY.get(status, 'error')}. Codes: " +
                                  ", ".join(f"`{c}`" for c in codes),
                                  "content": {"application/json": {"schema": ref("Error")}}}
    paths = {}
    for path, extra in (("/sync/{village}", []),
                        ("/sync/{village}/{rest}", [p("rest", "CouchDB path within the "
                                                             "village database", r"^.+$")])):
        paths[path] = {method: {"tags": ["sync"], "summary": f"CouchDB replication ({method})",
                                "description": SYNC_DESCRIPTION,
                                "operationId": f"sync_{method}_{'rest' if extra else 'db'}",
                                "parameters": [VILLAGE, *extra,
                                               header("X-Device-Id", "the device's id"),
                                               header("X-App-Version", "the app's version"),
                                               *DEVICE_STATUS_HEADERS],
                                "security": [{"basic": []}], "responses": responses}
                       for method in SYNC_METHODS}
    return paths


INFO_DESCRIPTION = """fieldsync HTTP API (村干部离线采集后台接口).

**Authentication 认证**: HTTP Basic on every endpoint marked with a lock: the username with
either the account's password or a device token from `POST /api/v1/login` (用户名 + 密码或设备令牌);
renew a token before it expires with `POST /api/v1/token/renew` (Basic `username:token`).

**Errors 错误**: every error has the body `Error`: `error` is the stable code to match on;
`message`/`reason` are in the caller's language (`?lang=zh|en`, then `Accept-Language`, then
Simplified Chinese 默认简体中文); `messages` has both; `details` lists field problems for 422.

**App version 版本**: a request under /api/v1/ or /sync/ with an `X-App-Version` older than the
server's minimum gets 426 `app_version_unsupported`.
"""


@lru_cache(maxsize=1)
def build_spec() -> dict:
    """The OpenAPI document, built once per process."""
    spec = APISpec(title="fieldsync", version=VERSION, openapi_version="3.0.3",
                   plugins=[MarshmallowPlugin()], info={"description": INFO_DESCRIPTION})
    spec.components.security_scheme("basic", {
        "type": "http", "scheme": "basic",
        "description": "username + password, or username + device token (用户名 + 密码或设备令牌)"})
    for name, schema in RESPONSE_SCHEMAS.items():
        spec.components.schema(name, schema)
    bodies: dict = {}
    for op in ENDPOINTS:
        if op.body is not None and op.body not in bodies:
            name = op.body.__name__.removesuffix("Schema").removesuffix("Input") + "Body"
            spec.components.schema(name, schema=op.body)
            bodies[op.body] = name
    paths: dict[str, dict] = {}
    for op in ENDPOINTS:
        paths.setdefault(op.path, {})[op.method] = _operation(op, bodies)
    paths.update(_sync_paths())
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@bp.get("/api/openapi.json")
def openapi_json():
    """The OpenAPI 3 document of this API."""
    return jsonify(build_spec())
