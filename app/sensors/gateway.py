"""TCP gateway for base stations that cannot speak HTTP: `flask sensor-gateway --protocol tianbo|xunlang`.

Two parts:
- pure codecs (no I/O, no database): TianBo JSON lines and XunLang binary frames, decoded into
  `Reading`s, plus the replies each device expects;
- a threaded TCP server that feeds decoded readings to `services.ingest()`, the same function as the
  HTTP endpoint, under the base station whose serial is the frame's concentrator id (CID / NID).

TianBo (天泊), one JSON object per line, answered with "OK":
  {"CID": "<station>", "V": 360, "Err": null, "MAG": [{"ID": "<sensor>", "X":…, "Y":…, "Z":…, "D": 35, "V": 310}]}
  V is centivolts. Occupancy is inferred from the magnetic disturbance and the infrared distance
  (rate ≥ 500 of 1000 ⇒ car present); a change of state is an arrive/depart, every reading a heartbeat.
XunLang (讯朗), binary frames FF FF <payload> <xor> FF, with FE 00 → FE and FE 01 → FF inside:
  payload = NID (4 bytes) + command + body; A8 carries events and heartbeats, F5 asks for the time,
  A0 is a boot notice, A9 carries voltages. Replies: confirm A1, time for F5."""
from __future__ import annotations

import json
import logging
import math
import socketserver
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from app.core.devicetime import window_problem

log = logging.getLogger(__name__)
DEVICE_ZONE = ZoneInfo("Asia/Shanghai")  # XunLang devices keep local time

TIANBO, XUNLANG = "tianbo", "xunlang"
PROTOCOLS = (TIANBO, XUNLANG)
MAX_LINE = 8192
MAX_FRAME = 8096


class FrameError(ValueError):
    """A frame that cannot be decoded; it is dropped (and logged), the connection stays open."""


@dataclass
class Reading:
    """One decoded item, before it becomes an event of the ingest API."""
    station: str
    sensor: str | None          # None: the station's own heartbeat
    kind: str                   # arrive | depart | heartbeat
    occurred_at: datetime
    battery_mv: int | None = None
    magnet: bool | None = None

    def as_event(self) -> dict:
        event = {"sensor_serial": self.sensor, "kind": self.kind, "occurred_at": self.occurred_at.isoformat()}
        if self.battery_mv is not None:
            event["battery_mv"] = self.battery_mv
        if self.magnet is not None:
            event["magnet"] = self.magnet
        return event


# --- TianBo ------------------------------------------------------------------------------------

MAG_CURVE = [(0, 1), (10, 1), (40, 10), (120, 83), (150, 98), (200, 99), (300, 99)]
IR_CURVE = [(0, 99), (10, 99), (30, 98), (40, 80), (65, 10), (75, 3), (100, 1), (110, 1)]


def _interp(value: float, curve) -> float:
    if value <= curve[0][0]:
        return curve[0][1]
    for (x0, y0), (x1, y1) in zip(curve, curve[1:]):
        if value <= x1:
            return y0 + (y1 - y0) * (value - x0) / (x1 - x0)
    return curve[-1][1]


def tianbo_rate(x: int, y: int, z: int, distance_cm: int | None, baseline=(0, 0, 0)) -> int:
    """Occupancy confidence 0..1000 of a compound sensor: magnetic disturbance 55 %, infrared 45 %.
    Without an infrared distance the magnetic part decides alone."""
    m = math.floor(math.sqrt((x - baseline[0]) ** 2 + (y - baseline[1]) ** 2 + (z - baseline[2]) ** 2))
    mag = _interp(m, MAG_CURVE)
    if distance_cm is None:
        return int(mag * 10)
    return int((mag * 55 + _interp(distance_cm, IR_CURVE) * 45 + 5) / 10)


@dataclass
class TianBoState:
    """What the gateway remembers per sensor between lines: its baseline field and last state."""
    baselines: dict = field(default_factory=dict)
    occupied: dict = field(default_factory=dict)


