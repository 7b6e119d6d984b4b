"""CLI: `flask sensors check`, `flask sensor-gateway`, `flask simulate`."""
from __future__ import annotations

import random
import uuid
from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

sensors_cli = AppGroup("sensors", help="Sensor checks.")


@sensors_cli.command("check")
@with_appcontext
def check_command():
    """Raise overdue alerts and mark silent sensors and stations offline (run every minute or so)."""
    from app.extensions import db
    from app.sensors.services import run_checks

    counts = run_checks()
    db.session.commit()
    click.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


@click.command("sensor-gateway")
@click.option("--port", type=int, required=True, help="TCP port (TianBo devices use 780, XunLang 12300).")
@click.option("--protocol", type=click.Choice(["tianbo", "xunlang"]), required=True)
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--timezone", "tz_name", default="Asia/Shanghai", show_default=True,
              help="Zone of the devices' clocks (XunLang event times).")
@with_appcontext
def sensor_gateway_command(port, protocol, host, tz_name):
    """TCP gateway for base stations: decodes frames and forwards them to the sensor ingest."""
    import logging

    from app.sensors.gateway import serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(current_app._get_current_object(), host, port, protocol, tz_name)


# --- simulate ------------------------------------------------------------------------------------

class _Api:
    """The device API through the app's test client, or over HTTP at --base-url."""

    def __init__(self, app, base_url: str | None):
        self.base = base_url.rstrip("/") if base_url else None
        if self.base:
            import requests

            self.http = requests.Session()
        else:
            self.client = app.test_client()

    def call(self, method: str, path: str, json=None, headers=None):
        url = "/pos/v1" + path
        if self.base:
            r = self.http.request(method, self.base + url, json=json, headers=headers or {}, timeout=60)
            try:
                return r.status_code, r.json()
            except ValueError:
                return r.status_code, None
        r = self.client.open(url, method=method, json=json, headers=headers or {})
        return r.status_code, r.get_json(silent=True)


def _ref() -> str:
    return str(uuid.uuid4())


@click.command("simulate")
@click.option("--park", "park_id", type=int, required=True, help="Id of an on-street park with sensors.")
@click.option("--minutes", type=click.IntRange(1, 2400), default=60, show_default=True,
              help="Simulated minutes, ending now.")
@click.option("--base-url", default=None, help="Drive a running server (e.g. http://127.0.0.1:5000) instead "
                                               "of the in-process test client.")
