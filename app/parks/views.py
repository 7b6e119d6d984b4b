"""Park parameter pages: collector settings (收费设置), free-release reasons (免费原因), work hours (上班时间)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from app.core.labels import role_name
from app.core.web import client_ip, paginate, permission_required, show_refusal
from app.extensions import db
from app.parks import services
from app.parks.forms import (
    CollectorSettingsForm,
    FreeReasonFilterForm,
    FreeReasonForm,
    OverrideForm,
    WorkHoursFilterForm,
    WorkHoursForm,
)
from app.parks.models import CollectorSettings, FreeReason
from app.shifts.models import WorkHours
from app.staff.models import Role
from app.staff.permissions import EDIT, VIEW, PermissionArea, register_area
from app.tenancy.forms import NodeFilterForm
from app.tenancy.models import Level, Park
from app.tenancy.navigation import add_nav
from app.tenancy.scope import current_scope

bp = Blueprint("parks", __name__, url_prefix="/park-settings")

register_area(PermissionArea("park_settings", _l("Park settings"), (VIEW, EDIT)))
add_nav("park_settings", _l("Collector settings"), "parks.list_collector_settings", "park_settings.view")
add_nav("park_settings", _l("Free-release reasons"), "parks.list_free_reasons", "park_settings.view")
add_nav("park_settings", _l("Work hours"), "parks.list_work_hours", "park_settings.view")


def _actor():
    return current_user._get_current_object()


def _park_choices(scope, current_id: int | None = None):
    parks = scope.nodes(Level.PARK)
    if current_id is not None and all(p.id != current_id for p in parks):
        parks.append(scope.get(Park, current_id))
    return [(p.id, p.name) for p in parks if p is not None]


def _role_label(role: Role) -> str:
    """As services.role_label, with a built-in role's name in the reader's language."""
    kind = _("collector") if role.kind == "collector" else _("inspector")
    level = _("park staff") if role.target_level == Level.PARK.value else _("group staff")
    return f"{role_name(role)} ({kind}, {level})"


def _role_choices(scope, current: Role | None = None):
    roles = services.field_roles(scope)
    if current is not None and all(r.id != current.id for r in roles):
        roles.append(current)
    return [(r.id, _role_label(r)) for r in roles]


# --- collector settings -----------------------------------------------------------------------

@bp.route("/collector")
@permission_required("park_settings.view")
def list_collector_settings():
    scope = current_scope()
    form = NodeFilterForm(request.args)
    stmt = scope.select(Park).order_by(Park.name)
    if form.validate():
        if form.q.data:
            stmt = stmt.where(Park.name.ilike(f"%{form.q.data.strip()}%"))
        if form.status.data:
            stmt = stmt.where(Park.active.is_(form.status.data == "active"))
    page = paginate(stmt)
    ids = [p.id for p in page.items]
    base = {row.park_id: row for row in db.session.scalars(
        select(CollectorSettings).where(CollectorSettings.park_id.in_(ids), CollectorSettings.role_id.is_(None)))}
    overrides = dict(db.session.execute(
        select(CollectorSettings.park_id, func.count(CollectorSettings.id))
        .where(CollectorSettings.park_id.in_(ids), CollectorSettings.role_id.is_not(None))
        .group_by(CollectorSettings.park_id)).all()) if ids else {}
    return render_template("parks/collector_list.html", page=page, form=form, base=base, overrides=overrides,
                           defaults=services.defaults(), presets_text=services.presets_text)


def _settings_form(park: Park, row: CollectorSettings, *, with_role: bool = False):
    scope = current_scope()
    form = (OverrideForm if with_role else CollectorSettingsForm)(obj=row)
    if with_role:
        form.role_id.choices = [(r, label) for r, label in _role_choices(scope)
                                if services.role_fits_park(db.session.get(Role, r), park)]
    if request.method == "GET":
        form.prepay_presets.data = services.presets_text(row.prepay_presets)
    if form.validate_on_submit():
        if with_role:
            row = services.settings_for(park, form.role_id.data)
            if row.id is not None:
                form.role_id.errors = list(form.role_id.errors) + [
                    _("This role has its own settings already; edit them.")]
        if not form.errors:
            values = {f: getattr(form, f).data for f in services.SETTINGS_FIELDS}
            try:
                services.save_settings(_actor(), row, values, signout_password=form.signout_password.data or None,
                                       clear_signout=form.clear_signout_password.data, ip=client_ip())
            except services.SettingsError as exc:
                show_refusal(form, exc)
            else:
                db.session.commit()
                flash(_("Collector settings of %(park)s saved.", park=park.name), "success")
                return redirect(url_for("parks.park_collector_settings", park_id=park.id))
    role = db.session.get(Role, row.role_id) if row.role_id else None
    overrides = [] if with_role or row.role_id else db.session.scalars(
        select(CollectorSettings).where(CollectorSettings.park_id == park.id,
                                        CollectorSettings.role_id.is_not(None)).order_by(CollectorSettings.id)).all()
    return render_template("parks/collector_form.html", form=form, park=park, row=row, role=role,
                           overrides=overrides, role_label=_role_label, with_role=with_role,
                           roles={r.id: r for r in db.session.scalars(
                               select(Role).where(Role.id.in_([o.role_id for o in overrides])))}), \
        400 if form.errors else 200


@bp.route("/collector/park/<int:park_id>", methods=["GET", "POST"])
@permission_required("park_settings.view")
def park_collector_settings(park_id):
    park = current_scope().get_or_404(Park, park_id)
    if request.method == "POST" and not current_user.can("park_settings.edit"):
        abort(403)
    return _settings_form(park, services.settings_for(park))


@bp.route("/collector/park/<int:park_id>/override", methods=["GET", "POST"])
@permission_required("park_settings.edit")
def new_collector_override(park_id):
    park = current_scope().get_or_404(Park, park_id)
    return _settings_form(park, services.settings_for(park), with_role=True)


@bp.route("/collector/<int:settings_id>", methods=["GET", "POST"])
@permission_required("park_settings.edit")
def edit_collector_settings(settings_id):
    row = current_scope().get_or_404(CollectorSettings, settings_id)
    return _settings_form(db.session.get(Park, row.park_id), row)


@bp.route("/collector/<int:settings_id>/delete", methods=["POST"])
@permission_required("park_settings.edit")
def delete_collector_settings(settings_id):
    row = current_scope().get_or_404(CollectorSettings, settings_id)
    park_id = row.park_id
    if FlaskForm().validate_on_submit():
        try:
            services.delete_override(_actor(), row, ip=client_ip())
        except services.SettingsError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        else:
            db.session.commit()
            flash(_("The role's own settings were removed; it follows the park's settings again."), "success")
    return redirect(url_for("parks.park_collector_settings", park_id=park_id))


# --- free-release reasons ---------------------------------------------------------------------

@bp.route("/free-reasons")
@permission_required("park_settings.view")
def list_free_reasons():
    scope = current_scope()
    form = FreeReasonFilterForm(request.args)
    form.park_id.choices = [("", _("Any park"))] + _park_choices(scope)
    stmt = scope.select(FreeReason).join(Park, Park.id == FreeReason.park_id).order_by(Park.name, FreeReason.name)
    if form.validate():
        if form.park_id.data:
            stmt = stmt.where(FreeReason.park_id == form.park_id.data)
        if form.q.data:
            stmt = stmt.where(FreeReason.name.ilike(f"%{form.q.data.strip()}%"))
        if form.status.data:
            stmt = stmt.where(FreeReason.active.is_(form.status.data == "active"))
    page = paginate(stmt)
    parks = {p.id: p for p in db.session.scalars(select(Park).where(Park.id.in_({r.park_id for r in page.items})))}
    return render_template("parks/free_reasons.html", page=page, form=form, parks=parks)


def _free_reason_form(reason=None):
    scope = current_scope()
    form = FreeReasonForm(obj=reason)
    form.park_id.choices = _park_choices(scope, reason.park_id if reason else None)
    if request.method == "GET" and reason is None and request.args.get("park_id", "").isdigit():
        form.park_id.data = int(request.args["park_id"])
    if form.validate_on_submit():
        park = scope.get(Park, form.park_id.data)
        try:
            saved = services.save_free_reason(_actor(), reason or FreeReason(), park=park, name=form.name.data,
                                              ip=client_ip())
        except services.SettingsError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Reason “%(name)s” saved.", name=saved.name), "success")
            return redirect(url_for("parks.list_free_reasons"))
    return render_template("parks/simple_form.html", form=form, obj=reason, form_id="reason-form",
                           title=_("Free-release reasons"),
                           heading=_("Edit reason “%(name)s”", name=reason.name) if reason else _("New reason"),
                           back=url_for("parks.list_free_reasons")), 400 if form.errors else 200


@bp.route("/free-reasons/new", methods=["GET", "POST"])
@permission_required("park_settings.edit")
def new_free_reason():
    return _free_reason_form()


@bp.route("/free-reasons/<int:reason_id>/edit", methods=["GET", "POST"])
@permission_required("park_settings.edit")
def edit_free_reason(reason_id):
    return _free_reason_form(current_scope().get_or_404(FreeReason, reason_id))


@bp.route("/free-reasons/<int:reason_id>/active", methods=["POST"])
@permission_required("park_settings.edit")
def toggle_free_reason(reason_id):
    reason = current_scope().get_or_404(FreeReason, reason_id)
    if FlaskForm().validate_on_submit():
        services.set_free_reason_active(_actor(), reason, not reason.active, ip=client_ip())
        db.session.commit()
        flash(_("Reason “%(name)s” is now %(state)s.", name=reason.name,
                state=_("active") if reason.active else _("disabled")), "success")
    return redirect(url_for("parks.list_free_reasons"))


# --- work hours -------------------------------------------------------------------------------

@bp.route("/work-hours")
@permission_required("park_settings.view")
def list_work_hours():
    scope = current_scope()
    form = WorkHoursFilterForm(request.args)
    form.park_id.choices = [("", _("Any park"))] + _park_choices(scope)
    form.role_id.choices = [("", _("Any role"))] + _role_choices(scope)
    stmt = scope.select(WorkHours).join(Park, Park.id == WorkHours.park_id).order_by(Park.name, WorkHours.starts_at)
    if form.validate():
        if form.park_id.data:
            stmt = stmt.where(WorkHours.park_id == form.park_id.data)
        if form.role_id.data:
            stmt = stmt.where(WorkHours.role_id == form.role_id.data)
    page = paginate(stmt)
    parks = {p.id: p for p in db.session.scalars(select(Park).where(Park.id.in_({h.park_id for h in page.items})))}
    return render_template("parks/work_hours.html", page=page, form=form, parks=parks,
                           role_label=_role_label)


def _work_hours_form(hours=None):
    scope = current_scope()
    form = WorkHoursForm(obj=hours)
    form.park_id.choices = _park_choices(scope, hours.park_id if hours else None)
    form.role_id.choices = _role_choices(scope, hours.role if hours else None)
    if form.validate_on_submit():
        park = scope.get(Park, form.park_id.data)
        role = db.session.get(Role, form.role_id.data)  # one of the choices, which come from the scope
        try:
            services.save_work_hours(_actor(), hours or WorkHours(), park=park, role=role,
                                     starts_at=form.starts_at.data, ends_at=form.ends_at.data,
                                     grace_minutes=form.grace_minutes.data, ip=client_ip())
        except services.SettingsError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Work hours of %(role)s at %(park)s saved.", role=role_name(role), park=park.name), "success")
            return redirect(url_for("parks.list_work_hours"))
    return render_template("parks/simple_form.html", form=form, obj=hours, form_id="hours-form",
                           title=_("Work hours"),
                           heading=_("Edit work hours") if hours else _("New work hours"),
                           back=url_for("parks.list_work_hours"),
                           intro=_("The duty window of a collector or inspector role at a park, in the park's "
                                   "local time. Signing in later than start + grace counts as late.")), \
        400 if form.errors else 200


@bp.route("/work-hours/new", methods=["GET", "POST"])
@permission_required("park_settings.edit")
def new_work_hours():
    return _work_hours_form()


@bp.route("/work-hours/<int:hours_id>/edit", methods=["GET", "POST"])
@permission_required("park_settings.edit")
def edit_work_hours(hours_id):
    return _work_hours_form(current_scope().get_or_404(WorkHours, hours_id))


@bp.route("/work-hours/<int:hours_id>/delete", methods=["POST"])
@permission_required("park_settings.edit")
def delete_work_hours(hours_id):
    hours = current_scope().get_or_404(WorkHours, hours_id)
    if FlaskForm().validate_on_submit():
        services.delete_work_hours(_actor(), hours, ip=client_ip())
        db.session.commit()
        flash(_("Work hours deleted."), "success")
    return redirect(url_for("parks.list_work_hours"))