def decode_tianbo_line(line: bytes | str) -> dict:
    """Parse one line into {"station", "voltage_mv", "sensors": [{"id", "x", "y", "z", "d", "battery_mv"}]}.
    A line with `Err` set (the concentrator heard nothing for 8 s) has no sensors."""
    if isinstance(line, bytes):
        try:
            line = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FrameError("not UTF-8") from exc
    line = line.strip()
    if not line:
        raise FrameError("empty line")
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise FrameError("not JSON") from exc
    if not isinstance(data, dict) or not isinstance(data.get("CID"), (str, int)) or isinstance(data.get("CID"), bool):
        raise FrameError("no CID")
    station = str(data["CID"])
    voltage = data.get("V")
    result = {"station": station, "voltage_mv": _centivolts(voltage), "sensors": [], "error": data.get("Err")}
    if data.get("Err") not in (None, "", 0):
        return result
    mags = data.get("MAG") or []
    if not isinstance(mags, list):
        raise FrameError("MAG is not a list")
    for mag in mags:
        if not isinstance(mag, dict) or not isinstance(mag.get("ID"), (str, int)) or mag.get("Err") not in (None, ""):
            continue
        try:
            x, y, z = (int(mag.get(k, 0)) for k in ("X", "Y", "Z"))
        except (TypeError, ValueError):
            continue
        d = mag.get("D")
        result["sensors"].append({"id": str(mag["ID"]), "x": x, "y": y, "z": z,
                                  "d": int(d) if isinstance(d, (int, float)) and not isinstance(d, bool) else None,
                                  "battery_mv": _centivolts(mag.get("V"))})
    return result


def _centivolts(value) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 100000:
        return None
    return int(value * 10)


def tianbo_readings(decoded: dict, state: TianBoState, now: datetime) -> list[Reading]:
    """Heartbeats for every sensor heard, plus arrive/depart when its inferred state flips.
    The first reading of a sensor that looks empty (infrared says no car) becomes its baseline."""
    readings = [Reading(decoded["station"], None, "heartbeat", now, decoded["voltage_mv"])]
    for s in decoded["sensors"]:
        if s["id"] not in state.baselines:
            ir_empty = s["d"] is None or _interp(s["d"], IR_CURVE) < 50
            state.baselines[s["id"]] = (s["x"], s["y"], s["z"]) if ir_empty else (0, 0, 0)
        occupied = tianbo_rate(s["x"], s["y"], s["z"], s["d"], state.baselines[s["id"]]) >= 500
        readings.append(Reading(decoded["station"], s["id"], "heartbeat", now, s["battery_mv"], occupied))
        if state.occupied.get(s["id"]) != occupied:
            if s["id"] in state.occupied or occupied:
                readings.append(Reading(decoded["station"], s["id"], "arrive" if occupied else "depart", now))
            state.occupied[s["id"]] = occupied
    return readings


TIANBO_REPLY = b"OK\n"


# --- XunLang -----------------------------------------------------------------------------------

CMD_EVENTS, CMD_BOOT, CMD_TIME, CMD_CONFIRM, CMD_ATTACH = 0xA8, 0xA0, 0xF5, 0xA1, 0xA9


def split_frames(buffer: bytes) -> tuple[list[bytes], bytes]:
    """Cut a byte stream at 0xFF delimiters: complete frames (still escaped) and the unfinished rest."""
    frames = []
    start = 0
    while True:
        end = buffer.find(b"\xff", start)
        if end < 0:
            rest = buffer[start:]
            if len(rest) > MAX_FRAME:  # garbage without delimiter: drop it
                rest = b""
            return frames, rest
        if end > start:
            frames.append(buffer[start:end])
        start = end + 1


