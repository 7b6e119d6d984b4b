"""Pages of GPS tracks: the live position of field staff, and one person's day replayed."""
from __future__ import annotations

from datetime import date
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.core.labels import label
from app.core.types import utcnow
from app.core.web import permission_required
from app.extensions import db
from app.staff.models import Role, RoleKind, Staff
from app.staff.permissions import VIEW, PermissionArea, register_area
from app.tenancy.models import Park
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope
from app.tracks import services
from app.tracks.models import LastPosition

bp = Blueprint("tracks", __name__, url_prefix="/tracks")

register_area(PermissionArea("tracks", _l("GPS tracks"), (VIEW,)))
add_nav("street", _l("Live positions"), "tracks.live", "tracks.view", requires="on_street")

FIELD_KINDS = (RoleKind.COLLECTOR.value, RoleKind.INSPECTOR.value)


def _tile_url() -> str | None:
    """An optional base map (`TRACKS_TILE_URL`, e.g. https://tiles.example/{z}/{x}/{y}.png); off by default."""
    url = current_app.config.get("TRACKS_TILE_URL")
    return url if url and urlparse(url).scheme in ("http", "https") else None


def _render(template: str, **context):
    tile_url = _tile_url()
    response = make_response(render_template(template, tile_url=tile_url, **context))
    if tile_url:  # the base map's host must be allowed to serve images to this page
        origin = "{0.scheme}://{0.netloc}".format(urlparse(tile_url))
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; img-src 'self' data: {origin}; style-src 'self' 'unsafe-inline'; "
            "script-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
    return response


@bp.route("/live")
@permission_required("tracks.view")
def live():
    scope = current_scope()
    now = utcnow()
    rows = db.session.execute(scope.select(LastPosition, LastPosition, Staff, Role).join(
        Staff, Staff.id == LastPosition.staff_id).join(Role, Role.id == Staff.role_id).where(
        Role.kind.in_(FIELD_KINDS), Staff.active.is_(True)).order_by(LastPosition.recorded_at.desc()).limit(2000)).all()
    people = [{"id": staff.id, "name": staff.display_name, "kind": role.kind, "role": label(role.kind, "role_kind"),
               "lat": pos.lat, "lng": pos.lng,
               "recorded_at": pos.recorded_at.isoformat(),
               "age_minutes": int((now - pos.recorded_at).total_seconds() // 60)} for pos, staff, role in rows]
    return _render("tracks/live.html", people=people, rows=rows, now=now)


@bp.route("/people/<int:staff_id>")
@permission_required("tracks.view")
def person_day(staff_id):
    staff = current_scope().get_or_404(Staff, staff_id)
    if staff.role.kind not in FIELD_KINDS:
        abort(404)
    park = db.session.get(Park, staff.park_id) if staff.park_id else None
    tz_name = park.timezone if park else current_app.config["DEFAULT_TIMEZONE"]
    try:
        day = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        day = utcnow().astimezone(ZoneInfo(tz_name)).date()
    report = services.day_report(staff, tz_name, day)
    stats = report["stats"]
    data = {"points": [[p.lat, p.lng, p.recorded_at.isoformat()] for p in report["points"]],
            "stops": [{"lat": s.lat, "lng": s.lng, "from": s.started_at.isoformat(), "to": s.ended_at.isoformat(),
                       "minutes": round(s.minutes)} for s in stats.stops],
            "references": [[lat, lng] for lat, lng in report["references"]], "radius_m": 500,
            "timezone": tz_name}
    days_with_points = _recent_days(staff.id, tz_name)
    return _render("tracks/person.html", staff=staff, day=day, stats=stats, data=data, tz_name=tz_name,
                   days_with_points=days_with_points)


def _recent_days(staff_id: int, tz_name: str) -> list[date]:
    from datetime import timedelta

    from app.tracks.models import TrackPoint

    tz = ZoneInfo(tz_name)
    today = utcnow().astimezone(tz).date()
    found = []
    for back in range(0, 7):
        day = today - timedelta(days=back)
        start, end = services.day_bounds(tz_name, day)
        if db.session.scalar(select(TrackPoint.id).where(TrackPoint.staff_id == staff_id,
                                                         TrackPoint.recorded_at >= start,
                                                         TrackPoint.recorded_at < end).limit(1)):
            found.append(day)
    return found