@click.option("--collector", default="collector1", show_default=True)
@click.option("--inspector", default="inspector1", show_default=True)
@click.option("--password", default="parkingos-demo", show_default=True)
@click.option("--seed", type=int, default=None, help="Random seed, for a repeatable run.")
@with_appcontext
def simulate_command(park_id, minutes, base_url, collector, inspector, password, seed):
    """Drive a park's sensors, a collector and an inspector through the real device API."""
    from app.berths.models import Berth
    from app.core.types import utcnow
    from app.devices.models import Handheld
    from app.extensions import db
    from app.sensors import services
    from app.sensors.models import BaseStation, Sensor
    from app.tenancy.models import Park

    rnd = random.Random(seed)
    park = db.session.get(Park, park_id)
    if park is None:
        raise click.ClickException(f"no park {park_id}")
    sensors = db.session.execute(select(Sensor.serial, Berth.id, Berth.segment_id, Berth.number).join(
        Berth, Berth.id == Sensor.berth_id).where(Sensor.park_id == park.id, Sensor.active.is_(True))).all()
    if not sensors:
        raise click.ClickException(f"{park.name} has no sensors bound to berths (flask seed-demo adds some)")
    station = db.session.scalar(select(BaseStation).where(BaseStation.serial == f"SIM-{park.id}"))
    if station is None:
        station, key = services.create_station(None, park, f"SIM-{park.id}", "Simulator", None, None, None)
    else:
        key = services.rotate_key(None, station)
    handhelds = db.session.scalars(select(Handheld.serial).where(Handheld.park_id == park.id,
                                                                 Handheld.status == "approved")).all()
    if len(handhelds) < 1:
        raise click.ClickException(f"{park.name} has no approved handheld")
    db.session.commit()
    api = _Api(current_app._get_current_object(), base_url)
    station_headers = {"X-Station-Key": key}

    def sign_in(username, serial):
        status, body = api.call("POST", "/session", {"username": username, "password": password,
                                                     "device_serial": serial})
        if status != 201:
            click.echo(f"{username} cannot sign in ({status}): {body}", err=True)
            return None, None
        return {"Authorization": f"Bearer {body['token']}"}, body

    col_headers, col_body = sign_in(collector, handhelds[0])
    ins_headers, ins_body = sign_in(inspector, handhelds[-1] if len(handhelds) > 1 else handhelds[0])
    segment_id = sensors[0][2]
    if col_headers:
        api.call("POST", "/shifts", {"client_ref": _ref(), "segment_id": segment_id}, col_headers)
    segment = next((s for s in (col_body or ins_body or {}).get("segments", []) if s["id"] == segment_id), None)
    base_lat = (segment or {}).get("latitude") or park.latitude or 31.23
    base_lng = (segment or {}).get("longitude") or park.longitude or 121.47

    end = utcnow() - timedelta(seconds=5)
    start = end - timedelta(minutes=minutes)
    parked: dict = {}          # serial -> (arrived_at, leaves_at)
    pending_in: list = []      # (register_at, serial, berth_id, arrived_at)
    orders: dict = {}          # berth_id -> order id
    plate_no = rnd.randrange(10000, 90000)
    stats = {"events": 0, "orders": 0, "settled": 0, "points": 0, "tasks_resolved": 0, "errors": 0}
    by_serial = {s[0]: s for s in sensors}
    t = start
    walk = 0.0
    while t < end:
        step_end = min(t + timedelta(minutes=1), end)
        events = []
        for serial, (_arrived, leaves) in list(parked.items()):
            if leaves <= step_end:
                events.append({"client_ref": _ref(), "sensor_serial": serial, "kind": "depart",
                               "occurred_at": leaves.isoformat()})
                del parked[serial]
                berth_id = by_serial[serial][1]
                if col_headers and berth_id in orders:
                    order_id = orders.pop(berth_id)
                    left = (leaves + timedelta(seconds=rnd.randint(5, 90)))
                    left = min(left, end)
                    status, body = api.call("GET", f"/orders/{order_id}/quote?left_at="
                                            + left.isoformat().replace("+", "%2B"), None, col_headers)
                    if status == 200:
                        status, answer = api.call("POST", f"/orders/{order_id}/settle", {
                            "client_ref": _ref(), "left_at": left.isoformat(), "method": "cash",
                            "amount_fen": body["quote"]["due_fen"]}, col_headers)
                        stats["settled" if status == 200 else "errors"] += 1
                        if status != 200:
                            click.echo(f"settle {status}: {answer}", err=True)
        for serial, berth_id, seg, _number in sensors:
            if serial not in parked and rnd.random() < 0.03:
                arrived = t + timedelta(seconds=rnd.randint(0, 59))
                if arrived >= end:
                    continue
                parked[serial] = (arrived, arrived + timedelta(minutes=rnd.randint(8, 180)))
                events.append({"client_ref": _ref(), "sensor_serial": serial, "kind": "arrive",
                               "occurred_at": arrived.isoformat(), "battery_mv": rnd.randint(3350, 3650)})
                if seg == segment_id and rnd.random() < 0.9:  # one car in ten is never registered
                    pending_in.append((arrived + timedelta(minutes=rnd.randint(1, 4)), serial, berth_id, arrived))
        if t.minute % 10 == 0:
            events += [{"client_ref": _ref(), "sensor_serial": s[0], "kind": "heartbeat",
                        "occurred_at": t.isoformat(), "battery_mv": rnd.randint(3300, 3650)} for s in sensors]
        for start_i in range(0, len(events), 1000):
            status, body = api.call("POST", "/sensor-events", {"events": events[start_i:start_i + 1000]},
                                    station_headers)
            if status == 200:
                stats["events"] += body["counts"]["accepted"]
            else:
                stats["errors"] += 1
                click.echo(f"sensor events {status}: {body}", err=True)
        for item in [p for p in pending_in if p[0] <= step_end]:
            pending_in.remove(item)
            _when, serial, berth_id, arrived = item
            if col_headers and serial in parked and berth_id not in orders:
                plate_no += 1
                status, body = api.call("POST", "/orders", {
                    "client_ref": _ref(), "berth_id": berth_id, "plate": f"沪D{plate_no:05d}",
                    "entered_at": arrived.isoformat()}, col_headers)
                if status == 201:
                    orders[berth_id] = body["order"]["id"]
                    stats["orders"] += 1
                elif status == 409:
                    stats["refused"] = stats.get("refused", 0) + 1  # e.g. the berth has an older open order
                else:
                    stats["errors"] += 1
                    click.echo(f"car-in {status}: {body}", err=True)
        points = []
        for second in range(0, 60, 10):
            at = t + timedelta(seconds=second)
            if at >= end:
                break
            walk += 10
            offset = (walk % 600) / 600  # walk up and down the segment, 300 m each way
            along = offset * 2 if offset < 0.5 else (1 - offset) * 2
            points.append({"lat": base_lat + along * 0.0027 + rnd.uniform(-0.00003, 0.00003),
                           "lng": base_lng + rnd.uniform(-0.00005, 0.00005), "recorded_at": at.isoformat(),
                           "accuracy_m": 8})
        for who in (ins_headers, col_headers):
            if who and points:
                status, body = api.call("POST", "/tracks", {"client_ref": _ref(), "points": points}, who)
                stats["points"] += body.get("added", 0) if status == 200 and body else 0
        if ins_headers and t.minute % 15 == 0:
            status, body = api.call("GET", "/inspector/tasks?state=open", None, ins_headers)
            for task in (body or {}).get("tasks", [])[:3] if status == 200 else []:
                status, _ = api.call("POST", f"/inspector/tasks/{task['id']}/resolve",
                                     {"client_ref": _ref(), "note": "Checked on patrol", "outcome": "done"},
                                     ins_headers)
                stats["tasks_resolved"] += status == 200
        t = step_end
    counts = services.run_checks()
    db.session.commit()
    click.echo(f"simulated {minutes} min of {park.name}: "
               + " ".join(f"{k}={v}" for k, v in {**stats, **counts}.items()))
