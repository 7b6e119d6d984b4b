"""GET /sync/v1/openapi.json: the OpenAPI 3 document of the on-site link (served unsigned).

Field limits mirror the checks of app/sync/api.py, uploads.py and services.py; tests/sync/test_openapi.py
fuzzes every operation against this document."""
from __future__ import annotations

from flask import jsonify

from app.sync import services, uploads
from app.sync.api import MAX_PULL, bp
from app.sync.feed import SNAPSHOT_ENTITIES

SIGNED = [{"parkId": [], "timestamp": [], "requestId": [], "signature": []}]
ERROR = {"$ref": "#/components/schemas/Error"}
STATUS = {400: "Refused at the door: malformed_json (the body is not a JSON object sent as application/json, "
               "or nests deeper than 32 levels; answered before the signature is checked), a NUL character in "
               "the query",
          401: "Not signed, or the signature is refused: see error.code",
          404: "Not found", 409: "Conflict with the current state",
          413: "payload_too_large: the body is larger than the operation takes (16 MB for /uploads, 1 MB "
               "otherwise); refused before the signature is checked, and a streamed body is not read further",
          422: "Invalid fields (validation_failed, ack_ahead...)"}

ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
FEN = {"type": "integer", "minimum": 0, "maximum": 10_000_000_00, "description": "Money in fen (1/100 yuan)."}
TIME = {"type": "string", "format": "date-time"}
AT = {**TIME, "description": "Device time, ISO 8601 with its UTC offset; at most 2 minutes ahead of the cloud "
                             "and at most 7 days old."}
SEQ = {"type": "integer", "minimum": 0, "description": "A position in the park's change feed."}
OBJ = {"type": "object"}
NO_NUL = r"^[^\x00]*$"


def _text(max_len: int, description: str | None = None) -> dict:
    schema = {"type": "string", "minLength": 1, "maxLength": max_len, "pattern": r"^[^\x00-\x1f]*\S[^\x00-\x1f]*$"}
    return {**schema, "description": description} if description else schema


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema, description="OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _err(*codes) -> dict:
    return {str(code): _json(ERROR, STATUS[code]) for code in codes}


def _body(properties: dict, required: list[str]) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _object(properties, required)}}}


def _object(properties: dict, required: list[str], **extra) -> dict:
    schema = {"type": "object", "properties": properties, **extra}
    return {**schema, "required": required} if required else schema  # OpenAPI 3.0 refuses an empty list


def _operation(summary: str, responses: dict, errors=(), **extra) -> dict:
    """Every operation is signed, and any may be refused at the door (400), by the signature check (401),
    or as invalid (422); one with a body as too large (413)."""
    codes = sorted({400, 401, 422, *errors, *((413,) if "requestBody" in extra else ())})
    return {"summary": summary, "security": SIGNED, "responses": {**responses, **_err(*codes)}, **extra}


# --- upload items, one schema per kind -----------------------------------------------------------

SITE_ID = {"type": "string", "pattern": uploads.SITE_REF.pattern,
           "description": "The site's own id of the item: (park, kind, site_id) is the idempotency key."}
PLATE = _text(16, "Plate; normalized to 4 to 10 letters, digits or Chinese characters.")
PHOTO = {"type": "string", "format": "byte",
         "description": f"Base64 JPEG or PNG of at most {uploads.MAX_PHOTO_BYTES // 1024} KB."}
LANE = {**ID, "description": "A lane of this park."}
ORDER_SITE_ID = _text(64, "The site_id of the entry this item belongs to.")
PAYMENT = _object({"method": {"enum": list(uploads.PAY_METHODS)}, "amount_fen": FEN}, ["method", "amount_fen"])


def _item(kind: str, description: str, properties: dict, required: list[str]) -> dict:
    return _object({"kind": {"enum": [kind]}, "site_id": SITE_ID, **properties}, ["kind", "site_id", *required],
                   description=description)


