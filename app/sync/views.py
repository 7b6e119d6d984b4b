"""Admin pages of the on-site link (现场服务器): status per park, secret, feed position, uploads, commands."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from app.core.types import utcnow
from app.core.web import client_ip, paginate, permission_required, show_refusal
from app.dashboard.alerts import AlertKind, Found, count_of, register_alert
from app.extensions import db
from app.staff.permissions import COMMAND, EDIT, VIEW, PermissionArea, register_area
from app.sync import services
from app.sync.forms import CommandForm, LinkFilterForm
from app.sync.models import BarrierCommand, LaneUpload, SiteServer
from app.tenancy.models import Park, ParkKind
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope

bp = Blueprint("sync", __name__, url_prefix="/site-link")

register_area(PermissionArea("site_link", _l("On-site link"), (VIEW, EDIT, COMMAND)))
add_nav("off_street", _l("On-site link"), "sync.list_links", "site_link.view", requires="off_street")


def _links_down(scope, now) -> Found:
    total, down = count_of(SiteServer, scope, services.link_down(now))
    return Found(down, total > 0, {"status": "down"})


register_alert(AlertKind("links-down", _l("On-site links down"), "sync.list_links", "site_link.view", _links_down))


def _actor():
    return current_user._get_current_object()


def _off_street_park(park_id: int) -> Park:
    park = current_scope().get_or_404(Park, park_id)
    if park.kind != ParkKind.OFF_STREET.value:
        abort(404)
    return park


@bp.route("/")
@permission_required("site_link.view")
def list_links():
    scope = current_scope()
    form = LinkFilterForm(request.args)
    stmt = scope.select(Park).where(Park.kind == ParkKind.OFF_STREET.value).order_by(Park.name)
    if form.validate() and form.q.data:
        stmt = stmt.where(Park.name.ilike(f"%{form.q.data.strip()}%"))
    if form.status.data == "down":
        stmt = stmt.where(Park.id.in_(select(SiteServer.park_id).where(services.link_down(utcnow()))))
    page = paginate(stmt)
    ids = [p.id for p in page.items]
    sites = {s.park_id: s for s in db.session.scalars(select(SiteServer).where(SiteServer.park_id.in_(ids)))}
    refused = dict(db.session.execute(
        select(LaneUpload.park_id, func.count()).where(LaneUpload.park_id.in_(ids), LaneUpload.status == "refused")
        .group_by(LaneUpload.park_id)).all()) if ids else {}
    return render_template("sync/list.html", page=page, form=form, sites=sites, refused=refused,
                           statuses=services.link_statuses(sites.values(), utcnow()))


def _lanes(park: Park) -> list:
    from app.lanes.models import Lane

    return db.session.scalars(select(Lane).where(Lane.park_id == park.id, Lane.active.is_(True))
                              .order_by(Lane.name)).all()


def _detail(park: Park, *, secret: str | None = None, form: CommandForm | None = None, status: int = 200):
    from app.lanes.services import lane_states

    site, now = services.site_of(park.id), utcnow()
    link = services.link_status(site, now)
    lanes = _lanes(park)
    form = form or CommandForm()
    form.lane_id.choices = [(lane.id, lane.name) for lane in lanes]
    kind = request.args.get("kind") if request.args.get("kind") in ("entry", "exit", "settlement", "lift",
                                                                     "pass_sale") else None
    uploads_stmt = select(LaneUpload).where(LaneUpload.park_id == park.id)
    if request.args.get("refused"):
        uploads_stmt = uploads_stmt.where(LaneUpload.status == "refused")
    if kind:
        uploads_stmt = uploads_stmt.where(LaneUpload.kind == kind)
    uploads = db.session.scalars(uploads_stmt.order_by(LaneUpload.received_at.desc(), LaneUpload.id.desc())
                                 .limit(50)).all()
    commands = db.session.scalars(select(BarrierCommand).where(BarrierCommand.park_id == park.id)
                                  .order_by(BarrierCommand.id.desc()).limit(20)).all()
    return render_template("sync/detail.html", park=park, site=site, link=link, secret=secret, form=form,
                           uploads=uploads, commands=commands, lanes={lane.id: lane.name for lane in lanes},
                           lane_rows=lanes, lane_states=lane_states(lanes, now),
                           command_refusal=services.command_refusal(link), kind=kind), status


@bp.route("/park/<int:park_id>")
@permission_required("site_link.view")
def park_link(park_id):
    return _detail(_off_street_park(park_id))


@bp.route("/park/<int:park_id>/secret", methods=["POST"])
@permission_required("site_link.edit")
def new_secret(park_id):
    """Create the site server or rotate its secret; the secret is shown on this answer only."""
    park = _off_street_park(park_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    site = services.site_of(park.id)
    if site is None:
        site, secret = services.create_site_server(_actor(), park, ip=client_ip())
    else:
        secret = services.rotate_secret(_actor(), site, ip=client_ip())
    db.session.commit()
    flash(_("Copy the secret now: it is not shown again."), "warning")
    response = _detail(park, secret=secret)
    return response[0], 200, {"Cache-Control": "no-store"}


@bp.route("/park/<int:park_id>/commands", methods=["POST"])
@permission_required("site_link.command")
def new_command(park_id):
    park = _off_street_park(park_id)
    form = CommandForm()
    form.lane_id.choices = [(lane.id, lane.name) for lane in _lanes(park)]
    if form.validate_on_submit():
        from app.lanes.models import Lane

        lane = current_scope().get_or_404(Lane, form.lane_id.data)
        try:
            services.queue_command(_actor(), lane, form.action.data, form.reason.data, ip=client_ip())
        except services.LinkError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("The command waits for the site's next pull."), "success")
            return redirect(url_for("sync.park_link", park_id=park.id))
    return _detail(park, form=form, status=400)
