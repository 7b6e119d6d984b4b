"""GET /pos/v1/openapi.json: the OpenAPI 3 document of the device API."""
from flask import jsonify

from app.parks.services import VEHICLE_CLASSES
from pos_api import bp

ERROR = {"$ref": "#/components/schemas/Error"}
BEARER = [{"bearer": []}]


def _err(*codes):
    return {str(code): {"description": desc, "content": {"application/json": {"schema": ERROR}}}
            for code, desc in [(c, STATUS[c]) for c in codes]}


STATUS = {400: "Bad request: malformed_json (not a JSON object with Content-Type: application/json, or nested "
               "deeper than 32 levels), or a NUL character",
          401: "Not signed in", 403: "Refused", 404: "Not found",
          409: "Conflict with the current state; client_ref_reused: the client_ref was used for another request",
          413: "payload_too_large: the body is larger than the endpoint takes (1 MB by default; a photo upload "
               "5 MB and its form); refused before the token is checked",
          422: "Invalid fields", 429: "Too many: wait Retry-After seconds"}


def _json(schema, description="OK"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _body(properties: dict, required: list[str]):
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "properties": properties, "required": required}}}}


CLIENT_REF = {"type": "string", "minLength": 8, "maxLength": 64, "pattern": "^[A-Za-z0-9_-]{8,64}$",
              "description": "Client-generated id (UUID). A retry with the same id returns the first answer."}
TIME = {"type": "string", "format": "date-time",
        "description": "ISO 8601 with offset; at most 2 minutes ahead, at most 48 hours old."}
FEN = {"type": "integer", "minimum": 0, "description": "Money in fen (1/100 yuan)."}
ID = {"type": "integer", "minimum": 1}
VEHICLE_CLASS = {"enum": list(VEHICLE_CLASSES), "default": "small",
                 "description": "Prices the stay; the sign-in answer lists the park's car types and their class."}
OBJ = {"type": "object"}


EXTRA_PATHS: dict = {}


def register_paths(paths: dict) -> None:
    """Other device modules (sensors, inspectors, tracks) describe their endpoints here."""
    EXTRA_PATHS.update(paths)