ITEMS = {
    "EntryItem": _item("entry", "A car in: opens an order (an open order of the same plate closes at no charge).",
                       {"plate": PLATE, "lane_id": LANE, "at": AT, "vehicle_class": _text(32, "Default small."),
                        "photo": PHOTO}, ["plate", "lane_id", "at"]),
    "ExitItem": _item("exit", "A car out: sets left_at; an order nobody settled closes free.",
                      {"order_site_id": ORDER_SITE_ID, "lane_id": LANE, "at": AT, "photo": PHOTO},
                      ["order_site_id", "lane_id", "at"]),
    "SettlementItem": _item(
        "settlement", "A payment at the booth: payments plus reduction must equal the fee; several add up.",
        {"order_site_id": ORDER_SITE_ID, "at": AT, "fee_fen": FEN,
         "payments": {"type": "array", "maxItems": 5, "items": PAYMENT},
         "reduction_fen": FEN, "free_reason": _text(80, "Required with a reduction."),
         "collector_name": _text(80)}, ["order_site_id", "at", "fee_fen"]),
    "LiftItem": _item("lift", "手动抬杆: a barrier opened by hand (kept and audited).",
                      {"lane_id": LANE, "at": AT, "reason": _text(200), "operator_name": _text(80),
                       "plate": _text(16)}, ["lane_id", "at", "reason"]),
    "PassSaleItem": _item(
        "pass_sale", "A monthly pass sold at the booth, as if sold in the admin.",
        {"product_id": ID, "holder_name": _text(80), "phone": _text(32),
         "plates": {"type": "array", "minItems": 1, "items": {"type": "string"}},
         "starts_on": {"type": "string", "format": "date", "maxLength": 10},
         "months": {"type": "integer", "minimum": 1, "maximum": 36}, "paid_fen": FEN,
         "method": {"enum": list(uploads.PAY_METHODS), "description": "Default cash."}, "at": AT},
        ["product_id", "holder_name", "plates", "starts_on", "months", "at"]),
}


def _accepted(kinds: list[str], order_id: dict, extra: dict | None = None, required=()) -> dict:
    return _object({"kind": {"enum": kinds}, "site_id": {"type": "string"}, "status": {"enum": ["ok"]},
                    "order_id": order_id, **(extra or {})}, ["kind", "site_id", "status", "order_id", *required])


RESULTS = {
    "OrderAccepted": _accepted(["entry", "exit", "settlement"], ID),
    "LiftAccepted": _accepted(["lift"], {"type": "integer", "nullable": True, "enum": [None]}),
    "PassSaleAccepted": _accepted(["pass_sale"], {"type": "integer", "nullable": True, "enum": [None]},
                                  {"pass_id": ID, "ends_on": {"type": "string", "format": "date"}},
                                  ["pass_id", "ends_on"]),
    "ItemRefused": _object({"kind": {"type": "string", "nullable": True}, "site_id": {"type": "string",
                                                                                     "nullable": True},
                            "status": {"enum": ["refused"]}, "error": _ref("ErrorBody")},
                           ["kind", "site_id", "status", "error"],
                           description="The item changed nothing; correct it and send it again with the same "
                                       "site_id. kind and site_id are echoed when they were texts."),
}
UPLOAD_RESULT = {"oneOf": [_ref(name) for name in RESULTS],
                 "description": "An accepted item sent again gets its first answer."}

COMMAND = _object({"id": ID, "lane_id": ID, "action": {"enum": list(services.ACTIONS)},
                   "reason": {"type": "string", "nullable": True},
                   "state": {"enum": list(services.COMMAND_STATES)}, "requested_at": TIME,
                   "result_message": {"type": "string", "nullable": True}},
                  ["id", "lane_id", "action", "reason", "state", "requested_at", "result_message"])
CHANGE = _object({"seq": {**SEQ, "description": "Absent in a snapshot."}, "entity": {"enum": list(SNAPSHOT_ENTITIES)},
                  "entity_id": {"type": "integer", "nullable": True,
                                "description": "Null for the default parameters of a park that never saved them."},
                  "op": {"enum": ["upsert", "delete"]},
                  "payload": {"type": "object", "nullable": True,
                              "description": "The row's columns (null for a delete)."}},
                 ["entity", "entity_id", "op", "payload"])
DEVICES = {"type": "object", "additionalProperties": False,
           "properties": {kind: {"type": "array", "maxItems": 1000, "items": ID} for kind in services.DEVICE_KINDS}}


