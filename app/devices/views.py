"""Pages of handheld POS devices (手持终端 / POS机): approve, edit, revoke, add by hand."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import case, or_

from app.core.web import client_ip, paginate, permission_required, show_refusal
from app.devices import admin
from app.devices.forms import ApproveForm, HandheldEditForm, HandheldFilterForm, HandheldForm
from app.devices.models import Handheld, HandheldStatus
from app.extensions import db
from app.staff.permissions import ADD, DELETE, EDIT, VIEW, PermissionArea, register_area
from app.tenancy.models import Level, Park
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope, node_label

bp = Blueprint("devices", __name__, url_prefix="/street/handhelds")

register_area(PermissionArea("devices", _l("Handhelds and devices"), (VIEW, ADD, EDIT, DELETE)))
add_nav("devices", _l("Handhelds"), "devices.list_handhelds", "devices.view", requires="on_street")

STATUS_ORDER = case({HandheldStatus.PENDING.value: 0, HandheldStatus.APPROVED.value: 1},
                    value=Handheld.status, else_=2)
STATUS_LABELS = {HandheldStatus.PENDING.value: _l("pending"), HandheldStatus.APPROVED.value: _l("approved"),
                 HandheldStatus.REVOKED.value: _l("revoked")}


def _actor():
    return current_user._get_current_object()


def _park_choices(scope, current: Park | None = None):
    parks = scope.nodes(Level.PARK)
    if current is not None and all(p.id != current.id for p in parks):
        parks.append(current)
    return [(p.id, node_label(p)) for p in parks]


@bp.route("")
@permission_required("devices.view")
def list_handhelds():
    scope = current_scope()
    form = HandheldFilterForm(request.args)
    stmt = scope.select(Handheld).order_by(STATUS_ORDER, Handheld.serial)
    if form.validate():
        if form.status.data:
            stmt = stmt.where(Handheld.status == form.status.data)
        if form.q.data:
            like = f"%{form.q.data.strip()}%"
            stmt = stmt.where(or_(Handheld.serial.ilike(like), Handheld.label.ilike(like)))
    pending = db.session.scalar(scope.select(Handheld, db.func.count(Handheld.id))
                                .where(Handheld.status == HandheldStatus.PENDING.value))
    return render_template("devices/list.html", page=paginate(stmt), form=form, pending=pending,
                           status_labels=STATUS_LABELS, node_label=node_label)


@bp.route("/new", methods=["GET", "POST"])
@permission_required("devices.add")
def new_handheld():
    scope = current_scope()
    form = HandheldForm()
    form.park_id.choices = _park_choices(scope)
    if form.validate_on_submit():
        park = scope.get(Park, form.park_id.data)
        try:
            handheld = admin.create_handheld(_actor(), serial=form.serial.data, label=form.label.data, park=park,
                                             ip=client_ip())
        except admin.DeviceError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Handheld %(serial)s registered and approved for %(park)s.", serial=handheld.serial,
                    park=park.name), "success")
            return redirect(url_for("devices.list_handhelds"))
    return render_template("devices/form.html", form=form, handheld=None), 400 if form.errors else 200


@bp.route("/<int:handheld_id>/edit", methods=["GET", "POST"])
@permission_required("devices.edit")
def edit_handheld(handheld_id):
    scope = current_scope()
    handheld = scope.get_or_404(Handheld, handheld_id)
    current_park = db.session.get(Park, handheld.park_id) if handheld.park_id else None
    form = HandheldEditForm(obj=handheld)
    form.park_id.choices = _park_choices(scope, current_park)
    if form.validate_on_submit():
        park = scope.get(Park, form.park_id.data)
        ended = admin.edit(_actor(), handheld, label=form.label.data, park=park, ip=client_ip())
        db.session.commit()
        message = _("Handheld %(serial)s saved.", serial=handheld.serial)
        if ended:
            message += " " + _("%(count)d sign-ins on it were ended.", count=ended)
        flash(message, "success")
        return redirect(url_for("devices.list_handhelds"))
    return render_template("devices/form.html", form=form, handheld=handheld), 400 if form.errors else 200


@bp.route("/<int:handheld_id>/approve", methods=["GET", "POST"])
@permission_required("devices.edit")
def approve_handheld(handheld_id):
    scope = current_scope()
    handheld = scope.get_or_404(Handheld, handheld_id)
    if handheld.status == HandheldStatus.APPROVED.value:
        flash(_("This handheld is approved already."), "info")
        return redirect(url_for("devices.list_handhelds"))
    form = ApproveForm(obj=handheld)
    form.park_id.choices = _park_choices(scope)
    if form.validate_on_submit():
        park = scope.get(Park, form.park_id.data)
        try:
            admin.approve(_actor(), handheld, park, label=form.label.data, ip=client_ip())
        except admin.DeviceError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Handheld %(serial)s approved for %(park)s.", serial=handheld.serial, park=park.name),
                  "success")
            return redirect(url_for("devices.list_handhelds"))
    return render_template("devices/approve.html", form=form, handheld=handheld,
                           anchor=node_label(handheld.anchor_node) if handheld.anchor_node else "—"), \
        400 if form.errors else 200


@bp.route("/<int:handheld_id>/revoke", methods=["POST"])
@permission_required("devices.delete")
def revoke_handheld(handheld_id):
    handheld = current_scope().get_or_404(Handheld, handheld_id)
    if FlaskForm().validate_on_submit():
        try:
            ended = admin.revoke(_actor(), handheld, ip=client_ip())
        except admin.DeviceError as exc:
            db.session.rollback()
            flash(str(exc), "warning")
        else:
            db.session.commit()
            flash(_("Handheld %(serial)s revoked; %(count)d sign-ins on it were ended.", serial=handheld.serial,
                    count=ended), "success")
    return redirect(url_for("devices.list_handhelds"))