def document() -> dict:
    order = {"$ref": "#/components/schemas/Order"}
    paths = {
        "/session": {
            "post": {"summary": "Sign in on a handheld", "security": [],
                     "requestBody": _body({"username": {"type": "string", "minLength": 1, "maxLength": 64},
                                           "password": {"type": "string", "minLength": 1, "maxLength": 128},
                                           "device_serial": {"type": "string", "minLength": 1, "maxLength": 64},
                                           "device_key": {"type": "string", "maxLength": 200, "description":
                                                          "device_key of this handheld's last sign-in to the "
                                                          "account: a known device is not delayed"}},
                                          ["username", "password", "device_serial"]),
                     "responses": {"201": _json({"$ref": "#/components/schemas/Session"}, "Signed in"),
                                   **_err(400, 401, 403, 409, 422, 429)}},
            "delete": {"summary": "Sign out (revokes the token)", "security": BEARER,
                       "responses": {"200": _json(OBJ), **_err(401)}}},
        "/shifts": {"post": {"summary": "Sign in to a berth segment", "security": BEARER,
                             "requestBody": _body({"client_ref": CLIENT_REF, "segment_id": ID},
                                                  ["client_ref", "segment_id"]),
                             "responses": {"201": _json(OBJ, "Shift started"), "200": _json(OBJ, "Replay"),
                                           **_err(400, 401, 403, 404, 409, 422)}}},
        "/shifts/current/close": {"post": {
            "summary": "Sign out of the segment; returns the shift summary", "security": BEARER,
            "requestBody": _body({"client_ref": CLIENT_REF, "password": {"type": "string", "maxLength": 128}},
                                 ["client_ref"]),
            "responses": {"200": _json(OBJ), **_err(400, 401, 403, 409, 422)}}},
        "/berths": {"get": {"summary": "Berths of the signed-in segment with their open orders", "security": BEARER,
                            "responses": {"200": _json(OBJ), **_err(401, 403)}}},
        "/plates/{plate}": {"get": {
            "summary": "Open orders in the city, arrears in scope and black list status of a plate",
            "security": BEARER,
            "parameters": [{"name": "plate", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _json(OBJ), **_err(401, 422)}}},
        "/orders": {
            "post": {"summary": "Car in: open an order on a berth", "security": BEARER,
                     "requestBody": _body({"client_ref": CLIENT_REF, "berth_id": ID,
                                           "plate": {"type": "string", "minLength": 1, "maxLength": 16},
                                           "vehicle_class": VEHICLE_CLASS,
                                           "entered_at": TIME,
                                           "prepay": {"type": "object", "properties": {
                                               "amount_fen": {"type": "integer", "minimum": 1},
                                               "method": {"enum": ["cash", "electronic", "card"]}},
                                               "required": ["amount_fen", "method"]}},
                                          ["client_ref", "berth_id", "plate"]),
                     "responses": {"201": _json({"type": "object", "properties": {"order": order}}),
                                   **_err(400, 401, 403, 404, 409, 422)}},
            "get": {"summary": "My open orders (segment) or closed orders of a day", "security": BEARER,
                    "parameters": [{"name": "state", "in": "query", "schema": {"enum": ["open", "closed"]}},
                                   {"name": "date", "in": "query", "schema": {"type": "string", "format": "date"}}],
                    "responses": {"200": _json(OBJ), **_err(401, 422)}}},
        "/orders/{order_id}/quote": {"get": {
            "summary": "Fee computed by the server, with its lines", "security": BEARER,
            "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": ID},
                           {"name": "left_at", "in": "query", "schema": TIME}],
            "responses": {"200": _json(OBJ), **_err(401, 404, 409, 422)}}},
        "/orders/{order_id}/settle": {"post": {
            "summary": "Car out: pay and close; 409 fee_changed if amount_fen is not what is due",
            "security": BEARER,
            "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": ID}],
            "requestBody": _body({"client_ref": CLIENT_REF, "left_at": TIME,
                                  "method": {"enum": ["cash", "electronic", "card", "free"]}, "amount_fen": FEN,
                                  "free_reason": {"type": "string", "maxLength": 80}},
                                 ["client_ref", "left_at", "method", "amount_fen"]),
            "responses": {"200": _json(OBJ, "Receipt"), **_err(400, 401, 403, 404, 409, 422)}}},
        "/orders/{order_id}/escape": {"post": {
            "summary": "Mark unpaid (逃单) and open an arrear", "security": BEARER,
            "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": ID}],
            "requestBody": _body({"client_ref": CLIENT_REF, "left_at": TIME}, ["client_ref", "left_at"]),
            "responses": {"200": _json(OBJ), **_err(400, 401, 403, 404, 409, 422)}}},
        "/orders/{order_id}/photos": {"post": {
            "summary": "Attach a JPEG or PNG photo (at most 5 MB)", "security": BEARER,
            "parameters": [{"name": "order_id", "in": "path", "required": True, "schema": ID}],
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["client_ref", "kind", "photo"],
                "properties": {"client_ref": CLIENT_REF, "kind": {"enum": ["entry", "exit", "evidence"]},
                               "photo": {"type": "string", "format": "binary"}}}}}},
            "responses": {"201": _json(OBJ), **_err(400, 401, 404, 422)}}},
        "/arrears/recover": {"post": {
            "summary": "Recover (追缴) several debts at once, all or nothing", "security": BEARER,
            "requestBody": _body({"client_ref": CLIENT_REF, "arrear_ids": {"type": "array", "items": ID,
                                                                           "minItems": 1, "maxItems": 100},
                                  "method": {"enum": ["cash", "electronic", "card"]},
                                  "amount_fen": {"type": "integer", "minimum": 1}},
                                 ["client_ref", "arrear_ids", "method", "amount_fen"]),
            "responses": {"200": _json(OBJ), **_err(400, 401, 403, 404, 409, 422)}}},
        "/stats/today": {"get": {"summary": "My figures of a day", "security": BEARER,
                                 "parameters": [{"name": "date", "in": "query",
                                                 "schema": {"type": "string", "format": "date"}}],
                                 "responses": {"200": _json(OBJ), **_err(401, 422)}}},
        "/time": {"get": {"summary": "Server time, to correct the handheld's clock", "security": [],
                          "responses": {"200": _json({"type": "object", "required": ["now"],
                                                      "properties": {"now": TIME}})}}},
        "/messages": {"get": {"summary": "My inbox after a message id", "security": BEARER,
                              "parameters": [{"name": "after", "in": "query",
                                              "schema": {"type": "integer", "minimum": 0}}],
                              "responses": {"200": _json(OBJ), **_err(401, 422)}}},
    }
    all_paths = {**paths, **EXTRA_PATHS}
    for operations in all_paths.values():
        for operation in operations.values():
            _door_answers(operation)
    return {
        "openapi": "3.0.3",
        "info": {"title": "ParkingOS device API", "version": "1.0.0",
                 "description": "Handheld collectors and inspectors. Money in integer fen; times ISO 8601 with "
                                "offset. Every write carries client_ref; errors are "
                                '{"error": {"code", "message", "fields"}}.'},
        "servers": [{"url": "/pos/v1"}],
        "paths": all_paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message", "fields"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                   "fields": {"type": "object"}}}}},
                "Session": {"type": "object", "required": ["token", "expires_at", "device_key", "user", "park",
                                                              "segments", "vehicle_classes", "car_types"],
                            "properties": {"token": {"type": "string"}, "expires_at": TIME,
                                           "device_key": {"type": "string"}, "user": OBJ,
                                           "park": OBJ, "segments": {"type": "array", "items": OBJ},
                                           "vehicle_classes": {"type": "array", "items": VEHICLE_CLASS},
                                           "car_types": {"type": "array", "items": {
                                               "type": "object", "required": ["code", "name", "vehicle_class"],
                                               "properties": {"code": {"type": "string"},
                                                              "name": {"type": "string"},
                                                              "vehicle_class": VEHICLE_CLASS}}}}},
                "Order": {"type": "object", "required": ["id", "state", "plate"],
                          "properties": {"id": ID, "state": {"enum": ["open", "settled", "unpaid", "recovered"]},
                                         "plate": {"type": "string"}, "entered_at": TIME,
                                         "prepaid_fen": FEN, "fee_fen": FEN, "paid_fen": {"type": "integer"}}},
            }},
    }


def _door_answers(operation: dict) -> None:
    """What any request can get before its endpoint does anything: 400 (a NUL character, a malformed
    body), 413 for a body too large, and 409 client_ref_reused for a write with a client_ref."""
    responses = operation.setdefault("responses", {})
    codes = [400]
    body = operation.get("requestBody")
    if body:
        codes.append(413)
        if any("client_ref" in media["schema"].get("properties", {}) for media in body["content"].values()):
            codes.append(409)
    for code, answer in _err(*codes).items():
        responses.setdefault(code, answer)


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(document())
