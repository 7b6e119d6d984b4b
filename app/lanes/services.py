"""Rules of off-street devices: where a device may be attached, heartbeats and online state.

These functions flush and audit; the caller (a view, the sync API) commits once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from app.audit import services as audit
from app.core.errors import Refused
from app.devices.models import Handheld, SimCard
from app.extensions import db
from app.lanes.models import DEVICE_MODELS, Barrier, Booth, Camera, Lane, LedScreen, Monitor
from app.parks.services import lane_allows, park_parameters
from app.sensors.models import BaseStation
from app.tenancy.models import Park, ParkKind

ONLINE_WINDOW = timedelta(minutes=5)
SECRET_FIELDS = ("username", "password")
# what the audit log keeps of each kind (never the camera credentials)
AUDIT_FIELDS = {
    Booth: ("park_id", "name", "ip", "net_type", "description", "active"),
    Lane: ("park_id", "name", "code", "direction", "booth_id", "allow_non_pass_cars", "allow_pass_second_car",
           "description", "active"),
    Camera: ("park_id", "name", "lane_id", "ip", "port", "maker", "active"),
    Barrier: ("park_id", "name", "lane_id", "model", "serial_port", "ip", "active"),
    LedScreen: ("park_id", "name", "lane_id", "ip", "port", "screen_type", "material_uid", "content", "move_mode",
                "move_speed", "dwell_seconds", "color_mode", "text_color", "typeface", "type_size", "width",
                "height", "link", "active"),
    Monitor: ("park_id", "name", "kind", "lane_id", "play_url", "shown", "show_order", "extension", "park_phone",
              "group_phone", "active"),
    SimCard: ("park_id", "iccid", "number", "carrier", "device_kind", "device_id", "expires_on", "note", "active"),
}
# devices a SIM card can sit in, and the model that holds them
SIM_DEVICES: dict[str, Any] = {"handheld": Handheld, "base_station": BaseStation, "booth": Booth,
                               "camera": Camera, "led": LedScreen, "monitor": Monitor}


class LaneError(Refused, ValueError):
    code = "lane_refused"


def is_online(last_seen_at: datetime | None, now: datetime) -> bool:
    """Heard from within the last five minutes."""
    return last_seen_at is not None and now - last_seen_at <= ONLINE_WINDOW


def online_since(now: datetime) -> datetime:
    return now - ONLINE_WINDOW


LANE_DEVICES = (Camera, Barrier, LedScreen)


@dataclass(frozen=True)
class LaneState:
    """online: every device named in the park's last heartbeat · partial: some · offline: none, or the
    heartbeat is older than the window · no_devices: a lane without cameras, barriers or screens."""

    state: str
    online: int
    total: int


def lane_states(lanes, now: datetime) -> dict[int, LaneState]:
    """The state of each lane: that of its active devices in the park's last heartbeat (Lane.heartbeat_at)."""
    lanes = list(lanes)
    counts: dict[int, list[int]] = {lane.id: [0, 0] for lane in lanes}
    for model in LANE_DEVICES:
        named = func.sum(case((model.last_seen_at >= Lane.heartbeat_at, 1), else_=0))
        rows = db.session.execute(select(model.lane_id, named, func.count()).join(Lane, Lane.id == model.lane_id)
                                  .where(model.lane_id.in_(list(counts)), model.active.is_(True))
                                  .group_by(model.lane_id))
        for lane_id, up, total in rows:
            counts[lane_id][0] += int(up or 0)
            counts[lane_id][1] += total
    return {lane.id: _lane_state(lane, counts[lane.id][0], counts[lane.id][1], now) for lane in lanes}


def _lane_state(lane: Lane, online: int, total: int, now: datetime) -> LaneState:
    if not is_online(lane.heartbeat_at, now):
        return LaneState("offline", 0, total)
    if total == 0:
        return LaneState("no_devices", 0, 0)
    return LaneState("online" if online == total else "partial" if online else "offline", online, total)