def _paths() -> dict:
    commands = {"type": "array", "items": _ref("Command")}
    return {
        "/time": {"get": _operation("The cloud's time and the park's timezone", {"200": _json(_object(
            {"now": TIME, "park_id": ID, "timezone": {"type": "string"}}, ["now", "park_id", "timezone"]))})},
        "/uploads": {"post": _operation(
            "A batch of lane events; one result per item, in order",
            {"200": _json(_object({"results": {"type": "array", "items": UPLOAD_RESULT},
                                   "accepted": {"type": "integer", "minimum": 0},
                                   "refused": {"type": "integer", "minimum": 0}},
                                  ["results", "accepted", "refused"]))},
            requestBody=_body({"items": {"type": "array", "minItems": 1, "maxItems": uploads.MAX_ITEMS,
                                         "items": {"oneOf": [_ref(name) for name in ITEMS]}}}, ["items"]))},
        "/heartbeat": {"post": _operation(
            "The site is alive; the devices listed answered it",
            {"200": _json(_object({"ok": {"enum": [True]}, "server_time": TIME,
                                   "unknown_devices": {**DEVICES, "description": "Ids the cloud does not know."},
                                   "feed_seq": SEQ}, ["ok", "server_time", "unknown_devices", "feed_seq"]))},
            requestBody=_body({"version": {"type": "string", "maxLength": 40, "pattern": NO_NUL},
                               "devices": {**DEVICES, "description": "{kind: [device ids]}"}}, []))},
        "/changes": {"get": _operation(
            "Changes after the cursor, in order (a snapshot for 0, a pruned or a future cursor), "
            "plus the barrier commands waiting",
            {"200": _json(_object({"snapshot": {"type": "boolean"}, "seq": {**SEQ, "description": "The new cursor."},
                                   "more": {"type": "boolean"}, "changes": {"type": "array", "items": _ref("Change")},
                                   "commands": commands}, ["snapshot", "seq", "more", "changes", "commands"]))},
            parameters=[{"name": "after", "in": "query", "schema": {"type": "integer", "minimum": 0,
                                                                    "maximum": 10**12 - 1, "default": 0}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1,
                                                                    "maximum": MAX_PULL, "default": 200}}])},
        "/changes/ack": {"post": _operation(
            "The site applied everything up to seq (never backwards; 422 ack_ahead beyond the feed)",
            {"200": _json(_object({"acked_seq": SEQ}, ["acked_seq"]))},
            requestBody=_body({"seq": SEQ}, ["seq"]))},
        "/commands": {"get": _operation("Barrier commands not answered yet (handed out until answered)",
                                        {"200": _json(_object({"commands": commands}, ["commands"]))})},
        "/commands/{command_id}/result": {"post": _operation(
            "The site's answer to a command; the same answer again is accepted, a contrary one is 409",
            {"200": _json(_object({"command": _ref("Command")}, ["command"]))}, (404, 409),
            parameters=[{"name": "command_id", "in": "path", "required": True, "schema": ID}],
            requestBody=_body({"ok": {"type": "boolean"}, "message": {"type": "string", "pattern": NO_NUL}}, ["ok"]))},
    }


SECURITY_DESCRIPTION = (
    "Every request carries X-Park-Id, X-Timestamp (Unix seconds, within 300 s of the cloud's clock), "
    "X-Request-Id (8 to 64 ASCII characters, unique per request) and X-Signature: the hex HMAC-SHA256, "
    "keyed with the site's secret, of METHOD \\n /sync/v1/path?query \\n timestamp \\n request-id \\n "
    "sha256-hex(body). Refusals are 401 with error.code signature_missing, signature_malformed, "
    "unknown_park, stale_timestamp (with error.server_time), bad_signature or replayed_request.")


def _security_schemes() -> dict:
    headers = {"parkId": ("X-Park-Id", "The park's id."), "timestamp": ("X-Timestamp", "Unix seconds."),
               "requestId": ("X-Request-Id", "Unique per request: a replay is refused."),
               "signature": ("X-Signature", SECURITY_DESCRIPTION)}
    return {key: {"type": "apiKey", "in": "header", "name": name, "description": description}
            for key, (name, description) in headers.items()}


def _schemas() -> dict:
    body = _object({"code": {"type": "string"}, "message": {"type": "string"}, "fields": OBJ,
                    "server_time": {"type": "integer", "description": "With stale_timestamp: the cloud's "
                                                                      "Unix time."}},
                   ["code", "message", "fields"])
    return {"Error": _object({"error": _ref("ErrorBody")}, ["error"]), "ErrorBody": body,
            "Command": COMMAND, "Change": CHANGE, **ITEMS, **RESULTS}


def document() -> dict:
    return {
        "openapi": "3.0.3",
        "info": {"title": "ParkingOS on-site link", "version": "1.0.0",
                 "description": "The API of an off-street park's on-site server (see docs/sync.md). Money in "
                                "integer fen; times ISO 8601 with offset; every request signed; errors are "
                                '{"error": {"code", "message", "fields"}}. One transaction per request.'},
        "servers": [{"url": "/sync/v1"}],
        "security": SIGNED,
        "paths": _paths(),
        "components": {"securitySchemes": _security_schemes(), "schemas": _schemas()},
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(document())
