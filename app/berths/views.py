"""Pages of berth segments (泊位段) and berths (泊位)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from app.berths import services
from app.berths.forms import BerthFilterForm, BerthForm, BulkBerthForm, SegmentFilterForm, SegmentForm
from app.berths.models import Berth, BerthSegment
from app.core.web import client_ip, paginate, permission_required, show_refusal
from app.extensions import db
from app.staff.permissions import ADD, DELETE, EDIT, VIEW, PermissionArea, register_area
from app.tenancy.models import Level, Park, ParkKind
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope

bp = Blueprint("berths", __name__, url_prefix="/street")

register_area(PermissionArea("berths", _l("Berth segments and berths"), (VIEW, ADD, EDIT, DELETE)))
add_nav("street", _l("Berth segments"), "berths.list_segments", "berths.view", requires="on_street")
add_nav("street", _l("Berths"), "berths.list_berths", "berths.view", requires="on_street")


def _actor():
    return current_user._get_current_object()


def street_parks(scope, active_only: bool = True) -> list[Park]:
    """On-street parks of the scope (the only ones with berth segments)."""
    return [p for p in scope.nodes(Level.PARK, active_only=active_only) if p.kind == ParkKind.ON_STREET.value]


def _segments(scope, *, active_only: bool = False, park_id: int | None = None) -> list[BerthSegment]:
    stmt = scope.select(BerthSegment).join(Park, Park.id == BerthSegment.park_id)
    if active_only:
        stmt = stmt.where(BerthSegment.active.is_(True), Park.active.is_(True))
    if park_id is not None:
        stmt = stmt.where(BerthSegment.park_id == park_id)
    return list(db.session.scalars(stmt.order_by(Park.name, BerthSegment.name)))


def _segment_label(segment: BerthSegment) -> str:
    return f"{segment.park.name} / {segment.name}"


# --- segments ---------------------------------------------------------------------------------

@bp.route("/segments")
@permission_required("berths.view")
def list_segments():
    scope = current_scope()
    form = SegmentFilterForm(request.args)
    form.park_id.choices = [("", _("Any park"))] + [(p.id, p.name) for p in street_parks(scope, False)]
    stmt = scope.select(BerthSegment).join(Park, Park.id == BerthSegment.park_id) \
        .order_by(Park.name, BerthSegment.name)
    if form.validate():
        if form.park_id.data:
            stmt = stmt.where(BerthSegment.park_id == form.park_id.data)
        if form.q.data:
            stmt = stmt.where(BerthSegment.name.ilike(f"%{form.q.data.strip()}%"))
        if form.status.data:
            stmt = stmt.where(BerthSegment.active.is_(form.status.data == "active"))
    page = paginate(stmt)
    counts = services.segment_counts(s.id for s in page.items)
    return render_template("berths/segments.html", page=page, form=form, counts=counts)


def _segment_form(segment=None):
    scope = current_scope()
    form = SegmentForm(obj=segment)
    parks = street_parks(scope)
    if segment is not None and all(p.id != segment.park_id for p in parks):
        parks.append(segment.park)  # a disabled park stays selectable for its own segments
    form.park_id.choices = [(p.id, p.name) for p in parks]
    if form.validate_on_submit():
        park = scope.get(Park, form.park_id.data)
        try:
            saved = services.save_segment(_actor(), segment or BerthSegment(), park=park, name=form.name.data,
                                          address=form.address.data, latitude=form.latitude.data,
                                          longitude=form.longitude.data, ip=client_ip())
        except services.BerthError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Segment “%(name)s” saved.", name=saved.name), "success")
            return redirect(url_for("berths.list_segments"))
    return render_template("berths/segment_form.html", form=form, segment=segment), 400 if form.errors else 200


@bp.route("/segments/new", methods=["GET", "POST"])
@permission_required("berths.add")
def new_segment():
    return _segment_form()


@bp.route("/segments/<int:segment_id>/edit", methods=["GET", "POST"])
@permission_required("berths.edit")
def edit_segment(segment_id):
    return _segment_form(current_scope().get_or_404(BerthSegment, segment_id))


@bp.route("/segments/<int:segment_id>/active", methods=["POST"])
@permission_required("berths.delete")
def toggle_segment(segment_id):
    segment = current_scope().get_or_404(BerthSegment, segment_id)
    if FlaskForm().validate_on_submit():
        services.set_segment_active(_actor(), segment, not segment.active, ip=client_ip())
        db.session.commit()
        flash(_("Segment “%(name)s” is now %(state)s.", name=segment.name,
                state=_("active") if segment.active else _("disabled")), "success")
    return redirect(url_for("berths.list_segments"))


# --- berths -----------------------------------------------------------------------------------

@bp.route("/berths")
@permission_required("berths.view")
def list_berths():
    scope = current_scope()
    form = BerthFilterForm(request.args)
    form.park_id.choices = [("", _("Any park"))] + [(p.id, p.name) for p in street_parks(scope, False)]
    form.segment_id.choices = [("", _("Any segment"))] + [(s.id, _segment_label(s)) for s in _segments(scope)]
    stmt = scope.select(Berth).join(BerthSegment, BerthSegment.id == Berth.segment_id) \
        .order_by(Berth.park_id, BerthSegment.name, Berth.number)
    if form.validate():
        if form.park_id.data:
            stmt = stmt.where(Berth.park_id == form.park_id.data)
        if form.segment_id.data:
            stmt = stmt.where(Berth.segment_id == form.segment_id.data)
        if form.q.data:
            stmt = stmt.where(Berth.number.ilike(f"%{form.q.data.strip()}%"))
        if form.status.data:
            stmt = stmt.where(Berth.active.is_(form.status.data == "active"))
        if form.occupancy.data:
            occupied = services.occupied_clause()
            stmt = stmt.where(occupied if form.occupancy.data == "occupied" else ~occupied)
    page = paginate(stmt)
    orders = services.open_orders_by_berth(b.id for b in page.items)
    return render_template("berths/berths.html", page=page, form=form, orders=orders)


@bp.route("/berths/bulk", methods=["GET", "POST"])
@permission_required("berths.add")
def bulk_berths():
    scope = current_scope()
    form = BulkBerthForm()
    form.segment_id.choices = [(s.id, _segment_label(s)) for s in _segments(scope, active_only=True)]
    if request.method == "GET" and request.args.get("segment_id", "").isdigit():
        form.segment_id.data = int(request.args["segment_id"])
    if form.validate_on_submit():
        segment = scope.get(BerthSegment, form.segment_id.data)
        try:
            numbers = services.expand_range(form.expression.data, prefix=form.prefix.data,
                                            start=form.start.data, end=form.end.data, width=form.width.data)
            berths = services.bulk_create_berths(_actor(), segment, numbers, ip=client_ip())
        except services.BerthError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("%(count)d berths created in “%(segment)s”.", count=len(berths), segment=segment.name),
                  "success")
            return redirect(url_for("berths.list_berths", segment_id=segment.id))
    return render_template("berths/bulk.html", form=form, max_bulk=services.MAX_BULK), 400 if form.errors else 200


@bp.route("/berths/<int:berth_id>/edit", methods=["GET", "POST"])
@permission_required("berths.edit")
def edit_berth(berth_id):
    scope = current_scope()
    berth = scope.get_or_404(Berth, berth_id)
    form = BerthForm(obj=berth)
    segments = _segments(scope, park_id=berth.park_id)
    form.segment_id.choices = [(s.id, s.name + ("" if s.active else f" ({_('disabled')})")) for s in segments]
    if form.validate_on_submit():
        segment = scope.get(BerthSegment, form.segment_id.data)
        try:
            services.update_berth(_actor(), berth, number=form.number.data, segment=segment, ip=client_ip())
        except services.BerthError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Berth %(number)s saved.", number=berth.number), "success")
            return redirect(url_for("berths.list_berths", segment_id=berth.segment_id))
    order = services.open_orders_by_berth([berth.id]).get(berth.id)
    return render_template("berths/berth_form.html", form=form, berth=berth, order=order), \
        400 if form.errors else 200


@bp.route("/berths/<int:berth_id>/active", methods=["POST"])
@permission_required("berths.delete")
def toggle_berth(berth_id):
    berth = current_scope().get_or_404(Berth, berth_id)
    if FlaskForm().validate_on_submit():
        services.set_berth_active(_actor(), berth, not berth.active, ip=client_ip())
        db.session.commit()
        flash(_("Berth %(number)s is now %(state)s.", number=berth.number,
                state=_("active") if berth.active else _("disabled")), "success")
    return redirect(url_for("berths.list_berths", segment_id=berth.segment_id))