def device_online(device, now: datetime) -> bool:
    """A camera, barrier or screen is online when the park's last heartbeat, still recent, named it; a lane
    when all its devices are; a booth or monitor when it was named within the window."""
    if isinstance(device, Lane):
        return lane_states([device], now)[device.id].state == "online"
    lane = getattr(device, "lane", None)
    if isinstance(device, LANE_DEVICES) and lane is not None:
        return is_online(lane.heartbeat_at, now) and device.last_seen_at is not None and \
            device.last_seen_at >= lane.heartbeat_at
    return is_online(device.last_seen_at, now)


def record_heartbeat(park_id: int, devices: dict, at: datetime) -> dict[str, list[int]]:
    """A heartbeat of the park's on-site system: the devices it names were seen at `at`, and every lane of
    the park learns of the heartbeat (its devices not named are offline from now). Returns unknown ids."""
    unknown = {kind: mark_seen(park_id, kind, ids, at) for kind, ids in devices.items() if ids}
    db.session.execute(update(Lane).where(Lane.park_id == park_id, or_(Lane.heartbeat_at.is_(None),
                                                                       Lane.heartbeat_at < at))
                       .values(heartbeat_at=at).execution_options(synchronize_session=False))
    return {k: v for k, v in unknown.items() if v}


def mark_seen(park_id: int, kind: str, ids: list[int], at: datetime) -> list[int]:
    """A heartbeat of devices of one park: moves their last_seen_at forward to `at`.
    Returns the ids that are not devices of that kind in that park (nothing is done for them)."""
    model = DEVICE_MODELS.get(kind)
    if model is None:
        raise LaneError(_("Unknown device kind %(kind)s.", kind=kind), "kind")
    wanted = {int(i) for i in ids}
    if not wanted:
        return []
    found = set(db.session.scalars(select(model.id).where(model.park_id == park_id, model.id.in_(wanted))))
    if found:
        db.session.execute(
            update(model).where(model.id.in_(found), or_(model.last_seen_at.is_(None), model.last_seen_at < at))
            .values(last_seen_at=at).execution_options(synchronize_session=False))
    return sorted(wanted - found)


LANE_RULES = ("allow_non_pass_cars", "allow_pass_second_car")


def lane_rules(lane: Lane, params=None) -> dict[str, bool]:
    """What the lane does with cars without a pass and with a pass's second car: its own
    override, else the park's parameter (`params`: the park's ParkParameters, looked up if None)."""
    params = params if params is not None else park_parameters(lane.park_id)
    return {name: lane_allows(getattr(params, name), getattr(lane, name)) for name in LANE_RULES}


def require_off_street(park: Park) -> None:
    if park.kind != ParkKind.OFF_STREET.value:
        raise LaneError(_("%(park)s is an on-street park: lanes and their devices belong to off-street parks "
                          "only.", park=park.name), "park_id")


def _check_same_park(park: Park, ref, field: str, what: str) -> None:
    if ref is not None and ref.park_id != park.id:
        raise LaneError(_("The %(what)s must belong to the same park.", what=what), field)


def _check_unique_name(obj, park: Park, name: str) -> None:
    model = type(obj)
    clash = db.session.scalar(select(model.id).where(model.park_id == park.id, func.lower(model.name) == name.lower(),
                                                     model.id != (obj.id or 0)))
    if clash is not None:
        raise LaneError(_("This park already has one with this name."), "name")


def save_device(actor, obj, park: Park, values: dict, *, secrets: dict | None = None, ip: str | None = None):
    """Create (obj without id) or change a booth, lane, camera, barrier, LED screen or monitor of `park`.
    `secrets` are a camera's credentials; an empty one keeps what is stored."""
    require_off_street(park)
    values = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in values.items()}
    if not values.get("name"):
        raise LaneError(_("A name is required."), "name")
    _check_unique_name(obj, park, values["name"])
    if values.get("booth_id"):
        _check_same_park(park, db.session.get(Booth, values["booth_id"]), "booth_id", _("booth"))
    if "lane_id" in values:
        lane = db.session.get(Lane, values["lane_id"]) if values["lane_id"] else None
        if lane is None and not isinstance(obj, Monitor):
            raise LaneError(_("Choose a lane."), "lane_id")
        _check_same_park(park, lane, "lane_id", _("lane"))
    changed = sorted(k for k, v in (secrets or {}).items() if k in SECRET_FIELDS and v)
    values.update({k: (secrets or {})[k] for k in changed})
    return _write(actor, obj, park, values, changed, ip)


