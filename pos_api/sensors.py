"""Base stations: sensor event batches and station heartbeats, authenticated by the station key."""
from __future__ import annotations

from functools import wraps

from flask import g, jsonify, request

from app.core.bodies import json_object
from app.core.errors import Invalid, Unauthorized
from app.core.types import utcnow
from app.sensors import services
from pos_api import bp
from pos_api.openapi import _body, _err, _json, register_paths
from pos_api.support import Body, iso


def station_key_required(view):
    """`X-Station-Key: <key>` or `Authorization: Bearer <key>` of an active base station."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        json_object()  # the body first: a malformed one is 400 with a key or without, as with a token
        key = request.headers.get("X-Station-Key", "")
        header = request.headers.get("Authorization", "")
        if not key and header.lower().startswith("bearer "):
            key = header[7:]
        station = services.station_for_key(key.strip()) if key.strip() else None
        if station is None:
            raise Unauthorized("invalid_station_key", "Unknown, rotated or disabled base-station key.")
        g.station = station
        return view(*args, **kwargs)

    return wrapped


@bp.post("/sensor-events")
@station_key_required
def sensor_events():
    body = Body()
    events = body.data.get("events")
    if not isinstance(events, list) or not 1 <= len(events) <= services.MAX_BATCH:
        raise Invalid("validation_failed", "Some fields are missing or wrong.",
                      {"events": f"a list of 1 to {services.MAX_BATCH} events"})
    results = services.ingest(g.station, events, utcnow())
    counts = {status: 0 for status in ("accepted", "duplicate", "unknown_sensor", "invalid")}
    for result in results:
        counts[result["status"]] += 1
    return jsonify({"station": g.station.serial, "counts": counts, "results": results})


@bp.post("/stations/heartbeat")
@station_key_required
def station_heartbeat():
    body = Body()
    voltage = body.int("voltage_mv", required=False, minimum=0, maximum=100_000)
    body.check()
    now = utcnow()
    services.station_heartbeat(g.station, now, voltage)
    return jsonify({"station": g.station.serial, "online": g.station.online,
                    "last_heartbeat_at": iso(g.station.last_heartbeat_at), "now": iso(now)})


# the station key travels as a bearer token or in X-Station-Key (a header the document lists as a parameter)
STATION = [{"bearer": []}]
KEY_HEADER = [{"name": "X-Station-Key", "in": "header", "required": False, "schema": {"type": "string"},
               "description": "The base station's key (alternative to Authorization: Bearer <key>)"}]
EVENT = {"type": "object", "required": ["sensor_serial", "kind", "occurred_at"], "properties": {
    "client_ref": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
    "sensor_serial": {"type": "string", "minLength": 1, "maxLength": 64},
    "kind": {"enum": ["arrive", "depart", "heartbeat"]},
    "occurred_at": {"type": "string", "format": "date-time"},
    "battery_mv": {"type": "integer", "minimum": 0, "maximum": 10000},
    "magnet": {"type": "boolean", "description": "true: a car is over the sensor"}}}
RESULT = {"type": "object", "required": ["index", "status"], "properties": {
    "index": {"type": "integer"}, "client_ref": {"type": "string", "nullable": True},
    "status": {"enum": ["accepted", "duplicate", "unknown_sensor", "invalid"]}, "fields": {"type": "object"}}}

register_paths({
    "/sensor-events": {"post": {
        "summary": "A base station reports up to 1,000 sensor events; one result per event, the batch never fails "
                   "for one bad item. A repeated (sensor, kind, occurred_at) is a duplicate and changes nothing.",
        "security": STATION, "parameters": KEY_HEADER,
        "requestBody": _body({"events": {"type": "array", "minItems": 1, "maxItems": 1000, "items": EVENT}},
                             ["events"]),
        "responses": {"200": _json({"type": "object", "required": ["counts", "results"], "properties": {
            "station": {"type": "string"}, "counts": {"type": "object"},
            "results": {"type": "array", "items": RESULT}}}), **_err(400, 401, 422)}}},
    "/stations/heartbeat": {"post": {
        "summary": "A base station says it is alive (and its supply voltage)", "security": STATION,
        "parameters": KEY_HEADER,
        "requestBody": _body({"voltage_mv": {"type": "integer", "minimum": 0, "maximum": 100000}}, []),
        "responses": {"200": _json({"type": "object"}), **_err(400, 401, 422)}}},
})
