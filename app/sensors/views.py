"""Pages of sensors (车检器), base stations (基站), sensor health and sensor settings."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select

from app.audit.services import record, snapshot
from app.berths.models import Berth
from app.core.types import utcnow
from app.core.web import client_ip, paginate, permission_required, show_refusal
from app.extensions import db
from app.sensors import services
from app.sensors.forms import BindForm, ImportForm, SensorFilterForm, SensorSettingsForm, StationForm
from app.sensors.models import BaseStation, OccupancySession, Outage, Sensor, SensorSettings
from app.staff.permissions import ADD, DELETE, EDIT, VIEW, PermissionArea, register_area
from app.tenancy.models import Level, Park
from app.tenancy.navigation import add_nav, add_nav_condition
from app.tenancy.scope import current_scope

bp = Blueprint("sensors", __name__, url_prefix="/sensors")

register_area(PermissionArea("sensors", _l("Sensors and base stations"), (VIEW, ADD, EDIT, DELETE)))
# sensor pages only for a scope with sensors or base stations in it
add_nav_condition("sensors", lambda scope: or_(scope.select(Sensor, Sensor.id).exists(),
                                                     scope.select(BaseStation, BaseStation.id).exists()))
add_nav("sensors", _l("Sensor list"), "sensors.list_sensors", "sensors.view", requires="sensors")
add_nav("sensors", _l("Base stations"), "sensors.list_stations", "sensors.view", requires="sensors")
add_nav("sensors", _l("Sensor health"), "sensors.health", "sensors.view", requires="sensors")

SETTING_FIELDS = ("blip_seconds", "no_order_minutes", "offline_minutes", "low_battery_mv", "auto_escape_unattended")


def _actor():
    return current_user._get_current_object()


def _parks(scope):
    return scope.nodes(Level.PARK)


# --- sensors -----------------------------------------------------------------------------------

@bp.route("/")
@permission_required("sensors.view")
def list_sensors():
    scope = current_scope()
    form = SensorFilterForm(request.args)
    form.park_id.choices = [("", _("Any park"))] + [(p.id, p.name) for p in _parks(scope)]
    stmt = scope.select(Sensor).outerjoin(Berth, Berth.id == Sensor.berth_id).order_by(Sensor.park_id, Sensor.serial)
    if form.validate():
        if form.park_id.data:
            stmt = stmt.where(Sensor.park_id == form.park_id.data)
        status = form.status.data
        if status == "online":
            stmt = stmt.where(Sensor.online.is_(True))
        elif status == "offline":
            stmt = stmt.where(Sensor.online.is_(False))
        elif status == "low_battery":
            stmt = stmt.where(Sensor.low_battery.is_(True))
        elif status == "unbound":
            stmt = stmt.where(Sensor.berth_id.is_(None))
        elif status == "occupied":
            stmt = stmt.where(Sensor.magnet.is_(True))
        if form.q.data:
            q = f"%{form.q.data.strip()}%"
            stmt = stmt.where(or_(Sensor.serial.ilike(q), Berth.number.ilike(q)))
    page = paginate(stmt)
    open_sessions = {s.sensor_id: s for s in db.session.scalars(select(OccupancySession).where(
        OccupancySession.sensor_id.in_([s.id for s in page.items]), OccupancySession.departed_at.is_(None)))}
    return render_template("sensors/sensors.html", page=page, form=form, sessions=open_sessions)


@bp.route("/<int:sensor_id>/bind", methods=["GET", "POST"])
@permission_required("sensors.edit")
def bind_sensor(sensor_id):
    scope = current_scope()
    sensor = scope.get_or_404(Sensor, sensor_id)
    form = BindForm(obj=sensor)
    taken = dict(db.session.execute(select(Sensor.berth_id, Sensor.serial).where(
        Sensor.park_id == sensor.park_id, Sensor.berth_id.is_not(None), Sensor.id != sensor.id)).all())
    berths = db.session.scalars(scope.select(Berth).where(Berth.park_id == sensor.park_id, Berth.active.is_(True))
                                .order_by(Berth.number)).all()
    form.berth_id.choices = [("", _("— not bound —"))] + [
        (b.id, b.number + (f" ({_('now %(serial)s', serial=taken[b.id])})" if b.id in taken else ""))
        for b in berths]
    if form.validate_on_submit():
        berth = scope.get(Berth, form.berth_id.data) if form.berth_id.data else None
        try:
            services.bind(_actor(), sensor, berth, ip=client_ip())
        except services.SensorError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Sensor %(serial)s saved.", serial=sensor.serial), "success")
            return redirect(url_for("sensors.list_sensors", park_id=sensor.park_id))
    return render_template("sensors/bind.html", form=form, sensor=sensor), 400 if form.errors else 200


@bp.route("/<int:sensor_id>/active", methods=["POST"])
@permission_required("sensors.delete")
def toggle_sensor(sensor_id):
    sensor = current_scope().get_or_404(Sensor, sensor_id)
    if FlaskForm().validate_on_submit():
        before = snapshot(sensor, ("active", "berth_id"))
        if sensor.active:
            services.bind(_actor(), sensor, None, ip=client_ip())
        sensor.active = not sensor.active
        record(_actor(), "enable" if sensor.active else "disable", sensor, anchor=sensor.park, label=sensor.serial,
               before=before, after=snapshot(sensor, ("active", "berth_id")), ip=client_ip())
        db.session.commit()
        flash(_("Sensor %(serial)s is now %(state)s.", serial=sensor.serial,
                state=_("active") if sensor.active else _("disabled")), "success")
    return redirect(url_for("sensors.list_sensors"))


@bp.route("/import", methods=["GET", "POST"])
@permission_required("sensors.add")
def import_sensors():
    scope = current_scope()
    form = ImportForm()
    parks = _parks(scope)
    form.park_id.choices = [(p.id, p.name) for p in parks]
    stations = db.session.scalars(scope.select(BaseStation).where(BaseStation.active.is_(True))
                                  .order_by(BaseStation.serial)).all()
    form.station_id.choices = [("", _("— none —"))] + [(s.id, f"{s.serial} ({s.park.name})") for s in stations]
    if form.validate_on_submit():
        park = scope.get(Park, form.park_id.data)
        station = scope.get(BaseStation, form.station_id.data) if form.station_id.data else None
        if station is not None and station.park_id != park.id:
            form.station_id.errors = [_("This base station belongs to another park.")]
        else:
            try:
                result = services.import_sensors(_actor(), park, form.lines.data, station, ip=client_ip())
            except services.SensorError as exc:
                show_refusal(form, exc)
            else:
                db.session.commit()
                flash(_("%(lines)d lines: %(created)d sensors created, %(bound)d bound.", **result), "success")
                return redirect(url_for("sensors.list_sensors", park_id=park.id))
    return render_template("sensors/import.html", form=form), 400 if form.errors else 200


# --- base stations -----------------------------------------------------------------------------

@bp.route("/stations")
@permission_required("sensors.view")
def list_stations():
    scope = current_scope()
    stmt = scope.select(BaseStation).order_by(BaseStation.park_id, BaseStation.serial)
    if request.args.get("status") == "offline":  # the overview's alert links here
        stmt = stmt.where(BaseStation.online.is_(False))
    page = paginate(stmt)
    counts = dict(db.session.execute(select(Sensor.station_id, db.func.count()).where(
        Sensor.station_id.in_([s.id for s in page.items])).group_by(Sensor.station_id)).all())
    return render_template("sensors/stations.html", page=page, counts=counts)


@bp.route("/stations/new", methods=["GET", "POST"])
@permission_required("sensors.add")
def new_station():
    scope = current_scope()
    form = StationForm()
    form.park_id.choices = [(p.id, p.name) for p in _parks(scope)]
    if form.validate_on_submit():
        park = scope.get(Park, form.park_id.data)
        try:
            station, key = services.create_station(_actor(), park, form.serial.data, form.name.data,
                                                   form.location.data, form.latitude.data, form.longitude.data,
                                                   ip=client_ip())
        except services.SensorError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            return render_template("sensors/station_key.html", station=station, key=key, created=True)
    return render_template("sensors/station_form.html", form=form), 400 if form.errors else 200


@bp.route("/stations/<int:station_id>/rotate", methods=["POST"])
@permission_required("sensors.edit")
def rotate_station_key(station_id):
    station = current_scope().get_or_404(BaseStation, station_id)
    if not FlaskForm().validate_on_submit():
        return redirect(url_for("sensors.list_stations"))
    key = services.rotate_key(_actor(), station, ip=client_ip())
    db.session.commit()
    return render_template("sensors/station_key.html", station=station, key=key, created=False)


@bp.route("/stations/<int:station_id>/active", methods=["POST"])
@permission_required("sensors.delete")
def toggle_station(station_id):
    station = current_scope().get_or_404(BaseStation, station_id)
    if FlaskForm().validate_on_submit():
        station.active = not station.active
        record(_actor(), "enable" if station.active else "disable", station, anchor=station.park,
               label=station.serial, after={"active": station.active}, ip=client_ip())
        db.session.commit()
        flash(_("Base station %(serial)s is now %(state)s.", serial=station.serial,
                state=_("active") if station.active else _("disabled")), "success")
    return redirect(url_for("sensors.list_stations"))


# --- health and settings -------------------------------------------------------------------------

@bp.route("/health")
@permission_required("sensors.view")
def health():
    scope = current_scope()
    parks = [p for p in _parks(scope)]
    park_id = request.args.get("park_id", type=int)
    if park_id is not None and all(p.id != park_id for p in parks):
        park_id = None
    shown = [p for p in parks if park_id in (None, p.id)]
    days_back = 14
    today = utcnow().astimezone(ZoneInfo(shown[0].timezone if shown else "Asia/Shanghai")).date()
    days = [today - timedelta(days=n) for n in range(days_back - 1, -1, -1)]
    tz_of = {p.id: p.timezone for p in shown}
    rates = services.online_rates([p.id for p in shown if _has_sensors(p.id)], days, tz_of.get)
    by_park: dict = {}
    for row in rates:
        by_park.setdefault(row["park_id"], []).append(row)
    outages_stmt = scope.select(Outage).where(Outage.started_at >= utcnow() - timedelta(days=days_back)) \
        .order_by(Outage.ended_at.is_not(None), Outage.started_at.desc())
    if park_id:
        outages_stmt = outages_stmt.where(Outage.park_id == park_id)
    page = paginate(outages_stmt)
    summary = {p.id: _summary(p.id) for p in shown}
    return render_template("sensors/health.html", parks=parks, shown=shown, park_id=park_id, by_park=by_park,
                           days=days, page=page, summary=summary, now=utcnow())


def _has_sensors(park_id: int) -> bool:
    return db.session.scalar(select(Sensor.id).where(Sensor.park_id == park_id).limit(1)) is not None


def _summary(park_id: int) -> dict:
    rows = db.session.execute(select(Sensor.online, Sensor.low_battery, db.func.count()).where(
        Sensor.park_id == park_id, Sensor.active.is_(True)).group_by(Sensor.online, Sensor.low_battery)).all()
    return {"total": sum(r[2] for r in rows), "online": sum(r[2] for r in rows if r[0]),
            "low_battery": sum(r[2] for r in rows if r[1])}


@bp.route("/settings/<int:park_id>", methods=["GET", "POST"])
@permission_required("sensors.edit")
def park_settings(park_id):
    park = current_scope().get_or_404(Park, park_id)
    row = db.session.scalar(select(SensorSettings).where(SensorSettings.park_id == park.id))
    current = row or services.settings_for(park.id)
    form = SensorSettingsForm(obj=current)
    if form.validate_on_submit():
        before = snapshot(current, SETTING_FIELDS) if row else None
        if row is None:
            row = SensorSettings(park_id=park.id)
            db.session.add(row)
        form.populate_obj(row)
        record(_actor(), "update" if before else "create", row, anchor=park, label=park.name, before=before,
               after=snapshot(row, SETTING_FIELDS), ip=client_ip())
        db.session.commit()
        flash(_("Sensor settings of %(park)s saved.", park=park.name), "success")
        return redirect(url_for("sensors.health", park_id=park.id))
    return render_template("sensors/settings.html", form=form, park=park), 400 if form.errors else 200
