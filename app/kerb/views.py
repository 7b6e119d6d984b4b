"""The sensors-and-orders page (车检器订单) and its exports: berths chosen through the manager's scope, compared
by app.kerb.berth_check."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.validators import NumberRange, Optional

from app.berths.models import Berth, BerthSegment
from app.core.fields import DateField
from app.core.types import utcnow
from app.core.web import permission_required
from app.exports.registry import DATETIME, INT, MONEY, TEXT, ExportSpec, register_export
from app.extensions import db
from app.kerb import berth_check
from app.orders.forms import _FilterForm, optional_int, park_choices, sane_date, segment_choices
from app.orders.views import LazyColumns, export_url
from app.tenancy.models import Level, Park, ParkKind
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope

bp = Blueprint("kerb", __name__, url_prefix="/orders")

add_nav("orders", _l("Sensors and orders"), "kerb.berth_check", "orders.view", requires="sensors")

FLAG_LABELS = {berth_check.CAR_NO_ORDER: _l("car present, no order"),
               berth_check.ORDER_NO_CAR: _l("order open, berth empty"),
               berth_check.TIMES_APART: _l("arrival and entry apart"),
               berth_check.SENSOR_OFFLINE: _l("sensor offline")}
STATE_LABELS = {"occupied": _l("occupied"), "free": _l("free"), "offline": _l("offline")}
CHECK_COLUMNS = [(_l("Park"), TEXT), (_l("Segment"), TEXT), (_l("Berth"), TEXT), (_l("Sensor"), TEXT),
                 (_l("Sensor state"), TEXT), (_l("Since"), DATETIME), (_l("Plate"), TEXT), (_l("Entered"), DATETIME),
                 (_l("Collector"), TEXT), (_l("Minutes apart"), INT), (_l("Differences"), TEXT)]
SESSION_COLUMNS = [(_l("Park"), TEXT), (_l("Berth"), TEXT), (_l("Sensor arrival"), DATETIME),
                   (_l("Sensor departure"), DATETIME), (_l("Sensor minutes"), INT), (_l("Fee by sensor time"), MONEY),
                   (_l("Plate"), TEXT), (_l("Entered"), DATETIME), (_l("Left"), DATETIME), (_l("Collector"), TEXT),
                   (_l("Fee charged"), MONEY), (_l("Difference"), MONEY)]


class BerthCheckForm(_FilterForm):
    park_id = SelectField(_l("Park"), coerce=optional_int, validators=[Optional()])
    segment_id = SelectField(_l("Segment"), coerce=optional_int, validators=[Optional()])
    minutes = IntegerField(_l("Arrival and entry may differ by (min)"), default=berth_check.DEFAULT_GAP_MINUTES,
                           validators=[Optional(), NumberRange(1, 1440)])
    flagged = BooleanField(_l("Flagged only"))
    day = DateField(_l("Sessions of the day"), validators=[Optional(), sane_date])

    def fill_choices(self, scope) -> None:
        streets = [(pid, name) for pid, name in park_choices(scope) if pid in _street_ids(scope)]
        self.park_id.choices = [("", _l("Choose a park"))] + streets
        park_id = None if self.park_id.errors else self.park_id.data
        self.segment_id.choices = [("", _l("All segments") if park_id else _l("Choose a segment"))] + \
            segment_choices(scope, park_id)

    def gap(self) -> int:
        return self.minutes.data if self.minutes.data and not self.minutes.errors else \
            berth_check.DEFAULT_GAP_MINUTES


def _street_ids(scope) -> set[int]:
    return {p.id for p in scope.nodes(Level.PARK, active_only=False) if p.kind != ParkKind.OFF_STREET.value}


def _choice(form, scope) -> tuple[Park | None, BerthSegment | None]:
    """The park or segment whose berths are compared; a park manager's own park when nothing is chosen."""
    segment = scope.get(BerthSegment, form.segment_id.data) if form.segment_id.data and \
        not form.segment_id.errors else None
    park = scope.get(Park, form.park_id.data) if form.park_id.data and not form.park_id.errors else None
    if segment is not None and park is not None and segment.park_id != park.id:
        segment = None
    if segment is None and park is None and scope.level == Level.PARK:
        parks = [p for p in scope.nodes(Level.PARK, active_only=False) if p.id in _street_ids(scope)]
        park = parks[0] if len(parks) == 1 else None
    return (segment.park if segment is not None else park), segment


