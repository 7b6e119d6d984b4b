"""Pages of off-street devices (车场设备配置) and SIM cards: one list, form and disable action per
kind, registered from the KINDS table. Above park level the lists show every park of the scope."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_

from app.core.types import utcnow
from app.core.web import client_ip, paginate, permission_required, show_refusal
from app.devices.models import SimCard
from app.extensions import db
from app.lanes import forms, services
from app.lanes.models import Barrier, Booth, Camera, Lane, LedScreen, Monitor
from app.parks.services import park_parameters
from app.staff.permissions import ADD, DELETE, EDIT, VIEW, PermissionArea, register_area
from app.tenancy.models import Level, Park, ParkKind
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope

bp = Blueprint("lanes", __name__, url_prefix="/lot")

register_area(PermissionArea("lot_devices", _l("Off-street lanes and devices"), (VIEW, ADD, EDIT, DELETE)))
register_area(PermissionArea("sim_cards", _l("SIM cards"), (VIEW, ADD, EDIT, DELETE)))

DIRECTION_LABELS = {"entry": _l("Entry"), "exit": _l("Exit"), "both": _l("Entry and exit")}
NET_LABELS = {"broadband": _l("Broadband"), "cellular": _l("Cellular")}
SCREEN_LABELS = {"normal": _l("Messages"), "free_spaces": _l("Free spaces")}
RULE_LABELS = {True: _l("allowed"), False: _l("refused")}


@dataclass(frozen=True)
class Kind:
    key: str            # also the SIM binding kind and mark_seen's kind
    model: type
    form: type
    path: str           # URL segment of the list
    id_param: str
    title: object
    new_label: object
    columns: tuple      # (label, function of the row -> text)
    area: str = "lot_devices"
    park_from: str = "park"  # "park": chosen in the form; "lane": the chosen lane's
    heartbeat: bool = True


def _rule_label(lane, name: str) -> str:
    """The lane's effective rule; "(park default)" when it follows the park's parameter."""
    cache = g.setdefault("lane_park_params", {})
    if lane.park_id not in cache:
        cache[lane.park_id] = park_parameters(lane.park_id)
    label = str(RULE_LABELS[services.lane_rules(lane, cache[lane.park_id])[name]])
    return label if getattr(lane, name) is not None else _("%(rule)s (park default)", rule=label)


def _expiry_label(sim) -> str:
    if sim.expires_on is None:
        return "—"
    expired = sim.expires_on < datetime.now(ZoneInfo(sim.park.timezone)).date()
    return f"{sim.expires_on.isoformat()} ({_('expired')})" if expired else sim.expires_on.isoformat()


def _lane_label(lane):
    return lane.name if lane else "—"


KINDS = [
    Kind("booth", Booth, forms.BoothForm, "booths", "booth_id", _l("Booths"), _l("Add a booth"),
         ((_l("IP address"), lambda o: o.ip or "—"), (_l("Network"), lambda o: NET_LABELS[o.net_type]),
          (_l("Description"), lambda o: o.description or "—"))),
    Kind("lane", Lane, forms.LaneForm, "lanes", "lane_id", _l("Lanes"), _l("Add a lane"),
         ((_l("Direction"), lambda o: DIRECTION_LABELS[o.direction]), (_l("Booth"), lambda o: _lane_label(o.booth)),
          (_l("Cars without a pass"), lambda o: _rule_label(o, "allow_non_pass_cars")),
          (_l("Second car of a pass"), lambda o: _rule_label(o, "allow_pass_second_car")),
          (_l("Devices online"), lambda o: f"{g.lane_states[o.id].online}/{g.lane_states[o.id].total}"))),
    Kind("camera", Camera, forms.CameraForm, "cameras", "camera_id", _l("Cameras"), _l("Add a camera"),
         ((_l("Lane"), lambda o: o.lane.name), (_l("Address"), lambda o: f"{o.ip}:{o.port}"),
          (_l("Maker"), lambda o: o.maker or "—")),
         park_from="lane"),
    Kind("barrier", Barrier, forms.BarrierForm, "barriers", "barrier_id", _l("Barriers"), _l("Add a barrier"),
         ((_l("Lane"), lambda o: o.lane.name), (_l("Model"), lambda o: o.model or "—"),
          (_l("Serial port"), lambda o: o.serial_port or "—"), (_l("IP address"), lambda o: o.ip or "—")),
         park_from="lane"),
    Kind("led", LedScreen, forms.LedForm, "screens", "screen_id", _l("LED screens"), _l("Add an LED screen"),
         ((_l("Lane"), lambda o: o.lane.name), (_l("Type"), lambda o: SCREEN_LABELS[o.screen_type]),
          (_l("Address"), lambda o: f"{o.ip}:{o.port}" if o.ip else o.link),
          (_l("Size"), lambda o: f"{o.width}×{o.height}"), (_l("Text shown"), lambda o: o.content or "—")),
         park_from="lane"),
    Kind("monitor", Monitor, forms.MonitorForm, "monitors", "monitor_id", _l("Monitors and intercoms"),
         _l("Add a monitor or intercom"),
         ((_l("Kind"), lambda o: _("Video monitor") if o.kind == "video" else _("Intercom")),
          (_l("Lane"), lambda o: _lane_label(o.lane)),
          (_l("Stream or extension"), lambda o: (o.play_url if o.kind == "video" else o.extension) or "—"))),
    Kind("sim", SimCard, forms.SimForm, "sims", "sim_id", _l("SIM cards"), _l("Add a SIM card"),
         ((_l("Number"), lambda o: o.number or "—"),
          (_l("Carrier"), lambda o: o.carrier or "—"),
          (_l("Device"), lambda o: services.device_name(d) if (d := services.sim_device(o)) else _("not bound")),
          (_l("Plan expires on"), _expiry_label)),
         area="sim_cards", heartbeat=False),
]
add_nav("off_street", _l("Lanes and devices"), "lanes.list_lanes", "lot_devices.view", requires="off_street")
add_nav("devices", _l("SIM cards"), "lanes.list_sims", "sim_cards.view")


def _actor():
    return current_user._get_current_object()


def _parks(scope, kind: Kind) -> list[Park]:
    parks = scope.nodes(Level.PARK, active_only=False)
    if kind.area == "sim_cards":
        return parks
    return [p for p in parks if p.kind == ParkKind.OFF_STREET.value]


def _named_in_scope(scope, model, park_id=None):
    """(id, "park / name") choices of booths or lanes of the scope, or of one park."""
    stmt = scope.select(model).join(Park, Park.id == model.park_id).order_by(Park.name, model.name)
    if park_id is not None:
        stmt = stmt.where(model.park_id == park_id)
    rows = db.session.scalars(stmt)
    return [(r.id, f"{r.park.name} / {r.name}") for r in rows]


def _fill_choices(scope, kind: Kind, form, obj) -> None:
    park_id = obj.park_id if obj is not None else None
    if getattr(form, "park_id", None) is not None:
        form.park_id.choices = [(p.id, p.name) for p in _parks(scope, kind)]
    if kind.key == "lane":
        form.booth_id.choices = [("", _("No booth"))] + _named_in_scope(scope, Booth, park_id)
    elif kind.key == "monitor":
        form.lane_id.choices = [("", _("No lane"))] + _named_in_scope(scope, Lane, park_id)
    elif kind.key == "sim":
        parks = [db.session.get(Park, park_id)] if park_id else _parks(scope, kind)
        form.device.choices = [("", _("Not bound"))] + [
            (key, f"{p.name} / {label}") for p in parks for key, label in services.sim_device_choices(p)]
    elif hasattr(form, "lane_id"):
        form.lane_id.choices = _named_in_scope(scope, Lane, park_id)


def _values(form) -> dict:
    skip = {"csrf_token", "submit", "park_id", "device", "username", "password"}
    return {name: field.data for name, field in form._fields.items() if name not in skip}


def _list(kind: Kind):
    scope = current_scope()
    model = kind.model
    parks = _parks(scope, kind)
    form = forms.DeviceFilterForm(request.args)
    form.park_id.choices = [("", _("Any park"))] + [(p.id, p.name) for p in parks]
    if kind.key == "sim":
        form.q.label.text = _("ICCID or number")
    if not kind.heartbeat:
        form.status.choices = [c for c in form.status.choices if c[0] in ("", "disabled")]
    stmt = scope.select(model).join(Park, Park.id == model.park_id)
    if form.validate():
        stmt = _filtered(kind, stmt, form)
    order = (Park.name, model.iccid) if kind.key == "sim" else (Park.name, model.name)
    page, now = paginate(stmt.order_by(*order)), utcnow()
    if kind.key == "lane":
        g.lane_states = services.lane_states(page.items, now)
    return render_template("lanes/list.html", kind=kind, kinds=KINDS, page=page, form=form, now=now,
                           many_parks=scope.level != Level.PARK, has_parks=bool(parks), state_of=_state_of(kind, now))


def _state_of(kind: Kind, now):
    """online | partial | offline | no_devices of a listed row, from the park's last heartbeat."""
    if kind.key == "lane":
        return lambda lane: g.lane_states[lane.id].state
    return lambda device: "online" if services.device_online(device, now) else "offline"