def unescape(data: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(data):
        b = data[i]
        if b == 0xFE:
            if i + 1 >= len(data) or data[i + 1] not in (0x00, 0x01):
                raise FrameError("bad escape")
            out.append(0xFE if data[i + 1] == 0x00 else 0xFF)
            i += 2
        else:
            out.append(b)
            i += 1
    return bytes(out)


def xor(data: bytes) -> int:
    value = 0
    for b in data:
        value ^= b
    return value


@dataclass
class XunLangFrame:
    nid: str
    command: int
    payload: bytes  # the whole un-escaped payload, NID and command included (offsets as in the vendor notes)


def decode_xunlang_frame(raw: bytes) -> XunLangFrame:
    """One frame between delimiters (escaped, checksum last)."""
    data = unescape(raw)
    if len(data) < 6:
        raise FrameError("frame too short")
    body, checksum = data[:-1], data[-1]
    if xor(body) != checksum:
        raise FrameError(f"checksum {checksum:02X} != {xor(body):02X}")
    return XunLangFrame(body[:4].hex().upper(), body[4], body)


def _event_time(year: int, month: int, b9: int, b10: int, b11: int, tz, now: datetime) -> datetime:
    """The device's clock when plausible (at most 48 h old, 2 min ahead), else the server's."""
    day = b9 >> 2
    hour = ((b9 << 4) & 0x30) | (b10 >> 4)
    minute = ((b10 << 2) & 0x3C) | (b11 >> 6)
    second = b11 & 0x3F
    try:
        when = datetime(year, month, day, hour, minute, second, tzinfo=tz).astimezone(timezone.utc)
    except ValueError:
        return now
    if window_problem(when, now) is None:
        return when
    return now


def xunlang_readings(frame: XunLangFrame, now: datetime, tz=DEVICE_ZONE) -> list[Reading]:
    p = frame.payload
    readings = [Reading(frame.nid, None, "heartbeat", now)]
    if frame.command == CMD_EVENTS:
        if len(p) < 8:
            raise FrameError("A8 without header")
        year, month, count = 2000 + p[5], p[6], p[7]
        offset = 8
        for _ in range(count):
            record = p[offset:offset + 12]
            if len(record) < 12:
                raise FrameError("A8 record cut short")
            offset += 12
            status = record[0]
            if status & 0x40:  # a 10-minute magnetic sample, not an event
                continue
            sensor = f"{frame.nid}{status & 0x3F}"
            arrived = bool(status & 0x80)
            readings.append(Reading(frame.nid, sensor, "arrive" if arrived else "depart",
                                    _event_time(year, month, record[1], record[2], record[3], tz, now),
                                    magnet=arrived))
        if offset < len(p):
            beats = p[offset]
            for b in p[offset + 1:offset + 1 + beats]:
                readings.append(Reading(frame.nid, f"{frame.nid}{b & 0x3F}", "heartbeat", now, magnet=bool(b & 0x80)))
    elif frame.command == CMD_ATTACH and len(p) > 6:
        # voltages: type 0x06 = sensor list {id, battery (1/10 V), capacitor}, type 0xA2 = station (centivolts)
        i, items = 6, p[5]
        for _ in range(items):
            if i >= len(p):
                break
            kind = p[i]
            if kind == 0x06 and i + 1 < len(p):
                n = p[i + 1]
                for j in range(n):
                    triple = p[i + 2 + 3 * j:i + 5 + 3 * j]
                    if len(triple) == 3:
                        readings.append(Reading(frame.nid, f"{frame.nid}{triple[0] & 0x3F}", "heartbeat", now,
                                                battery_mv=triple[1] * 100, magnet=bool(triple[0] & 0x80)))
                i += 2 + 3 * n
            elif kind == 0xA2 and i + 2 < len(p):
                readings[0].battery_mv = ((p[i + 1] << 8) | p[i + 2]) * 10
                i += 3
            else:
                break
    return readings


def escape_downlink(data: bytes) -> bytes:
    out = bytearray()
    for b in data:
        if b == 0x0A:
            out += b"\x7d\x58"
        elif b == 0x7D:
            out += b"\x7d\x5d"
        elif b == 0x00:
            out += b"\x7d\x57"
        else:
            out.append(b)
    return bytes(out)


def encode_downlink(nid: str, body: bytes) -> bytes:
    """NID + body, escaped, XOR checksum (escaped too), between FF FF and FF."""
    raw = bytes.fromhex(nid) + body
    return b"\xff\xff" + escape_downlink(raw) + escape_downlink(bytes([xor(raw)])) + b"\xff"


def confirm(nid: str, ok: bool = True) -> bytes:
    return encode_downlink(nid, bytes([0x01, CMD_CONFIRM, 0x01, 0x00 if ok else 0x01]))


def time_reply(nid: str, now_local: datetime) -> bytes:
    y = now_local.year
    return encode_downlink(nid, bytes([0x0B, 0x01, 0x09, CMD_TIME, 0x00, y >> 8, y & 0xFF, now_local.month,
                                       now_local.day, now_local.hour, now_local.minute, now_local.second]))


def xunlang_reply(frame: XunLangFrame, now: datetime, tz=DEVICE_ZONE) -> bytes | None:
    if frame.command == CMD_TIME:
        return time_reply(frame.nid, now.astimezone(tz))
    if frame.command in (CMD_EVENTS, CMD_BOOT, CMD_ATTACH):
        return confirm(frame.nid)
    return None  # a device's own confirm (A1) needs no answer


# --- forwarding and the TCP server ----------------------------------------------------------------

def forward(app, readings: list[Reading]) -> dict:
    """Hand readings to the ingest service under the station named in them; returns counts.
    Unknown stations are logged and skipped; the device still gets its answer."""
    from sqlalchemy import select

    from app.core.types import utcnow
    from app.extensions import db
    from app.sensors import services
    from app.sensors.models import BaseStation

    counts: dict = {}
    by_station: dict = {}
    for r in readings:
        by_station.setdefault(r.station, []).append(r)
    with app.app_context():
        try:
            for serial, items in by_station.items():
                station = db.session.scalar(select(BaseStation).where(BaseStation.serial == serial,
                                                                      BaseStation.active.is_(True)))
                if station is None:
                    log.warning("frame from unknown base station %s dropped", serial)
                    counts["unknown_station"] = counts.get("unknown_station", 0) + len(items)
                    continue
                now = utcnow()
                voltage = next((r.battery_mv for r in items if r.sensor is None and r.battery_mv), None)
                services.station_heartbeat(station, now, voltage)
                events = [r.as_event() for r in items if r.sensor is not None]
                for start in range(0, len(events), services.MAX_BATCH):
                    for result in services.ingest(station, events[start:start + services.MAX_BATCH], now):
                        counts[result["status"]] = counts.get(result["status"], 0) + 1
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("forwarding %d readings failed", len(readings))
            raise
        finally:
            db.session.remove()
    return counts


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        server: GatewayServer = self.server
        self.request.settimeout(server.idle_timeout)
        buffer = b""
        state = TianBoState()
        while True:
            try:
                chunk = self.request.recv(4096)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            if server.protocol == TIANBO:
                buffer = self._tianbo(buffer, state)
            else:
                buffer = self._xunlang(buffer)

    def _tianbo(self, buffer: bytes, state: TianBoState) -> bytes:
        server: GatewayServer = self.server
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if not line.strip():
                continue
            try:
                decoded = decode_tianbo_line(line)
                readings = tianbo_readings(decoded, state, server.clock())
                server.deliver(readings)
            except FrameError as exc:
                log.info("TianBo line dropped: %s", exc)
            self.request.sendall(TIANBO_REPLY)
        if len(buffer) > MAX_LINE:
            buffer = b""
        return buffer

    def _xunlang(self, buffer: bytes) -> bytes:
        server: GatewayServer = self.server
        frames, rest = split_frames(buffer)
        for raw in frames:
            try:
                frame = decode_xunlang_frame(raw)
                readings = xunlang_readings(frame, server.clock(), server.tz)
            except FrameError as exc:
                log.info("XunLang frame dropped: %s", exc)
                continue
            server.deliver(readings)
            reply = xunlang_reply(frame, server.clock(), server.tz)
            if reply:
                self.request.sendall(reply)
        return rest


class GatewayServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """One thread per station connection; each batch of readings is one database transaction."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app, host: str, port: int, protocol: str, tz_name: str = "Asia/Shanghai",
                 idle_timeout: float = 900.0):
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol is one of {PROTOCOLS}")
        self.app, self.protocol, self.tz, self.idle_timeout = app, protocol, ZoneInfo(tz_name), idle_timeout
        self._lock = threading.Lock()
        super().__init__((host, port), _Handler)

    def clock(self) -> datetime:
        return datetime.now(timezone.utc)

    def deliver(self, readings: list[Reading]) -> None:
        with self._lock:  # SQLite has one writer anyway; on PostgreSQL this keeps one sensor's events ordered
            try:
                forward(self.app, readings)
            except Exception:  # noqa: BLE001  (logged in forward; the device still gets its answer)
                pass


def serve(app, host: str, port: int, protocol: str, tz_name: str = "Asia/Shanghai") -> None:
    with GatewayServer(app, host, port, protocol, tz_name) as server:
        log.info("sensor gateway (%s) listening on %s:%d", protocol, *server.server_address)
        server.serve_forever()