def _berths(scope, park: Park | None, segment: BerthSegment | None) -> list[Berth]:
    if park is None:
        return []
    stmt = scope.select(Berth).join(BerthSegment, BerthSegment.id == Berth.segment_id) \
        .where(Berth.park_id == park.id, Berth.active.is_(True)).order_by(BerthSegment.name, Berth.number)
    if segment is not None:
        stmt = stmt.where(Berth.segment_id == segment.id)
    return list(db.session.scalars(stmt))


def _day_bounds(park: Park, day: date) -> tuple[datetime, datetime]:
    zone = ZoneInfo(park.timezone)
    start = datetime.combine(day, time.min, zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, zone)


def _chosen_day(form, park: Park) -> date:
    """The day asked for, else today in the park's zone."""
    if form.day.data and not form.day.errors:
        return form.day.data
    return utcnow().astimezone(ZoneInfo(park.timezone)).date()


def _selection(scope, params):
    form = BerthCheckForm.build(scope, params)
    park, segment = _choice(form, scope)
    return form, park, segment, _berths(scope, park, segment)


@bp.route("/berth-check", endpoint="berth_check")
@permission_required("orders.view")
def berth_check_page():
    scope = current_scope()
    form, park, segment, berths = _selection(scope, request.args)
    checks = berth_check.berth_checks(berths, form.gap(), bool(form.flagged.data))
    day, sessions = None, []
    if park is not None:
        day = _chosen_day(form, park)
        sessions = berth_check.day_sessions(berths, *_day_bounds(park, day))
    counts = {flag: sum(flag in c.flags for c in checks) for flag in berth_check.FLAGS}
    return render_template("orders/berth_check.html", form=form, park=park, segment=segment, checks=checks,
                           sessions=sessions, day=day, counts=counts, flag_labels=FLAG_LABELS,
                           state_labels=STATE_LABELS, export_url=export_url)


def _flag_text(flags) -> str:
    return "; ".join(str(FLAG_LABELS[f]) for f in flags)


def check_rows(scope, params: dict):
    form, park, _segment, berths = _selection(scope, params)
    for c in berth_check.berth_checks(berths, form.gap(), bool(form.flagged.data)):
        o = c.order
        yield [park.name, c.berth.segment.name if c.berth.segment else "", c.berth.number,
               c.sensor.serial if c.sensor else "", str(STATE_LABELS[c.sensor_state]) if c.sensor_state else "",
               c.since, o.plate if o else "", o.entered_at if o else None, c.collector or "", c.gap_minutes,
               _flag_text(c.flags)]


def session_rows(scope, params: dict):
    form, park, _segment, berths = _selection(scope, params)
    if park is None:
        return
    for r in berth_check.day_sessions(berths, *_day_bounds(park, _chosen_day(form, park))):
        s, o = r.session, r.order
        yield [park.name, r.berth.number, s.arrived_at if s else None, s.departed_at if s else None,
               r.sensor_minutes, r.sensor_fee_fen, o.plate if o else "", o.entered_at if o else None,
               o.left_at if o else None, r.collector or "", r.charged_fen, r.difference_fen]


register_export(ExportSpec("berth_check", _l("Sensors and orders"), "orders.export", LazyColumns(CHECK_COLUMNS),
                           check_rows))
register_export(ExportSpec("sensor_sessions", _l("Sensor sessions and orders of a day"), "orders.export",
                           LazyColumns(SESSION_COLUMNS), session_rows))

__all__ = ["bp", "check_rows", "session_rows"]
