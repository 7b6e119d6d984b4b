from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import or_, select

from app.auth.services import SessionLimits, active_sessions
from app.core.labels import label, role_name
from app.core.web import client_ip, paginate, permission_required, show_refusal
from app.extensions import db
from app.staff import services
from app.staff.forms import ResetPasswordForm, RoleForm, StaffEditForm, StaffFilterForm, StaffForm
from app.staff.models import FIELD_LEVELS, Role, RoleKind, Staff
from app.staff.permissions import ACTION_LABELS, areas_for_level, permission_label
from app.tenancy.models import Level
from app.tenancy.scope import current_scope
from app.tenancy.web import node_choices, node_from_key, node_key

bp = Blueprint("staff", __name__)
bp.add_app_template_filter(permission_label, "permission")


def _actor():
    return current_user._get_current_object()


def _account(staff_id):
    """The account a route acts on: inside the scope (else 404) and, by the one rule of
    `services.check_may_act_on`, no stronger than the actor (else 403 with the reason)."""
    staff = current_scope().get_or_404(Staff, staff_id)
    try:
        services.check_may_act_on(_actor(), staff)
    except services.StaffError as exc:
        abort(403, str(exc))
    return staff


@bp.route("/staff")
@permission_required("staff.view")
def list_staff():
    scope = current_scope()
    form = StaffFilterForm(request.args)
    form.role_id.choices = [("", _("Any role"))] + [(r.id, role_name(r)) for r in _visible_roles(scope)]
    stmt = scope.select(Staff).order_by(Staff.username)
    if form.validate():
        if form.q.data:
            like = f"%{form.q.data.strip()}%"
            stmt = stmt.where(or_(Staff.username.ilike(like), Staff.display_name.ilike(like)))
        if form.role_id.data:
            stmt = stmt.where(Staff.role_id == form.role_id.data)
        if form.status.data:
            stmt = stmt.where(Staff.active.is_(form.status.data == "active"))
    page = paginate(stmt)
    manageable = {s.id for s in page.items if services.may_act_on(_actor(), s)}
    return render_template("staff/list.html", page=page, form=form, manageable=manageable)


def _visible_roles(scope):
    return db.session.scalars(select(Role).where(Role.builtin.is_(True) | scope.clause(Role))
                              .order_by(Role.builtin.desc(), Role.name)).all()


def _fill_staff_form(form, scope, actor):
    form.node.choices = node_choices(scope)
    form.role_id.choices = [(r.id, f"{role_name(r)} ({label(r.target_level, 'level')})")
                             for r in services.assignable_roles(actor, scope)]


def _resolve(form, scope, actor):
    """The node and role the form asks for, or None after adding the field error."""
    node = node_from_key(scope, form.node.data)
    role = next((r for r in services.assignable_roles(actor, scope) if r.id == form.role_id.data), None)
    if node is False:
        form.node.errors.append(_("Choose a node inside your part of the tree."))
    if role is None:
        form.role_id.errors.append(_("Choose a role you are allowed to give."))
    return (node, role) if node is not False and role is not None else None


@bp.route("/staff/new", methods=["GET", "POST"])
@permission_required("staff.add")
def new_staff():
    scope, actor = current_scope(), _actor()
    form = StaffForm()
    _fill_staff_form(form, scope, actor)
    if form.validate_on_submit() and (resolved := _resolve(form, scope, actor)):
        try:
            staff = services.create_staff(actor, node=resolved[0], role=resolved[1], username=form.username.data,
                                          display_name=form.display_name.data, password=form.password.data,
                                          phone=form.phone.data, note=form.note.data, ip=client_ip())
        except services.StaffError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Staff account %(name)s created.", name=staff.username), "success")
            return redirect(url_for("staff.list_staff"))
    return render_template("staff/form.html", form=form, staff=None), 400 if form.errors else 200


@bp.route("/staff/<int:staff_id>/edit", methods=["GET", "POST"])
@permission_required("staff.edit")
def edit_staff(staff_id):
    scope, actor = current_scope(), _actor()
    staff = _account(staff_id)
    form = StaffEditForm(obj=staff)
    _fill_staff_form(form, scope, actor)
    if request.method == "GET":
        form.node.data = node_key(staff.anchor_node)
    form.username.data = staff.username
    if form.validate_on_submit() and (resolved := _resolve(form, scope, actor)):
        try:
            services.update_staff(actor, staff, node=resolved[0], role=resolved[1],
                                  display_name=form.display_name.data, phone=form.phone.data,
                                  note=form.note.data, ip=client_ip())
        except services.StaffError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("staff.list_staff"))
    sessions = active_sessions(staff, SessionLimits.of(current_app.config))
    return render_template("staff/form.html", form=form, staff=staff, sessions=len(sessions)), \
        400 if form.errors else 200


