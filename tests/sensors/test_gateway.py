"""Gateway codecs on the reference's sample frames and on broken ones, and the TCP server on a real socket."""
from __future__ import annotations

import json
import socket
import threading
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app.extensions import db
from app.sensors import gateway as gw
from app.sensors.models import BaseStation, OccupancySession, Sensor
from tests.sensors.helpers import sensored, street  # noqa: F401

LEAVE = bytes.fromhex("FFFFA0080021A8100B011160A7DA00000000535201D200E5FF")
TIME_REQUEST = bytes.fromhex("FFFF500F0012F500B8FF")
NOW = datetime(2016, 11, 24, 3, 0, tzinfo=timezone.utc)


def frame_of(payload: bytes) -> bytes:
    """Build an uplink frame: checksum, FE/FF escaping, delimiters."""
    body = payload + bytes([gw.xor(payload)])
    escaped = body.replace(b"\xfe", b"\xfe\x00").replace(b"\xff", b"\xfe\x01")
    return b"\xff\xff" + escaped + b"\xff"


def test_xunlang_sample_leave_event():
    frames, rest = gw.split_frames(LEAVE)
    assert rest == b"" and len(frames) == 1
    frame = gw.decode_xunlang_frame(frames[0])
    assert frame.nid == "A0080021" and frame.command == 0xA8
    readings = gw.xunlang_readings(frame, NOW)
    event = [r for r in readings if r.sensor][0]
    assert event.sensor == "A008002117" and event.kind == "depart" and event.magnet is False
    # 2016-11-24 10:31:26 device time (Asia/Shanghai) is within 48 h of NOW, so it is used
    assert event.occurred_at == datetime(2016, 11, 24, 2, 31, 26, tzinfo=timezone.utc)
    assert gw.xunlang_readings(frame, datetime(2020, 1, 1, tzinfo=timezone.utc))[1].occurred_at.year == 2020
    reply = gw.xunlang_reply(frame, NOW)
    assert reply.startswith(b"\xff\xff") and reply.endswith(b"\xff")


def test_xunlang_sample_time_request_gets_the_time():
    [raw], _ = gw.split_frames(TIME_REQUEST)
    frame = gw.decode_xunlang_frame(raw)
    assert frame.nid == "500F0012" and frame.command == 0xF5
    reply = gw.xunlang_reply(frame, NOW)
    assert gw.escape_downlink(bytes([0x07, 0xE0, 11, 24, 11, 0, 0])) in reply  # 2016-11-24 11:00:00 local


def test_xunlang_arrival_and_heartbeats_and_escapes():
    payload = bytes.fromhex("A0080021") + bytes([0xA8, 16, 11, 1]) + bytes([0x80 | 5, 0x60, 0xA7, 0xDA]) \
        + bytes(8) + bytes([2, 0x80 | 5, 0x3F])
    frames, _ = gw.split_frames(frame_of(payload))
    readings = gw.xunlang_readings(gw.decode_xunlang_frame(frames[0]), NOW)
    assert [(r.sensor, r.kind, r.magnet) for r in readings[1:]] == [
        ("A00800215", "arrive", True), ("A00800215", "heartbeat", True), ("A008002163", "heartbeat", False)]
    assert gw.unescape(b"\x01\xfe\x00\xfe\x01") == b"\x01\xfe\xff"


@pytest.mark.parametrize("raw", [
    bytes.fromhex("A0080021A8100B011160A7DA00000000535201D200E6"),  # checksum off by one
    bytes.fromhex("A008"),                                           # too short
    b"\x01\x02\x03\xfe\x05\x06\x07",                                  # bad escape
])
def test_xunlang_malformed_frames_raise(raw):
    with pytest.raises(gw.FrameError):
        gw.decode_xunlang_frame(raw)


def test_xunlang_record_cut_short_raises():
    payload = bytes.fromhex("A0080021") + bytes([0xA8, 16, 11, 2]) + bytes(12)
    frame = gw.decode_xunlang_frame(gw.split_frames(frame_of(payload))[0][0])
    with pytest.raises(gw.FrameError):
        gw.xunlang_readings(frame, NOW)


def test_downlink_escaping():
    assert gw.escape_downlink(b"\x0a\x7d\x00\x01") == b"\x7d\x58\x7d\x5d\x7d\x57\x01"
    assert gw.confirm("A0080021") == b"\xff\xff" + gw.escape_downlink(
        bytes.fromhex("A0080021") + b"\x01\xa1\x01\x00") + gw.escape_downlink(
        bytes([gw.xor(bytes.fromhex("A0080021") + b"\x01\xa1\x01\x00")])) + b"\xff"