def _filtered(kind: Kind, stmt, form):
    model = kind.model
    if form.park_id.data:
        stmt = stmt.where(model.park_id == form.park_id.data)
    if form.q.data:
        like = f"%{form.q.data.strip()}%"
        stmt = stmt.where(or_(model.iccid.ilike(like), model.number.ilike(like)) if kind.key == "sim"
                          else model.name.ilike(like))
    since = services.online_since(utcnow())
    if form.status.data == "disabled":
        stmt = stmt.where(model.active.is_(False))
    elif form.status.data == "online":
        stmt = stmt.where(model.active.is_(True), model.last_seen_at >= since)
    elif form.status.data == "offline":
        stmt = stmt.where(model.active.is_(True), or_(model.last_seen_at.is_(None), model.last_seen_at < since))
    return stmt


def _form_page(kind: Kind, obj=None):
    scope = current_scope()
    form = kind.form(obj=obj)
    if obj is not None and getattr(form, "park_id", None) is not None:
        del form.park_id  # a device stays in its park
    if obj is not None and kind.key == "sim" and request.method == "GET":
        form.device.data = f"{obj.device_kind}:{obj.device_id}" if obj.device_kind else ""
    _fill_choices(scope, kind, form, obj)
    no_park = obj is None and not _parks(scope, kind)
    if not no_park and form.validate_on_submit():
        saved = _save(scope, kind, form, obj)
        if saved is not None:
            db.session.commit()
            flash(_("%(name)s saved.", name=getattr(saved, "name", None) or saved.iccid), "success")
            return redirect(url_for(f"lanes.list_{kind.path}"))
    return render_template("lanes/form.html", kind=kind, form=form, obj=obj, no_park=no_park), \
        400 if form.errors else 200