@bp.route("/staff/<int:staff_id>/active", methods=["POST"])
@permission_required("staff.delete")
def toggle_staff(staff_id):
    staff = _account(staff_id)
    if FlaskForm().validate_on_submit():
        try:
            services.set_staff_active(_actor(), staff, not staff.active, ip=client_ip())
            db.session.commit()
            flash(_("%(name)s is now %(state)s.", name=staff.username,
                    state=_("active") if staff.active else _("disabled")), "success")
        except services.StaffError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
    return redirect(url_for("staff.list_staff"))


@bp.route("/staff/<int:staff_id>/password", methods=["GET", "POST"])
@permission_required("staff.edit")
def reset_password(staff_id):
    staff = _account(staff_id)
    if staff.id == current_user.id:
        return redirect(url_for("auth.change_password"))  # yours needs your current password
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.reset_password(_actor(), staff, form.new_password.data, ip=client_ip())
        db.session.commit()
        flash(_("Password of %(name)s reset; their sessions have ended.", name=staff.username), "success")
        return redirect(url_for("staff.list_staff"))
    return render_template("staff/password.html", form=form, staff=staff), 400 if form.errors else 200


@bp.route("/staff/<int:staff_id>/sessions/end", methods=["POST"])
@permission_required("staff.edit")
def end_staff_sessions(staff_id):
    staff = _account(staff_id)
    if staff.id == current_user.id:
        return redirect(url_for("auth.change_password"))  # where you end your own
    if FlaskForm().validate_on_submit():
        count = services.end_sessions(_actor(), staff, ip=client_ip())
        db.session.commit()
        flash(_("%(name)s has been signed out of %(count)s session(s).", name=staff.username, count=count), "success")
    return redirect(url_for("staff.edit_staff", staff_id=staff.id))


@bp.route("/roles")
@permission_required("roles.view")
def list_roles():
    roles = _visible_roles(current_scope())
    return render_template("staff/roles.html", roles=roles)


def _fill_role_form(form, scope, actor):
    form.target_level.choices = [(lvl.value, label(lvl, "level")) for lvl in scope.lower_levels()]
    kind = RoleKind(form.kind.data) if form.kind.data in RoleKind._value2member_map_ else RoleKind.ADMIN
    level = Level(form.target_level.data) if form.target_level.data in Level._value2member_map_ else scope.level
    groups = []
    for area in areas_for_level(level, field=kind.is_field):
        groups.append((area, [(code, ACTION_LABELS.get(code.split(".")[1], code)) for code in area.codes()]))
    form.codes.choices = [(c, c) for _area, codes in groups for c, _label in codes]
    return groups, services.grantable_codes(actor, level, kind)


@bp.route("/roles/new", methods=["GET", "POST"])
@permission_required("roles.add")
def new_role():
    return _role_form(None)


@bp.route("/roles/<int:role_id>/edit", methods=["GET", "POST"])
@permission_required("roles.edit")
def edit_role(role_id):
    role = current_scope().get_or_404(Role, role_id)
    return _role_form(role)


def _role_form(role):
    scope, actor = current_scope(), _actor()
    form = RoleForm(obj=role)
    if role is not None and request.method == "GET":
        form.codes.data = sorted(role.codes)
    groups, grantable = _fill_role_form(form, scope, actor)
    if "refresh" not in request.form and form.validate_on_submit():
        try:
            services.save_role(actor, scope, role, name=form.name.data, kind=RoleKind(form.kind.data),
                               target_level=Level(form.target_level.data), codes=set(form.codes.data or []),
                               description=form.description.data, ip=client_ip())
        except services.StaffError as exc:
            show_refusal(form, exc)
        else:
            db.session.commit()
            flash(_("Role saved."), "success")
            return redirect(url_for("staff.list_roles"))
    return render_template("staff/role_form.html", form=form, role=role, groups=groups, grantable=grantable,
                           field_levels=[lvl.value for lvl in FIELD_LEVELS]), 400 if form.errors else 200


@bp.route("/roles/<int:role_id>/active", methods=["POST"])
@permission_required("roles.delete")
def toggle_role(role_id):
    role = current_scope().get_or_404(Role, role_id)
    if FlaskForm().validate_on_submit():
        try:
            services.set_role_active(_actor(), role, not role.active, ip=client_ip())
            db.session.commit()
        except services.StaffError as exc:
            db.session.rollback()
            flash(str(exc), "danger")
    return redirect(url_for("staff.list_roles"))
