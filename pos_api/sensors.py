"""Base stations: sensor event batches and station heartbeats, authenticated by the station key."""
from __future__ import annotations

from functools import wraps

from flask import g, jsonify, request

from app.core.api.models import body
from app.core.bodies import json_object
from app.core.errors import Unauthorized
from app.core.types import utcnow
from app.sensors import services
from pos_api import contract as c
from pos_api.contract import api
from pos_api.support import iso

TAGS = ["Base stations"]


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


@api.route("/sensor-events", "POST", tags=TAGS, body=c.SensorEvents, answers={200: c.EventsTaken}, security="station",
           summary="A base station reports up to 1,000 sensor events; one result per event",
           description="The batch never fails for one bad item. A repeated (sensor, kind, occurred_at) is a "
                       "duplicate and changes nothing.",
           example={"station": "BS-0001", "counts": {"accepted": 1, "duplicate": 0, "unknown_sensor": 0, "invalid": 0},
                    "results": [{"index": 0, "client_ref": None, "status": "accepted", "fields": None}]})
@station_key_required
def sensor_events():
    events = body(c.SensorEvents).events
    results = services.ingest(g.station, events, utcnow())
    counts = {status: 0 for status in ("accepted", "duplicate", "unknown_sensor", "invalid")}
    for result in results:
        counts[result["status"]] += 1
    return jsonify({"station": g.station.serial, "counts": counts, "results": results})


@api.route("/stations/heartbeat", "POST", summary="A base station says it is alive (and its supply voltage)", tags=TAGS,
           body=c.StationHeartbeat, answers={200: c.StationAlive}, security="station",
           example={"station": "BS-0001", "online": True, "last_heartbeat_at": "2026-05-01T08:00:00+08:00",
                    "now": "2026-05-01T08:00:00+08:00"})
@station_key_required
def station_heartbeat():
    voltage = body(c.StationHeartbeat).voltage_mv
    now = utcnow()
    services.station_heartbeat(g.station, now, voltage)
    zone = g.station.park.timezone
    return jsonify({"station": g.station.serial, "online": g.station.online,
                    "last_heartbeat_at": iso(g.station.last_heartbeat_at, zone), "now": iso(now, zone)})