def _save(scope, kind: Kind, form, obj):
    """The service call of a valid form; None (with the refusal shown) when the service refuses."""
    if obj is not None:
        park = db.session.get(Park, obj.park_id)
    elif kind.park_from == "lane":
        park = scope.get_or_404(Lane, form.lane_id.data).park
    else:
        park = scope.get_or_404(Park, form.park_id.data)
    try:
        if kind.key == "sim":
            return services.save_sim(_actor(), obj or SimCard(), park, _values(form), device_key=form.device.data,
                                     ip=client_ip())
        secrets = {f: (form[f].raw_data or [""])[0] for f in services.SECRET_FIELDS} if kind.key == "camera" else None
        return services.save_device(_actor(), obj or kind.model(), park, _values(form), secrets=secrets,
                                    ip=client_ip())
    except services.LaneError as exc:
        show_refusal(form, exc)
        return None


def _toggle(kind: Kind, obj):
    if FlaskForm().validate_on_submit():
        services.set_active(_actor(), obj, not obj.active, ip=client_ip())
        db.session.commit()
        flash(_("Enabled.") if obj.active else _("Disabled."), "success")
    return redirect(url_for(f"lanes.list_{kind.path}"))


def _register(kind: Kind) -> None:
    area, param = kind.area, kind.id_param

    def list_view():
        return _list(kind)

    def new_view():
        return _form_page(kind)

    def edit_view(**ids):
        return _form_page(kind, current_scope().get_or_404(kind.model, ids[param]))

    def toggle_view(**ids):
        return _toggle(kind, current_scope().get_or_404(kind.model, ids[param]))

    base = f"/{kind.path}"
    bp.add_url_rule(base, f"list_{kind.path}", permission_required(f"{area}.view")(list_view))
    bp.add_url_rule(f"{base}/new", f"new_{kind.path}", permission_required(f"{area}.add")(new_view),
                    methods=["GET", "POST"])
    bp.add_url_rule(f"{base}/<int:{param}>/edit", f"edit_{kind.path}", permission_required(f"{area}.edit")(edit_view),
                    methods=["GET", "POST"])
    bp.add_url_rule(f"{base}/<int:{param}>/toggle", f"toggle_{kind.path}",
                    permission_required(f"{area}.delete")(toggle_view), methods=["POST"])


for _kind in KINDS:
    _register(_kind)