def _write(actor, obj, park: Park, values: dict, secrets_changed=(), ip=None):
    fields = AUDIT_FIELDS[type(obj)]
    creating = obj.id is None
    before = None if creating else audit.snapshot(obj, fields)
    for key, value in values.items():
        setattr(obj, key, value)
    obj.park_id = park.id
    if creating:
        db.session.add(obj)
    try:
        db.session.flush()
    except IntegrityError as exc:  # a concurrent save took the name or ICCID between check and write
        db.session.rollback()
        raise LaneError(_("This name or number was just taken; choose another."),
                        "iccid" if isinstance(obj, SimCard) else "name") from exc
    after = audit.snapshot(obj, fields)
    if secrets_changed:  # the log says a credential changed, never what it is
        after["credentials_changed"] = list(secrets_changed)
    audit.record(actor, "create" if creating else "update", obj, anchor=park, before=before, after=after,
                 label=getattr(obj, "name", None) or getattr(obj, "iccid", None), ip=ip)
    return obj


def sim_device_choices(park: Park) -> list[tuple[str, str]]:
    """'kind:id' of every device of the park a SIM card can be put in."""
    labels = {"handheld": _("Handheld"), "base_station": _("Base station"), "booth": _("Booth"),
              "camera": _("Camera"), "led": _("LED screen"), "monitor": _("Monitor")}
    choices = []
    for kind, model in SIM_DEVICES.items():
        for device in db.session.scalars(select(model).where(model.park_id == park.id).order_by(model.id)):
            choices.append((f"{kind}:{device.id}", f"{labels[kind]}: {device_name(device)}"))
    return choices


def device_name(device) -> str:
    return getattr(device, "name", None) or getattr(device, "label", None) or getattr(device, "serial", "")


def sim_device(sim: SimCard):
    model = SIM_DEVICES.get(sim.device_kind or "")
    return db.session.get(model, sim.device_id) if model and sim.device_id else None


def save_sim(actor, sim: SimCard, park: Park, values: dict, *, device_key: str | None, ip: str | None = None):
    """A SIM card of `park`, bound to one of the park's devices (`device_key` 'kind:id') or to none."""
    values = {k: (v.strip() or None) if isinstance(v, str) else v for k, v in values.items()}
    iccid = (values.get("iccid") or "").upper()
    if not iccid:
        raise LaneError(_("The ICCID is required."), "iccid")
    values["iccid"] = iccid
    clash = db.session.scalar(select(SimCard.id).where(SimCard.iccid == iccid, SimCard.id != (sim.id or 0)))
    if clash is not None:
        raise LaneError(_("A SIM card with this ICCID is registered already."), "iccid")
    values["device_kind"], values["device_id"] = _sim_binding(park, device_key)
    return _write(actor, sim, park, values, ip=ip)


def _sim_binding(park: Park, key: str | None):
    if not key:
        return None, None
    kind, _sep, raw_id = key.partition(":")
    model = SIM_DEVICES.get(kind)
    device = db.session.get(model, int(raw_id)) if model and raw_id.isdigit() else None
    if device is None or device.park_id != park.id:
        raise LaneError(_("The device must belong to the same park."), "device")
    return kind, device.id


def set_active(actor, obj, active: bool, *, ip: str | None = None) -> None:
    park = db.session.get(Park, obj.park_id)
    before = audit.snapshot(obj, ("active",))
    obj.active = active
    audit.record(actor, "enable" if active else "disable", obj, anchor=park, before=before,
                 after=audit.snapshot(obj, ("active",)), label=getattr(obj, "name", None) or obj.iccid, ip=ip)