SAMPLE_LINE = ('{"CID":"C1","PATH":"10-11-12","N":"7","SQ":"31","Err":null,"V":360,'
               '"MAG":[{"ID":"S1","X":123,"Y":-45,"Z":678,"Q":90,"N":17,"D":35,"V":310,"Err":null}]}')


def test_tianbo_sample_line():
    decoded = gw.decode_tianbo_line(SAMPLE_LINE)
    assert decoded["station"] == "C1" and decoded["voltage_mv"] == 3600
    [s] = decoded["sensors"]
    assert s == {"id": "S1", "x": 123, "y": -45, "z": 678, "d": 35, "battery_mv": 3100}
    state = gw.TianBoState()
    readings = gw.tianbo_readings(decoded, state, NOW)
    kinds = [(r.sensor, r.kind) for r in readings]
    assert kinds == [(None, "heartbeat"), ("S1", "heartbeat"), ("S1", "arrive")]  # IR 35 cm: a car
    empty = json.loads(SAMPLE_LINE)
    empty["MAG"][0].update(X=0, Y=0, Z=0, D=100)
    readings = gw.tianbo_readings(gw.decode_tianbo_line(json.dumps(empty)), state, NOW)
    assert ("S1", "depart") in [(r.sensor, r.kind) for r in readings]


def test_tianbo_rate_curve():
    assert gw.tianbo_rate(0, 0, 0, 100) < 500 <= gw.tianbo_rate(100, 100, 100, 20)
    assert gw.tianbo_rate(150, 0, 0, None) >= 500 > gw.tianbo_rate(5, 0, 0, None)


@pytest.mark.parametrize("line", [b"", b"not json", b"[1,2]", b'{"V":1}', b"\xff\xfe", b'{"CID":true}'])
def test_tianbo_malformed_lines_raise(line):
    with pytest.raises(gw.FrameError):
        gw.decode_tianbo_line(line)


def test_tianbo_err_line_has_no_sensors():
    assert gw.decode_tianbo_line('{"CID":"C1","Err":"timeout","V":0}')["sensors"] == []


@pytest.fixture
def gateway_server(app):
    servers = []

    def start(protocol):
        server = gw.GatewayServer(app, "127.0.0.1", 0, protocol, idle_timeout=5)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server.server_address[1]

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _recv(sock, size=1):
    sock.settimeout(5)
    data = b""
    while len(data) < size:
        chunk = sock.recv(1024)
        if not chunk:
            break
        data += chunk
    return data


def test_tianbo_server_forwards_to_ingest(sensored, gateway_server, db):
    station = db.session.get(BaseStation, sensored.stations["p1"])
    station.serial = "C1"
    db.session.get(Sensor, sensored.sensors["S-A001"]).serial = "S1"
    db.session.commit()
    port = gateway_server("tianbo")
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"garbage\n" + SAMPLE_LINE.encode() + b"\n")
        assert _recv(sock, 6) == b"OK\nOK\n"
    db.session.expire_all()
    [session] = db.session.scalars(select(OccupancySession)).all()
    assert session.berth_id == sensored.street.berths["A001"]
    sensor = db.session.get(Sensor, sensored.sensors["S-A001"])
    assert sensor.battery_mv == 3100 and sensor.online
    assert db.session.get(BaseStation, sensored.stations["p1"]).voltage_mv == 3600


def test_xunlang_server_forwards_and_confirms(sensored, gateway_server, db):
    from app.core.types import utcnow
    from zoneinfo import ZoneInfo

    station = db.session.get(BaseStation, sensored.stations["p1"])
    station.serial = "A0080021"
    db.session.get(Sensor, sensored.sensors["S-A002"]).serial = "A00800215"
    db.session.commit()
    local = utcnow().astimezone(ZoneInfo("Asia/Shanghai"))
    b9 = (local.day << 2) | (local.hour >> 4)
    b10 = ((local.hour & 0x0F) << 4) | (local.minute >> 2)
    b11 = ((local.minute & 0x03) << 6) | local.second
    payload = bytes.fromhex("A0080021") + bytes([0xA8, local.year - 2000, local.month, 1, 0x80 | 5, b9, b10, b11]) \
        + bytes(8) + bytes([0])
    port = gateway_server("xunlang")
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(frame_of(payload)[:7])  # a frame split across two packets
        sock.sendall(frame_of(payload)[7:] + b"\xff\xffjunk\xff")
        reply = _recv(sock, len(gw.confirm("A0080021")))
    assert reply == gw.confirm("A0080021")
    db.session.expire_all()
    [session] = db.session.scalars(select(OccupancySession)).all()
    assert session.berth_id == sensored.street.berths["A002"] and session.departed_at is None
    assert abs((session.arrived_at - local).total_seconds()) < 2
